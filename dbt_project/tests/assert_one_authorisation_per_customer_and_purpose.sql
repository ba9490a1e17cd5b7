{#
    marts.customer_authorisations holds exactly one row per customer of dim_customers and purpose
    of var `authorisation_purposes`. A row here is a customer with a purpose missing or doubled.
#}

select
    customers.customer_id,
    count(authorisations.purpose) as purposes
from {{ ref('dim_customers') }} as customers
left join {{ ref('customer_authorisations') }} as authorisations
    on customers.customer_id = authorisations.customer_id
group by customers.customer_id
having
    count(authorisations.purpose) <> {{ var('authorisation_purposes') | length }}
    or count(distinct authorisations.purpose) <> {{ var('authorisation_purposes') | length }}
