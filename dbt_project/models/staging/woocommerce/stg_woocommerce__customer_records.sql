{#
    The WooCommerce store's customer records (contract `customer_records`,
    int_customer_records_unioned): its registered customers (deleted ones only while an order
    points at them), the billing details of an order whose account has not landed, and each guest
    checkout (`customer_id` 0: `woocommerce_guest_order`), keyed by the order, with its billing
    details. Street: the billing address_1.
#}

with

woo_customers as (
    select * from {{ ref('stg_woocommerce__customers') }}
),

woo_orders as (
    select * from {{ ref('stg_woocommerce__orders') }}
    where not is_deleted
),

woo_customer_records as (
    select
        'woocommerce_customer' as record_type,
        'woocommerce' as source_system,
        'customers' as source_object,
        woo_customers.customer_id::text as source_record_id,
        woo_customers.full_name,
        false as is_company,
        coalesce(woo_customers.email, woo_customers.billing_email) as email,
        woo_customers.phone,
        null::text as other_phone,
        null::text as tax_id,
        woo_customers.street,
        woo_customers.city,
        null::text as country,
        woo_customers.country_code,
        -- WooCommerce keeps no marketing consent of its own (a newsletter plugin does)
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        woo_customers.created_at,
        woo_customers.updated_at
    from woo_customers
    where not woo_customers.is_deleted
        or exists (select 1 from woo_orders where woo_orders.customer_id = woo_customers.customer_id)
),

-- known only from an order's billing details: a guest checkout (keyed by the order), or an
-- account that has not landed (its latest order)
woo_order_records as (
    select distinct on (record_type, source_record_id)
        case when woo_orders.customer_id is null then 'woocommerce_guest_order' else 'woocommerce_customer' end
            as record_type,
        'woocommerce' as source_system,
        'orders' as source_object,
        coalesce(woo_orders.customer_id, woo_orders.order_id)::text as source_record_id,
        nullif(concat_ws(' ', woo_orders.billing_first_name, woo_orders.billing_last_name), '') as full_name,
        false as is_company,
        woo_orders.email,
        woo_orders.billing_phone as phone,
        null::text as other_phone,
        null::text as tax_id,
        woo_orders.billing_street as street,
        woo_orders.billing_city as city,
        null::text as country,
        woo_orders.billing_country_code as country_code,
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        woo_orders.created_at,
        woo_orders.updated_at
    from woo_orders
    left join woo_customers
        on woo_orders.customer_id = woo_customers.customer_id
    where woo_customers.customer_id is null
    order by record_type, source_record_id, woo_orders.updated_at desc nulls last
)

select * from woo_customer_records
union all
select * from woo_order_records
