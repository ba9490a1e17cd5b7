{{ landed_staging_config() }}
{%- set checks = [] -%}

with

source as (
    select * from {{ source('shopify', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', checks, 'id', required=true, shopify_gid=true) }} as order_id,
        record ->> 'name' as order_name,
        {{ safe_id("nullif(trim(record ->> 'order_number'), '')", checks, 'order_number') }} as order_number,
        nullif(trim(record ->> 'email'), '') as email,
        {{ safe_id("nullif(trim(record #>> '{customer,id}'), '')", checks, 'customer.id', shopify_gid=true) }} as customer_id,
        nullif(trim(record #>> '{customer,email}'), '') as customer_email,
        nullif(trim(record #>> '{customer,first_name}'), '') as customer_first_name,
        nullif(trim(record #>> '{customer,last_name}'), '') as customer_last_name,
        nullif(trim(record #>> '{customer,phone}'), '') as customer_phone,
        record ->> 'financial_status' as financial_status,
        record ->> 'fulfillment_status' as fulfillment_status,
        upper(record ->> 'currency') as currency_code,
        {{ safe_numeric("nullif(trim(record ->> 'total_price'), '')", checks, 'total_price', required=true) }} as amount_total,
        {{ safe_numeric("nullif(trim(record ->> 'subtotal_price'), '')", checks, 'subtotal_price') }} as amount_subtotal,
        {{ safe_numeric("nullif(trim(record ->> 'total_tax'), '')", checks, 'total_tax') }} as amount_tax,
        record ->> 'cancelled_at' is not null as is_cancelled,
        {{ safe_timestamptz("nullif(trim(record ->> 'created_at'), '')", checks, 'created_at', required=true) }} as created_at,
        {{ safe_timestamptz("nullif(trim(record ->> 'processed_at'), '')", checks, 'processed_at') }} as processed_at,
        {{ safe_timestamptz("nullif(trim(record ->> 'cancelled_at'), '')", checks, 'cancelled_at') }} as cancelled_at,
        {{ safe_timestamptz("nullif(trim(record ->> 'updated_at'), '')", checks, 'updated_at') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
)

select * from renamed
