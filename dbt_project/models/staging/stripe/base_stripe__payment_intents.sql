{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('stripe', 'payment_intents') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_stripe_id('source_id', fields, 'id', required=true) }} as payment_intent_id,
        lower({{ field_value(fields, 'status') }}) as payment_intent_status,
        {{ field_value(fields, 'latest_charge') }} as latest_charge_id,
        upper({{ field_value(fields, 'currency') }}) as currency_code,
        {{ stripe_money(safe_minor_units(field_value(fields, 'amount'), fields, 'amount', required=true), field_value(fields, 'currency')) }} as amount,
        coalesce({{ stripe_money(safe_minor_units(field_value(fields, 'amount_received'), fields, 'amount_received'), field_value(fields, 'currency')) }}, 0) as received_amount,
        {{ field_value(fields, 'cancellation_reason') }} as cancellation_reason,
        {{ field_value(fields, 'last_payment_error', json=true) }} ->> 'code' as last_error_code,
        {{ safe_id("(" ~ field_value(fields, 'metadata', json=true) ~ " ->> 'order_id')", fields, 'metadata.order_id') }} as woocommerce_order_id,
        nullif(trim({{ field_value(fields, 'metadata', json=true) }} ->> 'order_number'), '') as order_number,
        {{ safe_unix_time(field_value(fields, 'created'), fields, 'created', required=true) }} as created_at,
        {{ safe_unix_time(field_value(fields, 'canceled_at'), fields, 'canceled_at') }} as canceled_at,
        source_updated_at as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
