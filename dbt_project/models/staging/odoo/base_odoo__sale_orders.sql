{{ landed_staging_config() }}
{%- set checks = [] -%}

with

source as (
    select * from {{ source('odoo', 'sale_order') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', checks, 'id', required=true) }} as sale_order_id,
        {{ odoo_text('name') }} as sale_order_name,
        {{ odoo_many2one_id('partner_id', checks, required=true) }} as partner_id,
        {{ odoo_many2one_name('partner_id') }} as partner_name,
        {{ odoo_datetime('date_order', checks) }} as ordered_at,
        {{ odoo_text('state') }} as state,
        {{ odoo_text('state') }} = 'cancel' as is_cancelled,
        {{ odoo_number('amount_untaxed', checks) }} as amount_untaxed,
        {{ odoo_number('amount_tax', checks) }} as amount_tax,
        {{ odoo_number('amount_total', checks, required=true) }} as amount_total,
        {{ odoo_many2one_name('currency_id') }} as currency_code,
        {{ odoo_text('client_order_ref') }} as client_order_ref,
        {{ odoo_text('origin') }} as origin,
        {{ odoo_many2one_id('warehouse_id', checks) }} as warehouse_id,
        {{ odoo_many2one_name('warehouse_id') }} as warehouse_name,
        {{ odoo_datetime('create_date', checks, required=true) }} as created_at,
        {{ odoo_datetime('write_date', checks) }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
)

select * from renamed
