{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('odoo', 'stock_quant') }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as stock_quant_id,
        {{ odoo_many2one_id(fields, 'product_id', required=true) }} as product_id,
        {{ odoo_many2one_id(fields, 'location_id', required=true) }} as location_id,
        {{ odoo_many2one_name('location_id') }} as location_name,
        {{ odoo_many2one_id(fields, 'warehouse_id') }} as warehouse_id,
        {{ odoo_many2one_name('warehouse_id') }} as warehouse_name,
        {{ odoo_number(fields, 'quantity', required=true) }} as quantity,
        {{ odoo_number(fields, 'reserved_quantity') }} as reserved_quantity,
        {{ odoo_datetime(fields, 'write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
