{{ landed_staging_config('order_id') }}

with

source as (
    select * from {{ source('shopify', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id::bigint as order_id,
        record ->> 'name' as order_name,
        (record ->> 'order_number')::bigint as order_number,
        nullif(trim(record ->> 'email'), '') as email,
        (record #>> '{customer,id}')::bigint as customer_id,
        nullif(trim(record #>> '{customer,email}'), '') as customer_email,
        nullif(trim(record #>> '{customer,first_name}'), '') as customer_first_name,
        nullif(trim(record #>> '{customer,last_name}'), '') as customer_last_name,
        nullif(trim(record #>> '{customer,phone}'), '') as customer_phone,
        record ->> 'financial_status' as financial_status,
        record ->> 'fulfillment_status' as fulfillment_status,
        upper(record ->> 'currency') as currency_code,
        {{ safe_numeric("record ->> 'total_price'") }} as amount_total,
        {{ safe_numeric("record ->> 'subtotal_price'") }} as amount_subtotal,
        {{ safe_numeric("record ->> 'total_tax'") }} as amount_tax,
        record ->> 'cancelled_at' is not null as is_cancelled,
        {{ safe_timestamptz("record ->> 'created_at'") }} as created_at,
        {{ safe_timestamptz("record ->> 'processed_at'") }} as processed_at,
        {{ safe_timestamptz("record ->> 'cancelled_at'") }} as cancelled_at,
        {{ safe_timestamptz("record ->> 'updated_at'") }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted
    from source
)

select * from renamed
