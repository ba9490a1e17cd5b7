{#
    Warns when a customer gathers records with different tax ids: two people linked through a
    chain of other keys (the shared-key guard only looks at one key at a time). Look at the
    records of the customer in int_customers_matched to see which key joined them.
#}
{{ config(severity='warn') }}

select
    customer_id,
    array_agg(distinct tax_id_normalized) as tax_ids
from {{ ref('int_customers_matched') }}
where tax_id_normalized is not null
group by customer_id
having count(distinct tax_id_normalized) > 1
