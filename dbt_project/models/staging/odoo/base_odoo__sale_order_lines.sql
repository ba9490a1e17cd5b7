{{ landed_staging_config() }}
{%- set checks = [] -%}

with

source as (
    select * from {{ source('odoo', 'sale_order_line') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', checks, 'id', required=true) }} as sale_order_line_id,
        {{ odoo_many2one_id('order_id', checks, required=true) }} as sale_order_id,
        {{ odoo_many2one_id('product_id', checks) }} as product_id,
        {{ odoo_many2one_name('product_id') }} as product_name,
        {{ odoo_number('product_uom_qty', checks, required=true) }} as quantity,
        {{ odoo_number('price_unit', checks, required=true) }} as unit_price,
        {{ odoo_number('price_subtotal', checks, required=true) }} as amount_subtotal,
        {{ odoo_datetime('create_date', checks) }} as created_at,
        {{ odoo_datetime('write_date', checks) }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
)

select * from renamed
