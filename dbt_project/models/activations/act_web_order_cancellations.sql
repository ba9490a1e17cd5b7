{#
    Web orders cancelled or refunded in their shop (any web shop: int_web_orders_unioned) after
    their ERP sale order was entered: what the ERP should do about them, the way an accountant
    expects. (WooCommerce's `refunded` and `failed` statuses count as cancelled there.)
      - not invoiced yet: the sale order is cancelled in the ERP (Odoo releases its reservation);
      - invoiced already: Puente does not reverse accounting entries; the row goes to the work list
        asking for a credit note against the invoice, which the accountant issues (and which reaches
        DIAN as such).
    Partial refunds change nothing here: they are a credit note for part of an invoice, an
    accountant's call; the work list names them too.
    A cart (a Mercado Libre pack: several shop orders, one sale order) is cancelled in the ERP once
    all its orders are, in one row (`<shop>_cart:<reference>`); an order of a cart cancelled while
    the others stand goes to the work list: the sale order loses a line, which is a person's edit
    (or a credit note once invoiced).
#}

with

web_orders as (
    select * from {{ ref('fct_orders') }}
    where channel = 'web' and odoo_sale_order_id is not null
),

shop_orders as (
    select order_id, shop_system, shop_order_id, order_name, order_reference, refund_status, is_cancelled
    from {{ ref('int_web_orders_unioned') }}
),

sale_orders as (
    select sale_order_id, sale_order_name, state from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted
),

-- the orders each sale order was entered for (several: a cart), and how many still stand
carts as (
    select
        odoo_sale_order_id,
        count(*) as cart_orders,
        count(*) filter (where not is_cancelled) as live_orders
    from web_orders
    group by odoo_sale_order_id
),

candidates as (
    select
        web_orders.order_id,
        web_orders.customer_id,
        web_orders.odoo_sale_order_id,
        web_orders.invoice_status,
        sale_orders.sale_order_name,
        shop_orders.shop_system,
        shop_orders.shop_order_id,
        shop_orders.order_name,
        shop_orders.is_cancelled,
        shop_orders.refund_status,
        shop_orders.order_reference,
        carts.cart_orders,
        carts.live_orders
    from web_orders
    inner join shop_orders
        on web_orders.order_id = shop_orders.order_id
    inner join sale_orders
        on web_orders.odoo_sale_order_id = sale_orders.sale_order_id
    inner join carts
        on web_orders.odoo_sale_order_id = carts.odoo_sale_order_id
    where
        sale_orders.state <> 'cancel'
        and (shop_orders.is_cancelled or shop_orders.refund_status is not null)
),

-- a cart cancelled whole is one row (its first order's), named by the cart's reference
rows_to_send as (
    select distinct on (odoo_sale_order_id, case when cart_orders > 1 and live_orders = 0 then 0 else shop_order_id end)
        *,
        case
            when cart_orders > 1 and live_orders = 0 then shop_system || '_cart:' || order_reference
            else shop_system || '_order:' || shop_order_id
        end as row_key,
        case when cart_orders > 1 and live_orders = 0 then 'cart ' || order_reference else 'web order ' || order_name end
            as what
    from candidates
    order by
        odoo_sale_order_id, case when cart_orders > 1 and live_orders = 0 then 0 else shop_order_id end, shop_order_id
),

final as (
    select
        row_key,
        odoo_sale_order_id::text as target_id,
        null::text as external_key,
        jsonb_build_object('state', 'cancel') as payload,
        jsonb_build_object('state', 'cancel') as compare,
        null::timestamptz as observed_at,
        case
            when cart_orders > 1 and live_orders > 0
                then 'web order ' || order_name || ' of cart ' || order_reference || ' was '
                     || case when is_cancelled then 'cancelled' else replace(refund_status, '_', ' ') end
                     || ' in the shop while the cart''s other orders stand: remove its line from sale order '
                     || sale_order_name || ' in the ERP (or issue a credit note for it once invoiced)'
            when invoice_status = 'invoiced'
                then what || ' was ' || case when is_cancelled then 'cancelled' else 'refunded' end
                     || ' in the shop after sale order ' || sale_order_name || ' was invoiced: issue a credit note '
                     || 'for it in the ERP'
            when not is_cancelled
                then what || ' was ' || replace(refund_status, '_', ' ')
                     || ' in the shop but not cancelled: decide in the ERP whether sale order '
                     || sale_order_name || ' still stands'
        end as invalid_reason,
        customer_id,
        jsonb_build_object('what', what || ' (ERP ' || sale_order_name || ')') as context
    from rows_to_send
)

select * from final
