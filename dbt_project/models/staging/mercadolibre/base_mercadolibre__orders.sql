{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('mercadolibre', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as order_id,
        lower({{ field_value(fields, 'status') }}) as order_status,
        lower({{ field_value(fields, 'status') }}) = 'cancelled' as is_cancelled,
        -- a cart's orders share its pack id (null for a sale that is not a cart); the pack resource
        -- says the cart's status and lists its orders
        {{ safe_id(field_value(fields, 'pack_id'), fields, 'pack_id') }} as pack_id,
        lower(nullif(trim({{ field_value(fields, 'pack', json=true) }} ->> 'status'), '')) as pack_status,
        (select array_agg(ids.pack_order_id::bigint order by ids.pack_order_id::bigint)
         from jsonb_array_elements_text(
             case when jsonb_typeof({{ field_value(fields, 'pack', json=true) }} -> 'order_ids') = 'array'
                  then {{ field_value(fields, 'pack', json=true) }} -> 'order_ids' end) as ids (pack_order_id)
         where ids.pack_order_id ~ '^\d{1,18}$') as pack_order_ids,
        {{ safe_id("(" ~ field_value(fields, 'buyer', json=true) ~ " ->> 'id')", fields, 'buyer.id') }} as buyer_id,
        nullif(trim({{ field_value(fields, 'buyer', json=true) }} ->> 'nickname'), '') as buyer_nickname,
        nullif(trim(concat_ws(' ', {{ field_value(fields, 'buyer', json=true) }} ->> 'first_name',
                              {{ field_value(fields, 'buyer', json=true) }} ->> 'last_name')), '') as buyer_name,
        -- the document the buyer gave for the invoice: CC (cédula), CE, NIT or PAS in Colombia
        upper(nullif(trim({{ field_value(fields, 'billing_info', json=true) }} ->> 'doc_type'), '')) as buyer_doc_type,
        nullif(trim({{ field_value(fields, 'billing_info', json=true) }} ->> 'doc_number'), '') as buyer_doc_number,
        upper({{ field_value(fields, 'currency_id') }}) as currency_code,
        {{ safe_numeric(field_value(fields, 'total_amount'), fields, 'total_amount', required=true) }} as items_amount,
        {{ safe_numeric(field_value(fields, 'paid_amount'), fields, 'paid_amount') }} as paid_amount,
        {{ safe_numeric("(" ~ field_value(fields, 'shipment', json=true) ~ " ->> 'shipping_cost')", fields, 'shipment.shipping_cost') }} as shipping_amount,
        lower(nullif(trim({{ field_value(fields, 'shipment', json=true) }} ->> 'status'), '')) as shipping_status,
        {{ safe_timestamptz("(" ~ field_value(fields, 'shipment', json=true) ~ " ->> 'date_shipped')", fields, 'shipment.date_shipped') }} as shipped_at,
        {{ safe_timestamptz("(" ~ field_value(fields, 'shipment', json=true) ~ " ->> 'date_delivered')", fields, 'shipment.date_delivered') }} as delivered_at,
        -- the door the sale went to: the buyer's, or a pickup agency's (type `agency`)
        nullif(trim({{ field_value(fields, 'shipment', json=true) }} ->> 'receiver_address'), '') as receiver_address,
        coalesce(lower(nullif(trim({{ field_value(fields, 'shipment', json=true) }} ->> 'destination_type'), '')) = 'agency',
                 false) as is_pickup,
        nullif(trim({{ field_value(fields, 'shipment', json=true) }} ->> 'receiver_city'), '') as receiver_city,
        nullif(trim({{ field_value(fields, 'shipment', json=true) }} ->> 'receiver_state'), '') as receiver_state,
        {{ safe_timestamptz(field_value(fields, 'date_created'), fields, 'date_created', required=true) }} as created_at,
        {{ safe_timestamptz(field_value(fields, 'date_closed'), fields, 'date_closed') }} as closed_at,
        {{ safe_timestamptz(field_value(fields, 'date_last_updated'), fields, 'date_last_updated') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
