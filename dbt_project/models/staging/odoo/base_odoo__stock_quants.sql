{%- set checks = [] -%}

with

source as (
    select * from {{ source('odoo', 'stock_quant') }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', checks, 'id', required=true) }} as stock_quant_id,
        {{ odoo_many2one_id('product_id', checks, required=true) }} as product_id,
        {{ odoo_many2one_id('location_id', checks, required=true) }} as location_id,
        {{ odoo_many2one_name('location_id') }} as location_name,
        {{ odoo_many2one_id('warehouse_id', checks) }} as warehouse_id,
        {{ odoo_many2one_name('warehouse_id') }} as warehouse_name,
        {{ odoo_number('quantity', checks, required=true) }} as quantity,
        {{ odoo_number('reserved_quantity', checks) }} as reserved_quantity,
        {{ odoo_datetime('write_date', checks) }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
)

select * from renamed
