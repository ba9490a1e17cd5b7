{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('shopify', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true, shopify_gid=true) }} as order_id,
        {{ field_value(fields, 'name') }} as order_name,
        {{ safe_id(field_value(fields, 'order_number'), fields, 'order_number') }} as order_number,
        {{ field_value(fields, 'email') }} as email,
        {{ safe_id("nullif(trim(" ~ field_value(fields, 'customer', json=true) ~ " ->> 'id'), '')",
                   fields, 'customer.id', shopify_gid=true) }} as customer_id,
        nullif(trim({{ field_value(fields, 'customer', json=true) }} ->> 'email'), '') as customer_email,
        nullif(trim({{ field_value(fields, 'customer', json=true) }} ->> 'first_name'), '') as customer_first_name,
        nullif(trim({{ field_value(fields, 'customer', json=true) }} ->> 'last_name'), '') as customer_last_name,
        nullif(trim({{ field_value(fields, 'customer', json=true) }} ->> 'phone'), '') as customer_phone,
        {{ field_value(fields, 'financial_status') }} as financial_status,
        {{ field_value(fields, 'fulfillment_status') }} as fulfillment_status,
        upper({{ field_value(fields, 'currency') }}) as currency_code,
        {{ safe_numeric(field_value(fields, 'total_price'), fields, 'total_price', required=true) }} as amount_total,
        {{ safe_numeric(field_value(fields, 'subtotal_price'), fields, 'subtotal_price') }} as amount_subtotal,
        {{ safe_numeric(field_value(fields, 'total_tax'), fields, 'total_tax') }} as amount_tax,
        {{ safe_numeric(field_value(fields, 'total_discounts'), fields, 'total_discounts') }} as amount_discount,
        -- shipping charged: the sum of the shipping lines' prices (Shopify's total_shipping_price_set
        -- holds the same in two currencies)
        {{ safe_numeric("(select sum(nullif(trim(line ->> 'price'), '')::numeric)::text from jsonb_array_elements("
                        ~ "case when jsonb_typeof(" ~ field_value(fields, 'shipping_lines', json=true) ~ ") = 'array' then "
                        ~ field_value(fields, 'shipping_lines', json=true) ~ " else '[]' end) as shipping (line) "
                        ~ "where nullif(trim(line ->> 'price'), '') ~ '^[0-9]+(\.[0-9]+)?$')",
                        fields, 'shipping_lines[].price') }} as shipping_amount,
        {{ field_value(fields, 'cancelled_at') }} is not null as is_cancelled,
        {{ safe_timestamptz(field_value(fields, 'created_at'), fields, 'created_at', required=true) }} as created_at,
        {{ safe_timestamptz(field_value(fields, 'processed_at'), fields, 'processed_at') }} as processed_at,
        {{ safe_timestamptz(field_value(fields, 'cancelled_at'), fields, 'cancelled_at') }} as cancelled_at,
        {{ safe_timestamptz(field_value(fields, 'updated_at'), fields, 'updated_at') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
