{#
    Reconciles fct_orders with its sources: every live shop order, and every confirmed, done or
    cancelled ERP sale order, appears in exactly one fct_orders row (a shop order and its ERP
    sale order share one). A cart (a Mercado Libre pack: several shop orders sharing one
    reference) is one ERP sale order, which each of its orders carries: a sale order counts once
    per reference. A row here is an order lost or counted twice.
#}

with

shop_orders as (
    select order_id from {{ ref('stg_shopify__orders') }}
    where not is_deleted
),

sale_orders as (
    select sale_order_id from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted and state in ('sale', 'done', 'cancel')
),

orders as (
    select * from {{ ref('fct_orders') }}
),

shop_order_counts as (
    select 'shopify_order' as record_type, shop_orders.order_id as source_id, count(orders.order_id) as order_rows
    from shop_orders
    left join orders
        on shop_orders.order_id = orders.shopify_order_id
    group by shop_orders.order_id
),

web_orders as (
    select order_id, order_reference from {{ ref('int_web_orders_unioned') }}
),

sale_order_counts as (
    select
        'odoo_sale_order' as record_type,
        sale_orders.sale_order_id as source_id,
        count(distinct coalesce(web_orders.order_reference, orders.order_id)) as order_rows
    from sale_orders
    left join orders
        on sale_orders.sale_order_id = orders.odoo_sale_order_id
    left join web_orders
        on orders.order_id = web_orders.order_id
    group by sale_orders.sale_order_id
)

select * from shop_order_counts where order_rows <> 1
union all
select * from sale_order_counts where order_rows <> 1
