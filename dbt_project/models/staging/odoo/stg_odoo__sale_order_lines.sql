{{ landed_staging_config('sale_order_line_id') }}

with

source as (
    select * from {{ source('odoo', 'sale_order_line') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id::bigint as sale_order_line_id,
        {{ odoo_many2one_id('order_id') }} as sale_order_id,
        {{ odoo_many2one_id('product_id') }} as product_id,
        {{ odoo_many2one_name('product_id') }} as product_name,
        {{ odoo_number('product_uom_qty') }} as quantity,
        {{ odoo_number('price_unit') }} as unit_price,
        {{ odoo_number('price_subtotal') }} as amount_subtotal,
        {{ odoo_datetime('create_date') }} as created_at,
        {{ odoo_datetime('write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted
    from source
)

select * from renamed
