{#
    The shop's customer records (contract `customer_records`, int_customer_records_unioned): its
    customers (deleted ones only while an order points at them), plus the customer embedded in a
    shop order when the customer resource itself has not landed, plus guest orders without any
    customer (`shopify_guest_order`, keyed by the order). Street: the default address1 (none for a
    customer known only from an order). Marketing consent: `email_marketing_consent.state`
    `subscribed` is an opt-in, `unsubscribed` and `redacted` (the customer's data erased on
    request) are opt-outs, dated by its `consent_updated_at`; `not_subscribed`, `pending` (double
    opt-in not confirmed) and `invalid` say neither: the customer never agreed, but never refused.
#}

with

shop_customers as (
    select * from {{ ref('stg_shopify__customers') }}
),

shop_orders as (
    select * from {{ ref('stg_shopify__orders') }}
    where not is_deleted
),

ordering_shop_customer_ids as (
    select distinct customer_id
    from shop_orders
    where customer_id is not null
),

shop_customer_records as (
    select
        'shopify_customer' as record_type,
        'shopify' as source_system,
        'customers' as source_object,
        shop_customers.customer_id::text as source_record_id,
        shop_customers.full_name,
        false as is_company,
        shop_customers.email,
        coalesce(shop_customers.phone, shop_customers.address_phone) as phone,
        case when shop_customers.phone is not null then shop_customers.address_phone end as other_phone,
        shop_customers.tax_id,
        shop_customers.street,
        shop_customers.city,
        shop_customers.country_name as country,
        shop_customers.country_code,
        case shop_customers.marketing_consent_state
            when 'subscribed' then true
            when 'unsubscribed' then false
            when 'redacted' then false
        end as has_marketing_consent,
        shop_customers.marketing_consent_updated_at as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        shop_customers.created_at,
        shop_customers.updated_at
    from shop_customers
    left join ordering_shop_customer_ids
        on shop_customers.customer_id = ordering_shop_customer_ids.customer_id
    where not shop_customers.is_deleted or ordering_shop_customer_ids.customer_id is not null
),

-- customers known only from their orders: the customer embedded in the latest order when the
-- customer resource has not landed, and each guest order without a customer (keyed by the order)
shop_order_records as (
    select distinct on (record_type, source_record_id)
        case when shop_orders.customer_id is null then 'shopify_guest_order' else 'shopify_customer' end as record_type,
        'shopify' as source_system,
        'orders' as source_object,
        coalesce(shop_orders.customer_id, shop_orders.order_id)::text as source_record_id,
        nullif(concat_ws(' ', shop_orders.customer_first_name, shop_orders.customer_last_name), '') as full_name,
        false as is_company,
        coalesce(shop_orders.customer_email, shop_orders.email) as email,
        shop_orders.customer_phone as phone,
        null::text as other_phone,
        null::text as tax_id,
        null::text as street,
        null::text as city,
        null::text as country,
        null::text as country_code,
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        shop_orders.created_at,
        shop_orders.updated_at
    from shop_orders
    left join shop_customers
        on shop_orders.customer_id = shop_customers.customer_id
    where shop_customers.customer_id is null
    order by record_type, source_record_id, shop_orders.updated_at desc nulls last
)

select * from shop_customer_records
union all
select * from shop_order_records
