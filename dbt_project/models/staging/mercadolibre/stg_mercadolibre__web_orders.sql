{#
    Mercado Libre's sales in contract `web_orders` (int_web_orders_unioned): `ML-<order id>` (a sale
    has no number of its own; the buyer sees `#<order id>`: `buyer_order_number`), the buyer `mercadolibre_buyer:<buyer id>`; `done` once Mercado Envíos
    shipped or delivered it; `amount_total` its items and the shipping the buyer paid, taxes
    included (var `mercadolibre_price_tax_rate` takes them off the shipping).

    A cart (its orders share a `pack_id`, and its pack lists more than one order) is one sale to
    the business: every order of it carries the reference `ML-PACK-<pack id>`, which the one ERP
    sale order entered for the cart carries, so that order-to-cash links each order to it (each
    order keeps its own name, `ML-<order id>`). The cart's one shipment is served on every order,
    but its cost counts once, on the cart's first order (the lowest id the pack lists; the
    simulated seller's first order's payment pays it). `is_cart_incomplete`: the pack lists
    orders that have not landed yet, or is still `filling`; the activation waits for them. A
    pack of one order (the docs announce a pack for every order) is a lone sale, `ML-<order id>`.
#}

with

orders as (
    select * from {{ ref('stg_mercadolibre__orders') }}
),

-- each cart as the newest landing of its orders saw its pack
pack_views as (
    select distinct on (pack_id) pack_id, pack_order_ids, pack_status
    from orders
    where pack_id is not null and pack_order_ids is not null
    order by pack_id, loaded_at desc, order_id
),

packs as (
    select
        orders.pack_id,
        count(*) as landed_orders,
        min(orders.order_id) as first_landed_order_id,
        array_agg(orders.order_id) as landed_order_ids,
        min(pack_views.pack_order_ids) as pack_order_ids,
        min(pack_views.pack_status) as pack_status
    from orders
    left join pack_views
        on orders.pack_id = pack_views.pack_id
    where orders.pack_id is not null
    group by orders.pack_id
),

carts as (
    select
        pack_id,
        coalesce(pack_order_ids[1], first_landed_order_id) as first_order_id,
        coalesce(pack_status = 'filling', false) or not (coalesce(pack_order_ids, '{}') <@ landed_order_ids) as is_incomplete
    from packs
    where greatest(cardinality(pack_order_ids), landed_orders) > 1
),

final as (
    select
        orders.*,
        carts.pack_id as cart_pack_id,
        coalesce(carts.is_incomplete, false) as is_cart_incomplete,
        case
            when carts.pack_id is not null and orders.order_id <> carts.first_order_id then 0
            else orders.shipping_amount
        end as cart_shipping_amount
    from orders
    left join carts
        on orders.pack_id = carts.pack_id
)

select
    md5({{ record_key("'mercadolibre_order'", 'order_id') }}) as order_id,
    'mercadolibre' as shop_system,
    'Mercado Libre' as shop_title,
    order_id as shop_order_id,
    'ML-' || order_id::text as order_name,
    '#' || order_id::text as buyer_order_number,
    case
        when cart_pack_id is not null then 'ML-PACK-' || cart_pack_id::text
        else 'ML-' || order_id::text
    end as order_reference,
    {{ record_key("'mercadolibre_buyer'", 'buyer_id') }} as customer_record_key,
    created_at as ordered_at,
    case
        when is_cancelled then 'cancelled'
        when shipping_status in ('shipped', 'delivered') then 'done'
        else 'confirmed'
    end as status,
    coalesce(is_cancelled, false) as is_cancelled,
    -- the order's last change (`date_last_updated`): it was cancelled then or before
    case when is_cancelled then coalesce(updated_at, created_at) end as cancelled_at,
    coalesce(order_status = 'paid', false) as is_paid,
    case when is_cancelled and paid_amount > 0 then 'refunded' end as refund_status,
    items_amount + coalesce(cart_shipping_amount, 0) as amount_total,
    currency_code,
    round(cart_shipping_amount / (1 + {{ var('mercadolibre_price_tax_rate') }}), 2) as shipping_amount,
    is_cart_incomplete,
    {{ has_quarantined_items('base_mercadolibre__order_lines', 'source_id') }} as has_unread_lines,
    loaded_at,
    is_deleted
from final
