{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('odoo', 'account_move') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as invoice_id,
        {{ odoo_text('name') }} as invoice_name,
        {{ odoo_text('move_type') }} as move_type,
        {{ odoo_many2one_id(fields, 'partner_id') }} as partner_id,
        {{ odoo_text('invoice_origin') }} as invoice_origin,
        {{ odoo_date(fields, 'invoice_date') }} as invoice_date,
        {{ odoo_date(fields, 'invoice_date_due') }} as due_date,
        {{ odoo_number(fields, 'amount_total', required=true) }} as amount_total,
        {{ odoo_number(fields, 'amount_residual') }} as amount_residual,
        {{ odoo_many2one_name('currency_id') }} as currency_code,
        {{ odoo_text('state') }} as state,
        {{ odoo_text('payment_state') }} as payment_state,
        record ? 'l10n_co_dian_state' as is_dian_tracked,
        {{ odoo_text('l10n_co_dian_state') }} as dian_state,
        {{ odoo_text('l10n_co_edi_cufe_cude_ref') }} as cufe,
        {{ odoo_dian_message() }} as dian_message,
        {{ odoo_datetime(fields, 'create_date') }} as created_at,
        {{ odoo_datetime(fields, 'write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
