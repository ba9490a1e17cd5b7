{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('tiendanube', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as order_id,
        {{ field_value(fields, 'number') }} as order_number,
        {{ field_value(fields, 'status') }} as order_status,
        {{ field_value(fields, 'payment_status') }} as payment_status,
        {{ field_value(fields, 'shipping_status') }} as shipping_status,
        {{ field_value(fields, 'status') }} = 'cancelled' as is_cancelled,
        {{ safe_id(field_value(fields, 'customer', json=true) ~ " ->> 'id'", fields, 'customer.id') }} as customer_id,
        {{ field_value(fields, 'contact_email') }} as email,
        {{ field_value(fields, 'contact_name') }} as contact_name,
        {{ field_value(fields, 'contact_phone') }} as contact_phone,
        {{ field_value(fields, 'contact_identification') }} as tax_id,
        nullif(concat_ws(' ', {{ field_value(fields, 'billing_address') }},
                         {{ field_value(fields, 'billing_number') }}), '') as billing_street,
        {{ field_value(fields, 'billing_city') }} as billing_city,
        {{ field_value(fields, 'billing_province') }} as billing_state,
        upper({{ field_value(fields, 'billing_country') }}) as billing_country_code,
        upper({{ field_value(fields, 'currency') }}) as currency_code,
        {{ safe_numeric(field_value(fields, 'total'), fields, 'total', required=true) }} as amount_total,
        {{ safe_numeric(field_value(fields, 'subtotal'), fields, 'subtotal') }} as amount_subtotal,
        {{ safe_numeric(field_value(fields, 'discount'), fields, 'discount') }} as amount_discount,
        {{ safe_numeric(field_value(fields, 'shipping_cost_customer'), fields, 'shipping_cost_customer') }} as shipping_amount,
        {{ field_value(fields, 'gateway') }} as payment_gateway,
        {{ safe_timestamptz(field_value(fields, 'created_at'), fields, 'created_at', required=true) }} as created_at,
        {{ safe_timestamptz(field_value(fields, 'paid_at'), fields, 'paid_at') }} as paid_at,
        {{ safe_timestamptz(field_value(fields, 'shipped_at'), fields, 'shipped_at') }} as shipped_at,
        {{ safe_timestamptz(field_value(fields, 'closed_at'), fields, 'closed_at') }} as closed_at,
        {{ safe_timestamptz(field_value(fields, 'cancelled_at'), fields, 'cancelled_at') }} as cancelled_at,
        {{ field_value(fields, 'cancel_reason') }} as cancel_reason,
        {{ safe_timestamptz(field_value(fields, 'updated_at'), fields, 'updated_at') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
