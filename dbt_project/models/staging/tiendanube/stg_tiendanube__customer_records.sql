{#
    The Tienda Nube store's customer records (contract `customer_records`,
    int_customer_records_unioned). The store keeps a customer for every buyer (no guests): its
    customers, with the document its checkout asks for (`identification`, a tax id), and the
    contact details of an order whose customer has not landed. Street: the billing street and number.
#}

with

nube_customers as (
    select * from {{ ref('stg_tiendanube__customers') }}
),

nube_orders as (
    select * from {{ ref('stg_tiendanube__orders') }}
    where not is_deleted and customer_id is not null
),

nube_customer_records as (
    select
        'tiendanube_customer' as record_type,
        'tiendanube' as source_system,
        'customers' as source_object,
        nube_customers.customer_id::text as source_record_id,
        nube_customers.full_name,
        false as is_company,
        nube_customers.email,
        coalesce(nube_customers.phone, nube_customers.billing_phone) as phone,
        case when nube_customers.billing_phone <> nube_customers.phone then nube_customers.billing_phone end
            as other_phone,
        nube_customers.tax_id,
        nube_customers.street,
        nube_customers.city,
        null::text as country,
        nube_customers.country_code,
        -- Tienda Nube's newsletter list is not read: no consent either way
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        nube_customers.created_at,
        nube_customers.updated_at
    from nube_customers
    where not nube_customers.is_deleted
        or exists (select 1 from nube_orders where nube_orders.customer_id = nube_customers.customer_id)
),

-- a customer known only from an order's contact details (the customer has not landed): its latest order
nube_order_records as (
    select distinct on (nube_orders.customer_id)
        'tiendanube_customer' as record_type,
        'tiendanube' as source_system,
        'orders' as source_object,
        nube_orders.customer_id::text as source_record_id,
        nube_orders.contact_name as full_name,
        false as is_company,
        nube_orders.email,
        nube_orders.contact_phone as phone,
        null::text as other_phone,
        nube_orders.tax_id,
        nube_orders.billing_street as street,
        nube_orders.billing_city as city,
        null::text as country,
        nube_orders.billing_country_code as country_code,
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        nube_orders.created_at,
        nube_orders.updated_at
    from nube_orders
    left join nube_customers
        on nube_orders.customer_id = nube_customers.customer_id
    where nube_customers.customer_id is null
    order by nube_orders.customer_id, nube_orders.updated_at desc nulls last
)

select * from nube_customer_records
union all
select * from nube_order_records
