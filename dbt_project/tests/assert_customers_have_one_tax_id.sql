{#
    Warns when a customer gathers records with different valid tax ids: two people linked through
    a chain of other keys (the shared-key guard only looks at one key at a time). Two ids one swap
    of neighbouring digits apart with one check digit count as one (one of them mistyped). Look at the
    records of the customer in int_customers_matched to see which key joined them.
#}
{{ config(severity='warn') }}

with valid as (
    select customer_id, record_key, tax_id_normalized, tax_id_is_valid, tax_id_body, tax_id_swapped_bodies
    from {{ ref('int_customers_matched') }}
    where tax_id_normalized is not null
),

-- a valid id that another of the customer's gives with two neighbouring digits swapped and the same
-- check digit: one id mistyped (a swap its check digit cannot catch; marts.data_issues names both),
-- counted once, as the smaller of the two
siblings as (
    select valid.record_key, min(other.tax_id_normalized) as sibling
    from valid
    inner join valid as other
        on valid.customer_id = other.customer_id
        and {{ tax_ids_one_swap_apart('valid', 'other') }}
    group by valid.record_key
)

select
    valid.customer_id,
    array_agg(distinct valid.tax_id_normalized) as tax_ids
from valid
left join siblings on valid.record_key = siblings.record_key
group by valid.customer_id
having count(distinct least(valid.tax_id_normalized, siblings.sibling)) > 1
