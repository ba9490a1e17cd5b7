{#
    What each customer record brought to pairing when int_customer_pairs_scored last scored: the
    hash of every field the comparisons read (macro pairing_input_hash) and each value the record
    can be found by (macro pairing_key_rows), with that build's scoring_run. The next night's pairs
    model reads it, by its name, to score again only the pairs of the records that changed and of
    those sharing a value with them, before or after the change. A build of it that does not follow
    the pairs' own (a night stopped between the two) carries another scoring_run, and the next
    night then scores every pair. The index on pairing_keys is how that model finds the holders of
    a value without deriving every record's values again.
#}

{{ config(post_hook=["create index on {{ this }} using gin (pairing_keys)"]) }}

with

records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

key_rows as (
    {{ pairing_key_rows('records') }}
),

record_keys as (
    select record_key, array_agg(distinct key order by key) as pairing_keys
    from key_rows
    group by record_key
)

select
    records.record_key,
    {{ pairing_input_hash('records') }} as input_hash,
    coalesce(record_keys.pairing_keys, '{}') as pairing_keys,
    {{ pairing_holder('records') }} as holder,
    (select scoring_run from {{ ref('int_customer_pairs_scored') }} limit 1) as scoring_run
from records
left join record_keys on records.record_key = record_keys.record_key
