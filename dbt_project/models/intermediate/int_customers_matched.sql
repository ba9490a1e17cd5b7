{#
    Identity resolution: every customer record (int_customer_records_unioned) with the
    customer it belongs to. Records are linked by the rules of int_customer_match_evidence
    (deterministic keys, a scored fuzzy name + phone match, operator merges and splits),
    closed transitively in int_customer_clusters; the customer id comes from
    int_customer_ids, which keeps ids stable from night to night.
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

matched as (
    select
        ids.customer_id,
        records.*,
        clusters.cluster_record_key,
        clusters.cluster_size
    from records
    inner join clusters
        on records.record_key = clusters.record_key
    inner join ids
        on records.record_key = ids.record_key
)

select * from matched
