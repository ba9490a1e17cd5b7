{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('woocommerce', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as order_id,
        {{ field_value(fields, 'number') }} as order_number,
        {{ field_value(fields, 'status') }} as order_status,
        {{ field_value(fields, 'status') }} in ('cancelled', 'refunded', 'failed') as is_cancelled,
        -- a guest checkout has customer_id 0: the buyer is only in `billing`
        {{ safe_id("nullif(" ~ field_value(fields, 'customer_id') ~ ", '0')", fields, 'customer_id') }} as customer_id,
        {{ field_value(fields, 'customer_id') }} = '0' as is_guest,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'email'), '') as email,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'first_name'), '') as billing_first_name,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'last_name'), '') as billing_last_name,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'phone'), '') as billing_phone,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'company'), '') as billing_company,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'address_1'), '') as billing_street,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'city'), '') as billing_city,
        upper(nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'country'), '')) as billing_country_code,
        upper({{ field_value(fields, 'currency') }}) as currency_code,
        {{ safe_numeric(field_value(fields, 'total'), fields, 'total', required=true) }} as amount_total,
        {{ safe_numeric(field_value(fields, 'total_tax'), fields, 'total_tax') }} as amount_tax,
        {{ safe_numeric(field_value(fields, 'discount_total'), fields, 'discount_total') }} as amount_discount,
        {{ safe_numeric(field_value(fields, 'shipping_total'), fields, 'shipping_total') }} as shipping_amount,
        {{ field_value(fields, 'payment_method') }} as payment_method,
        {{ safe_gmt_timestamp(field_value(fields, 'date_created_gmt'), fields, 'date_created_gmt', required=true) }} as created_at,
        {{ safe_gmt_timestamp(field_value(fields, 'date_paid_gmt'), fields, 'date_paid_gmt') }} as paid_at,
        {{ safe_gmt_timestamp(field_value(fields, 'date_completed_gmt'), fields, 'date_completed_gmt') }} as completed_at,
        {{ safe_gmt_timestamp(field_value(fields, 'date_modified_gmt'), fields, 'date_modified_gmt') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
