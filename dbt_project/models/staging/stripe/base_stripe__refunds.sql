{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('stripe', 'refunds') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_stripe_id('source_id', fields, 'id', required=true) }} as refund_id,
        {{ field_value(fields, 'charge') }} as charge_id,
        {{ field_value(fields, 'payment_intent') }} as payment_intent_id,
        {{ field_value(fields, 'balance_transaction') }} as balance_transaction_id,
        lower({{ field_value(fields, 'status') }}) as refund_status,
        {{ field_value(fields, 'reason') }} as reason,
        {{ field_value(fields, 'failure_reason') }} as failure_reason,
        upper({{ field_value(fields, 'currency') }}) as currency_code,
        {{ stripe_money(safe_minor_units(field_value(fields, 'amount'), fields, 'amount', required=true), field_value(fields, 'currency')) }} as amount,
        {{ safe_unix_time(field_value(fields, 'created'), fields, 'created', required=true) }} as created_at,
        source_updated_at as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
