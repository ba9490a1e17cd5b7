with

source as (
    select * from {{ source('odoo', 'stock_quant') }}
),

renamed as (
    select
        source_id::bigint as stock_quant_id,
        {{ odoo_many2one_id('product_id') }} as product_id,
        {{ odoo_many2one_id('location_id') }} as location_id,
        {{ odoo_many2one_name('location_id') }} as location_name,
        {{ odoo_many2one_id('warehouse_id') }} as warehouse_id,
        {{ odoo_many2one_name('warehouse_id') }} as warehouse_name,
        {{ odoo_number('quantity') }} as quantity,
        {{ odoo_number('reserved_quantity') }} as reserved_quantity,
        {{ odoo_datetime('write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted
    from source
)

select * from renamed
