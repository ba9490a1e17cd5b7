{{ landed_staging_config(lookups=['sale_order_id']) }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('odoo', 'sale_order_line') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as sale_order_line_id,
        {{ odoo_many2one_id(fields, 'order_id', required=true) }} as sale_order_id,
        {{ odoo_many2one_id(fields, 'product_id') }} as product_id,
        {{ odoo_many2one_name('product_id') }} as product_name,
        {{ odoo_number(fields, 'product_uom_qty', required=true) }} as quantity,
        {{ odoo_number(fields, 'price_unit', required=true) }} as unit_price,
        {{ odoo_number(fields, 'price_subtotal', required=true) }} as amount_subtotal,
        {{ odoo_datetime(fields, 'create_date') }} as created_at,
        {{ odoo_datetime(fields, 'write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
