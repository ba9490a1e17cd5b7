{{ config(
    materialized='incremental',
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    pre_hook="set local enable_mergejoin = off",
    post_hook=[
        "{{ ensure_indexes(['refreshed_at', 'order_id']) }}",
        "{{ remove_vanished_order_lines() }}",
    ],
) }}

{#
    One row per line of a real order (fct_orders). A shop order line and the ERP sale order
    line entered from it are one line: when the order reached the ERP (its sale order has
    lines) the ERP lines are the order's lines, since the ERP may have corrected quantities or
    prices; until then the shop lines are. ERP-only orders have ERP lines. The orders of a cart
    (a Mercado Libre pack: several shop orders, one ERP sale order) keep their shop lines: the
    sale order's lines are the whole cart's, and no one order of it owns them.
    `amount` is before taxes and after discounts (ERP `price_subtotal`, else quantity x unit
    price; the shop's line `price` is also before taxes, less the line's `total_discount`), in
    `currency_code`, the currency of the order the line was taken from.

    Incremental by order (the unique key is `order_id`: an order's lines are replaced whole):
    a night recomputes the orders fct_orders refreshed since this table's last refresh (a
    shop order's lines come with it), the orders whose ERP lines landed since (minus var
    `incremental_lookback_hours`) and those with a line of an ERP product whose SKU changed.
    The post-hook `remove_vanished_order_lines` deletes the lines of orders that are gone (found by
    the index on `order_id` when fct_orders removed no order since); the index on `refreshed_at`
    gives a night the table's newest refresh without a scan. Merge joins
    are off: PostgreSQL would otherwise sort every ERP line to merge it with a night's few orders
    or landed products (it cannot know how few), where a hash join of the few reads nothing more.
#}

{%- set scoped = is_incremental_with('refreshed_at') %}

with

{% if scoped %}
since as (
    select
        coalesce(max(refreshed_at), '-infinity'::timestamptz) as refreshed_after,
        {{ looked_back('refreshed_at') }} as loaded_after
    from {{ this }}
),

touched_orders as (
    select order_id from {{ ref('fct_orders') }}
    where refreshed_at > (select refreshed_after from since)
    union
    select orders.order_id
    from {{ ref('stg_odoo__sale_order_lines') }} as lines
    inner join {{ ref('fct_orders') }} as orders
        on lines.sale_order_id = orders.odoo_sale_order_id
    where lines.loaded_at > (select loaded_after from since)
    union
    -- orders with a line whose ERP product changed its SKU, hence its product key
    select previous.order_id
    from {{ this }} as previous
    inner join {{ ref('stg_odoo__sale_order_lines') }} as lines
        on previous.odoo_sale_order_line_id = lines.sale_order_line_id
    inner join {{ ref('stg_odoo__products') }} as products
        on lines.product_id = products.product_id
    where
        products.loaded_at > (select loaded_after from since)
        and previous.product_id <> {{ product_key('products.sku', "'odoo_product'", 'lines.product_id') }}
),
{% endif %}

orders as (
    select * from {{ ref('fct_orders') }}
    {% if scoped %}
    where order_id in (select order_id from touched_orders)
    {% endif %}
),

erp_lines as (
    select * from {{ ref('stg_odoo__sale_order_lines') }}
    where not is_deleted
),

sale_orders as (
    select sale_order_id, currency_code from {{ ref('stg_odoo__sale_orders') }}
),

erp_products as (
    select product_id, sku from {{ ref('stg_odoo__products') }}
),

shop_lines as (
    select * from {{ ref('int_web_order_lines_unioned') }}
    where not is_deleted
),

-- sale orders entered for a cart: linked to several orders
cart_sale_orders as (
    select odoo_sale_order_id from {{ ref('fct_orders') }}
    where odoo_sale_order_id is not null
    group by odoo_sale_order_id
    having count(*) > 1
),

erp_order_lines as (
    select
        md5({{ record_key("'odoo_sale_order_line'", 'lines.sale_order_line_id') }}) as order_line_id,
        orders.order_id,
        orders.customer_id,
        {{ product_key('erp_products.sku', "'odoo_product'", 'lines.product_id') }} as product_id,
        orders.ordered_at,
        lines.quantity,
        lines.unit_price,
        coalesce(lines.amount_subtotal, lines.quantity * lines.unit_price) as amount,
        coalesce(sale_orders.currency_code, orders.currency_code) as currency_code,
        orders.is_cancelled,
        orders.warehouse_id,
        'odoo' as line_source,
        lines.sale_order_line_id as odoo_sale_order_line_id,
        null::bigint as shopify_order_line_id,
        null::bigint as woocommerce_order_line_id,
        null::bigint as tiendanube_order_line_id
    from erp_lines as lines
    inner join orders
        on lines.sale_order_id = orders.odoo_sale_order_id
        and orders.odoo_sale_order_id not in (select odoo_sale_order_id from cart_sale_orders)
    left join sale_orders
        on lines.sale_order_id = sale_orders.sale_order_id
    left join erp_products
        on lines.product_id = erp_products.product_id
    where lines.product_id is not null
),

shop_order_lines as (
    select
        lines.order_line_id,
        orders.order_id,
        orders.customer_id,
        {{ product_key('lines.sku', 'lines.product_fallback_type', 'lines.product_fallback_id') }} as product_id,
        orders.ordered_at,
        lines.quantity,
        lines.unit_price,
        lines.amount,
        coalesce(lines.currency_code, orders.currency_code) as currency_code,
        orders.is_cancelled,
        orders.warehouse_id,
        lines.shop_system as line_source,
        null::bigint as odoo_sale_order_line_id,
        case when lines.shop_system = 'shopify' then lines.shop_order_line_id end as shopify_order_line_id,
        case when lines.shop_system = 'woocommerce' then lines.shop_order_line_id end as woocommerce_order_line_id,
        case when lines.shop_system = 'tiendanube' then lines.shop_order_line_id end as tiendanube_order_line_id
    from shop_lines as lines
    inner join orders
        on lines.order_id = orders.order_id
    where not exists (
        select 1 from erp_order_lines
        where erp_order_lines.order_id = orders.order_id
    )
),

order_lines as (
    select * from erp_order_lines
    union all
    select * from shop_order_lines
)

select *, '{{ run_started_at }}'::timestamptz as refreshed_at from order_lines
