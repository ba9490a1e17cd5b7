{{ landed_staging_config(lookups=['sale_order_id']) }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('odoo', 'sale_order') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as sale_order_id,
        {{ odoo_text('name') }} as sale_order_name,
        {{ odoo_many2one_id(fields, 'partner_id', required=true) }} as partner_id,
        {{ odoo_many2one_name('partner_id') }} as partner_name,
        {{ odoo_datetime(fields, 'date_order') }} as ordered_at,
        {{ odoo_text('state') }} as state,
        {{ odoo_text('state') }} = 'cancel' as is_cancelled,
        {{ odoo_number(fields, 'amount_untaxed') }} as amount_untaxed,
        {{ odoo_number(fields, 'amount_tax') }} as amount_tax,
        {{ odoo_number(fields, 'amount_total', required=true) }} as amount_total,
        {{ odoo_many2one_name('currency_id') }} as currency_code,
        {{ odoo_text('client_order_ref') }} as client_order_ref,
        {{ odoo_text('origin') }} as origin,
        {{ odoo_many2one_id(fields, 'warehouse_id') }} as warehouse_id,
        {{ odoo_many2one_name('warehouse_id') }} as warehouse_name,
        {{ odoo_datetime(fields, 'create_date', required=true) }} as created_at,
        {{ odoo_datetime(fields, 'write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
