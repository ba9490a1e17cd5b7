{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('stripe', 'balance_transactions') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_stripe_id('source_id', fields, 'id', required=true) }} as balance_transaction_id,
        lower({{ field_value(fields, 'type') }}) as transaction_type,
        lower({{ field_value(fields, 'reporting_category') }}) as reporting_category,
        {{ field_value(fields, 'source') }} as source_object_id,
        upper({{ field_value(fields, 'currency') }}) as currency_code,
        {{ stripe_money(safe_minor_units(field_value(fields, 'amount'), fields, 'amount', required=true), field_value(fields, 'currency')) }} as amount,
        coalesce({{ stripe_money(safe_minor_units(field_value(fields, 'fee'), fields, 'fee'), field_value(fields, 'currency')) }}, 0) as fee_amount,
        {{ stripe_money(safe_minor_units(field_value(fields, 'net'), fields, 'net'), field_value(fields, 'currency')) }} as net_amount,
        {{ safe_numeric(field_value(fields, 'exchange_rate'), fields, 'exchange_rate') }} as exchange_rate,
        {{ safe_unix_time(field_value(fields, 'available_on'), fields, 'available_on') }} as available_at,
        {{ safe_unix_time(field_value(fields, 'created'), fields, 'created', required=true) }} as created_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
