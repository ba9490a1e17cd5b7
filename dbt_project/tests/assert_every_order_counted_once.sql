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
    select order_id, shopify_order_id, odoo_sale_order_id from {{ ref('fct_orders') }}
),

shop_order_counts as (
    select 'shopify_order' as record_type, shop_orders.order_id as source_id, count(orders.order_id) as order_rows
    from shop_orders
    left join orders
        on shop_orders.order_id = orders.shopify_order_id
    group by shop_orders.order_id
),

-- the fct_orders rows carrying each sale order
sale_order_rows as (
    select odoo_sale_order_id, count(*) as order_rows
    from orders
    where odoo_sale_order_id is not null
    group by odoo_sale_order_id
),

-- a sale order several rows carry (a cart's) counts once per reference; the few such are the only
-- ones looked up in the shops' orders
shared_sale_orders as (
    select
        orders.odoo_sale_order_id,
        count(distinct coalesce(web_orders.order_reference, orders.order_id)) as order_rows
    from orders
    inner join sale_order_rows
        on orders.odoo_sale_order_id = sale_order_rows.odoo_sale_order_id and sale_order_rows.order_rows > 1
    left join {{ ref('int_web_orders_unioned') }} as web_orders
        on orders.order_id = web_orders.order_id
    group by orders.odoo_sale_order_id
),

sale_order_counts as (
    select
        'odoo_sale_order' as record_type,
        sale_orders.sale_order_id as source_id,
        coalesce(shared_sale_orders.order_rows, sale_order_rows.order_rows, 0) as order_rows
    from sale_orders
    left join sale_order_rows
        on sale_orders.sale_order_id = sale_order_rows.odoo_sale_order_id
    left join shared_sale_orders
        on sale_orders.sale_order_id = shared_sale_orders.odoo_sale_order_id
)

select * from shop_order_counts where order_rows <> 1
union all
select * from sale_order_counts where order_rows <> 1
