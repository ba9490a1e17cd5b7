{#
    marts.customer_authorisations holds exactly one row per customer of dim_customers and purpose
    of var `authorisation_purposes`, and no other row. A row here is a customer with a purpose
    missing or doubled, or a row of a purpose not on the list. Each listed purpose is counted on its
    own (counting distinct purposes, as this check first did, let one off the list stand in for a
    missing one).
#}

{%- set purposes = var('authorisation_purposes') %}

select
    customers.customer_id,
    count(authorisations.purpose) as purposes
from {{ ref('dim_customers') }} as customers
left join {{ ref('customer_authorisations') }} as authorisations
    on customers.customer_id = authorisations.customer_id
group by customers.customer_id
having
    count(authorisations.purpose) <> {{ purposes | length }}
    {%- for purpose in purposes %}
    or count(*) filter (where authorisations.purpose = {{ dbt.string_literal(purpose) }}) <> 1
    {%- endfor %}
