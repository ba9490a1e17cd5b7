{#
    What each customer record brought to pairing when int_customer_pairs_scored last scored: the
    hash of every field the comparisons read (macro pairing_input_hash) and each value the record
    can be found by (macro pairing_key_rows). The next night's pairs model reads it, by its name, to
    score again only the pairs of the records that changed and of those sharing a value with them,
    before or after the change. The index on pairing_keys is how that model finds the holders of a
    value without deriving every record's values again.

    Incremental by record: a night writes the rows of the records new or changed since (their hash
    differs from the row's) and deletes those of the records gone, so that neither the values of
    every record nor the index over them are made again (about 2.5 and 2.8 s of a night at 100,000
    customers). Each build then names, in the table's comment (`scoring_run=<run>`), the pairs'
    build it follows (int_customer_pairs_scored.scoring_run): a night stopped between the two
    models leaves the comment naming an older build, and the next night scores every pair.
#}

{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['pairing_keys'], 'type': 'gin'}],
    post_hook=[
        "delete from {{ this }} as kept where not exists (
            select 1 from {{ ref('int_customer_records_unioned') }} as records where records.record_key = kept.record_key)",
        "do $$ begin execute format('comment on table {{ this }} is %L',
            'scoring_run=' || (select scoring_run from {{ ref('int_customer_pairs_scored') }} limit 1)); end $$",
    ],
) }}

-- (built after the pairs it records: {{ ref('int_customer_pairs_scored') }})

with

records as (
    select records.*, {{ pairing_input_hash('records') }} as input_hash
    from {{ ref('int_customer_records_unioned') }} as records
),

-- the records new or changed since the last build (all of them on a first build or a full refresh)
recorded as (
    select * from records
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as kept
        where kept.record_key = records.record_key and kept.input_hash = records.input_hash
    )
    {%- endif %}
),

key_rows as (
    {{ pairing_key_rows('recorded') }}
),

record_keys as (
    select record_key, array_agg(distinct key order by key) as pairing_keys
    from key_rows
    group by record_key
)

select
    recorded.record_key,
    recorded.input_hash,
    coalesce(record_keys.pairing_keys, '{}') as pairing_keys,
    {{ pairing_holder('recorded') }} as holder
from recorded
left join record_keys on recorded.record_key = record_keys.record_key
