with

source as (
    select * from {{ source('odoo', 'product_product') }}
),

renamed as (
    select
        source_id::bigint as product_id,
        {{ odoo_text('name') }} as product_name,
        {{ odoo_text('default_code') }} as sku,
        {{ odoo_number('list_price') }} as list_price,
        {{ odoo_number('standard_price') }} as cost_price,
        '{{ var("company_currency_code") }}'::text as currency_code,
        {{ odoo_number('qty_available') }} as quantity_available,
        coalesce({{ odoo_boolean('active') }}, true) as is_active,
        {{ odoo_datetime('create_date') }} as created_at,
        {{ odoo_datetime('write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted
    from source
)

select * from renamed
