{#
    Identity resolution: every customer record (int_customer_records_unioned) with the
    customer it belongs to. Records are linked by the rules of int_customer_match_evidence
    (deterministic keys, a scored fuzzy name + phone match, operator merges and splits),
    closed transitively in int_customer_clusters; the customer id comes from
    int_customer_ids, which keeps ids stable from night to night. When someone other than
    Puente last changed each record, and each of its consent signals, comes from
    int_customer_record_changes (`content_changed_at`, `marketing_consent_changed_at`,
    `processing_authorisation_changed_at`): `updated_at` also moves with Puente's own writes.
#}

with

records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

clusters as (
    select * from {{ ref('int_customer_clusters') }}
),

ids as (
    select * from {{ ref('int_customer_ids') }}
),

changes as (
    select * from {{ ref('int_customer_record_changes') }}
),

matched as (
    select
        ids.customer_id,
        records.*,
        clusters.cluster_record_key,
        clusters.cluster_size,
        changes.content_changed_at,
        changes.marketing_consent_changed_at,
        changes.processing_authorisation_changed_at
    from records
    inner join clusters
        on records.record_key = clusters.record_key
    inner join ids
        on records.record_key = ids.record_key
    inner join changes
        on records.record_key = changes.record_key
)

select * from matched
