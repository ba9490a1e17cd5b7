{{ landed_staging_config('sale_order_id') }}

with

source as (
    select * from {{ source('odoo', 'sale_order') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id::bigint as sale_order_id,
        {{ odoo_text('name') }} as sale_order_name,
        {{ odoo_many2one_id('partner_id') }} as partner_id,
        {{ odoo_many2one_name('partner_id') }} as partner_name,
        {{ odoo_datetime('date_order') }} as ordered_at,
        {{ odoo_text('state') }} as state,
        {{ odoo_text('state') }} = 'cancel' as is_cancelled,
        {{ odoo_number('amount_untaxed') }} as amount_untaxed,
        {{ odoo_number('amount_tax') }} as amount_tax,
        {{ odoo_number('amount_total') }} as amount_total,
        {{ odoo_many2one_name('currency_id') }} as currency_code,
        {{ odoo_text('client_order_ref') }} as client_order_ref,
        {{ odoo_text('origin') }} as origin,
        {{ odoo_many2one_id('warehouse_id') }} as warehouse_id,
        {{ odoo_many2one_name('warehouse_id') }} as warehouse_name,
        {{ odoo_datetime('create_date') }} as created_at,
        {{ odoo_datetime('write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted
    from source
)

select * from renamed
