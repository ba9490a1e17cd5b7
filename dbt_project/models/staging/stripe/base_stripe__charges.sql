{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('stripe', 'charges') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_stripe_id('source_id', fields, 'id', required=true) }} as charge_id,
        {{ field_value(fields, 'payment_intent') }} as payment_intent_id,
        {{ field_value(fields, 'balance_transaction') }} as balance_transaction_id,
        lower({{ field_value(fields, 'status') }}) as charge_status,
        coalesce({{ safe_boolean(field_value(fields, 'paid'), fields, 'paid') }}, false) as is_paid,
        coalesce({{ safe_boolean(field_value(fields, 'refunded'), fields, 'refunded') }}, false) as is_refunded,
        coalesce({{ safe_boolean(field_value(fields, 'disputed'), fields, 'disputed') }}, false) as is_disputed,
        {{ field_value(fields, 'failure_code') }} as failure_code,
        {{ field_value(fields, 'payment_method_details', json=true) }} ->> 'type' as payment_method,
        upper({{ field_value(fields, 'currency') }}) as currency_code,
        {{ stripe_money(safe_minor_units(field_value(fields, 'amount'), fields, 'amount', required=true), field_value(fields, 'currency')) }} as amount,
        coalesce({{ stripe_money(safe_minor_units(field_value(fields, 'amount_refunded'), fields, 'amount_refunded'), field_value(fields, 'currency')) }}, 0) as refunded_amount,
        -- the store's order, as the WooCommerce Stripe gateway writes it in the metadata
        {{ safe_id("(" ~ field_value(fields, 'metadata', json=true) ~ " ->> 'order_id')", fields, 'metadata.order_id') }} as woocommerce_order_id,
        nullif(trim({{ field_value(fields, 'metadata', json=true) }} ->> 'order_number'), '') as order_number,
        {{ field_value(fields, 'description') }} as description,
        {{ safe_unix_time(field_value(fields, 'created'), fields, 'created', required=true) }} as created_at,
        source_updated_at as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
