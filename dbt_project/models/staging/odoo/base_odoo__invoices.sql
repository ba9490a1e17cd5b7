{{ landed_staging_config() }}
{%- set checks = [] -%}

with

source as (
    select * from {{ source('odoo', 'account_move') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', checks, 'id', required=true) }} as invoice_id,
        {{ odoo_text('name') }} as invoice_name,
        {{ odoo_text('move_type') }} as move_type,
        {{ odoo_many2one_id('partner_id', checks) }} as partner_id,
        {{ odoo_text('invoice_origin') }} as invoice_origin,
        {{ odoo_date('invoice_date', checks) }} as invoice_date,
        {{ odoo_date('invoice_date_due', checks) }} as due_date,
        {{ odoo_number('amount_total', checks, required=true) }} as amount_total,
        {{ odoo_number('amount_residual', checks) }} as amount_residual,
        {{ odoo_many2one_name('currency_id') }} as currency_code,
        {{ odoo_text('state') }} as state,
        {{ odoo_text('payment_state') }} as payment_state,
        {{ odoo_datetime('create_date', checks) }} as created_at,
        {{ odoo_datetime('write_date', checks) }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
)

select * from renamed
