{{ landed_staging_config('invoice_id') }}

with

source as (
    select * from {{ source('odoo', 'account_move') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id::bigint as invoice_id,
        {{ odoo_text('name') }} as invoice_name,
        {{ odoo_text('move_type') }} as move_type,
        {{ odoo_many2one_id('partner_id') }} as partner_id,
        {{ odoo_text('invoice_origin') }} as invoice_origin,
        {{ odoo_date('invoice_date') }} as invoice_date,
        {{ odoo_date('invoice_date_due') }} as due_date,
        {{ odoo_number('amount_total') }} as amount_total,
        {{ odoo_number('amount_residual') }} as amount_residual,
        {{ odoo_many2one_name('currency_id') }} as currency_code,
        {{ odoo_text('state') }} as state,
        {{ odoo_text('payment_state') }} as payment_state,
        {{ odoo_datetime('create_date') }} as created_at,
        {{ odoo_datetime('write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted
    from source
)

select * from renamed
