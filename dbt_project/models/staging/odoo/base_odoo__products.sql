{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('odoo', 'product_product') }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as product_id,
        {{ odoo_text('name') }} as product_name,
        {{ odoo_text('default_code') }} as sku,
        {{ odoo_number(fields, 'list_price') }} as list_price,
        {{ odoo_number(fields, 'standard_price') }} as cost_price,
        '{{ var("company_currency_code") }}'::text as currency_code,
        {{ odoo_number(fields, 'qty_available') }} as quantity_available,
        coalesce({{ odoo_boolean(fields, 'active') }}, true) as is_active,
        {{ odoo_datetime(fields, 'create_date') }} as created_at,
        {{ odoo_datetime(fields, 'write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
