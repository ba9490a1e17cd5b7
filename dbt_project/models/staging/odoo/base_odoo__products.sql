{%- set checks = [] -%}

with

source as (
    select * from {{ source('odoo', 'product_product') }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', checks, 'id', required=true) }} as product_id,
        {{ odoo_text('name') }} as product_name,
        {{ odoo_text('default_code') }} as sku,
        {{ odoo_number('list_price', checks) }} as list_price,
        {{ odoo_number('standard_price', checks) }} as cost_price,
        '{{ var("company_currency_code") }}'::text as currency_code,
        {{ odoo_number('qty_available', checks) }} as quantity_available,
        coalesce({{ odoo_boolean('active', checks) }}, true) as is_active,
        {{ odoo_datetime('create_date', checks) }} as created_at,
        {{ odoo_datetime('write_date', checks) }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
)

select * from renamed
