{{ config(
    materialized='incremental',
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    pre_hook=["set local enable_mergejoin = off", "{{ ensure_indexes(['order_id', 'odoo_sale_order_line_id']) }}"],
    post_hook=[
        "{{ ensure_indexes(['refreshed_at', 'order_id', 'odoo_sale_order_line_id']) }}",
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
    gives a night the table's newest refresh without a scan. A night looks its few orders, their
    ERP lines and sale orders, and the previous rows of the lines of re-landed products up one at a
    time, by index (lateral subqueries with `offset 0`, which PostgreSQL does not turn back into
    joins): it cannot know how few rows a night touches and would otherwise read every order, ERP
    line and sale order into hashes. The indexes the night's query reads are also asked for before it
    (a pre-hook: the first night after an upgrade would otherwise read the table once per line of a
    re-landed product). Merge joins are off for the same reason as the lookups.
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
    from (
        select distinct sale_order_id from {{ ref('stg_odoo__sale_order_lines') }}
        where loaded_at > (select loaded_after from since)
    ) as landed
    cross join lateral (
        select order_id from {{ ref('fct_orders') }} as orders
        where orders.odoo_sale_order_id = landed.sale_order_id
        offset 0
    ) as orders
    union
    -- orders with a line whose ERP product changed its SKU, hence its product key
    select previous.order_id
    from {{ ref('stg_odoo__products') }} as products
    inner join {{ ref('stg_odoo__sale_order_lines') }} as lines
        on products.product_id = lines.product_id
    cross join lateral (
        select order_id, product_id from {{ this }} as previous
        where previous.odoo_sale_order_line_id = lines.sale_order_line_id
        offset 0
    ) as previous
    where
        products.loaded_at > (select loaded_after from since)
        and previous.product_id <> {{ product_key('products.sku', "'odoo_product'", 'lines.product_id') }}
),
{% endif %}

orders as (
    {% if scoped %}
    select fct_orders.* from touched_orders
    cross join lateral (
        select * from {{ ref('fct_orders') }} as fct_orders
        where fct_orders.order_id = touched_orders.order_id
        offset 0
    ) as fct_orders
    {% else %}
    select * from {{ ref('fct_orders') }}
    {% endif %}
),

-- sale orders entered for a cart: linked to several orders
cart_sale_orders as (
    {% if scoped %}
    select touched.odoo_sale_order_id
    from (select distinct odoo_sale_order_id from orders where odoo_sale_order_id is not null) as touched
    cross join lateral (
        select count(*) as linked from {{ ref('fct_orders') }} as fct_orders
        where fct_orders.odoo_sale_order_id = touched.odoo_sale_order_id
    ) as links
    where links.linked > 1
    {% else %}
    select odoo_sale_order_id from {{ ref('fct_orders') }}
    where odoo_sale_order_id is not null
    group by odoo_sale_order_id
    having count(*) > 1
    {% endif %}
),

erp_products as (
    select product_id, sku from {{ ref('stg_odoo__products') }}
),

shop_lines as (
    select * from {{ ref('int_web_order_lines_unioned') }}
    where not is_deleted
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
    {% if scoped %}
    from orders
    cross join lateral (
        select * from {{ ref('stg_odoo__sale_order_lines') }} as lines
        where lines.sale_order_id = orders.odoo_sale_order_id
        offset 0
    ) as lines
    left join lateral (
        select currency_code from {{ ref('stg_odoo__sale_orders') }} as sale_orders
        where sale_orders.sale_order_id = orders.odoo_sale_order_id
        offset 0
    ) as sale_orders on true
    {% else %}
    from {{ ref('stg_odoo__sale_order_lines') }} as lines
    inner join orders
        on lines.sale_order_id = orders.odoo_sale_order_id
    left join {{ ref('stg_odoo__sale_orders') }} as sale_orders
        on lines.sale_order_id = sale_orders.sale_order_id
    {% endif %}
    left join erp_products
        on lines.product_id = erp_products.product_id
    where
        not lines.is_deleted and lines.product_id is not null
        and orders.odoo_sale_order_id not in (select odoo_sale_order_id from cart_sale_orders)
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
