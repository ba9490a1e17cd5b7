{{ config(materialized='incremental', unique_key='record_key', full_refresh=false, on_schema_change='append_new_columns') }}

-- depends_on: {{ ref('stg_ops__activation_state') }}

{#
    When someone other than Puente last changed each customer record, kept from night to night
    (incremental over its own previous state, never fully refreshed, like int_customer_ids).

    A source's last-modified time (`updated_at`: HubSpot's `lastmodifieddate`, Salesforce's
    `LastModifiedDate`, Odoo's `write_date`) also moves when Puente itself writes to the record:
    the activations' churn scores and service dates on CRM contacts, and the tasks tied to them.
    Those writes touch only Puente's own fields (`puente_*`, `Puente_*__c`), never what a
    customer record is read for here. So a record's change is a change of its content (every
    column of int_customer_records_unioned the golden record, identity or consent reads, as a
    hash), dated by the source's `updated_at` on the build that first saw that content:
      - `content_changed_at`: when its current content was first seen; dim_customers' owned
        fields break ties within a system by it (macro owned_field), so a write of Puente's to
        two duplicate contacts at the same instant changes no field and no `*_source`;
      - `marketing_consent_changed_at`, `processing_authorisation_changed_at`: when the record's
        current marketing consent (true, false or none), and its authorisation to process the
        person's data, were first seen: the date of a signal its source does not date
        (customer_authorisations, Habeas Data), which only the person's (or the business's)
        change of that signal moves.
    A change made after one build and followed by a write of Puente's before the next is dated
    by that write (the source keeps only its latest last-modified time): later than the change,
    never earlier, and only for a record whose content did change.

    The first time a record is seen its content has no earlier version: it is dated by its
    `updated_at`, unless Puente had by then written to that record (ops.activation_state, macro
    crm_contact_writes: a warehouse rebuilt, or this table new in one Puente already wrote from),
    when its last-modified time may be Puente's own: then by the record's creation
    (`created_at`), a time no write of Puente's moves.
#}

with

records as (
    select
        record_key,
        record_type,
        source_record_id,
        md5(jsonb_build_array(
            full_name, is_company, email_normalized, phone_normalized, other_phone_normalized, tax_id, street, city,
            country_code,
            has_marketing_consent, extract(epoch from marketing_consent_at), has_processing_authorisation
        )::text) as content_hash,
        has_marketing_consent,
        has_processing_authorisation,
        created_at,
        updated_at
    from {{ ref('int_customer_records_unioned') }}
),

puente_writes as (
    select distinct contact_id from ({{ crm_contact_writes() }}) as writes
),

previous as (
    {% if is_incremental() %}
    select * from {{ this }}
    {% else %}
    select
        null::text as record_key, null::text as content_hash, null::timestamptz as content_changed_at,
        null::boolean as has_marketing_consent, null::timestamptz as marketing_consent_changed_at,
        null::boolean as has_processing_authorisation, null::timestamptz as processing_authorisation_changed_at
    where false
    {% endif %}
),

dated as (
    select
        records.*,
        previous.record_key is not null as was_seen,
        previous.content_hash as previous_content_hash,
        previous.content_changed_at as previous_content_changed_at,
        previous.has_marketing_consent as previous_marketing_consent,
        previous.marketing_consent_changed_at as previous_marketing_consent_changed_at,
        previous.has_processing_authorisation as previous_processing_authorisation,
        previous.processing_authorisation_changed_at as previous_processing_authorisation_changed_at,
        -- when a change first seen now happened
        case
            when previous.record_key is not null then records.updated_at
            when puente_writes.contact_id is not null then records.created_at
            else records.updated_at
        end as changed_at
    from records
    left join previous
        on records.record_key = previous.record_key
    left join puente_writes
        on records.record_type in {{ crm_contact_record_types() }}
        and records.source_record_id = puente_writes.contact_id
),

final as (
    select
        record_key,
        content_hash,
        case
            when was_seen and content_hash = previous_content_hash then previous_content_changed_at
            else changed_at
        end as content_changed_at,
        has_marketing_consent,
        case
            when was_seen and has_marketing_consent is not distinct from previous_marketing_consent
                then previous_marketing_consent_changed_at
            else changed_at
        end as marketing_consent_changed_at,
        has_processing_authorisation,
        case
            when was_seen and has_processing_authorisation is not distinct from previous_processing_authorisation
                then previous_processing_authorisation_changed_at
            else changed_at
        end as processing_authorisation_changed_at,
        now() as checked_at
    from dated
)

select * from final
