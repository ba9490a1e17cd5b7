{{ config(alias='customer_field_conflicts') }}
{%- set masked = "field_name in ('email', 'phone', 'tax_id')" %}
select
    conflict_id,
    customer_id,
    field_name,
    system_of_record,
    case when {{ masked }} then {{ hash_identifier('owner_value') }} else owner_value end as owner_value,
    case when {{ masked }} then {{ hash_identifier('odoo_value') }} else odoo_value end as odoo_value,
    case when {{ masked }} then {{ hash_identifier('hubspot_value') }} else hubspot_value end as hubspot_value,
    case when {{ masked }} then {{ hash_identifier('shopify_value') }} else shopify_value end as shopify_value,
    record_keys
from {{ ref('customer_field_conflicts') }}
