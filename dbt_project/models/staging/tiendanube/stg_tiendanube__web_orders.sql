{#
    The Tienda Nube store's orders in contract `web_orders` (int_web_orders_unioned):
    `order_reference` `TN-<number>` (the buyer sees `#<number>`: `buyer_order_number`); `done` once `shipping_status` shipped, `cancelled`, else
    `confirmed` (`open`). Abandoned checkouts (`payment_status` abandoned) are left out. Its amounts
    include taxes; `shipping_amount` is before them, as the other shops' are (var
    `tiendanube_price_tax_rate`).
#}

select
    md5({{ record_key("'tiendanube_order'", 'order_id') }}) as order_id,
    'tiendanube' as shop_system,
    'Tienda Nube' as shop_title,
    order_id as shop_order_id,
    'TN-' || coalesce(order_number, order_id::text) as order_name,
    'TN-' || coalesce(order_number, order_id::text) as order_reference,
    '#' || coalesce(order_number, order_id::text) as buyer_order_number,
    {{ record_key("'tiendanube_customer'", 'customer_id') }} as customer_record_key,
    created_at as ordered_at,
    case
        when is_cancelled then 'cancelled'
        when shipping_status = 'shipped' then 'done'
        else 'confirmed'
    end as status,
    coalesce(is_cancelled, false) as is_cancelled,
    case when is_cancelled then coalesce(cancelled_at, updated_at, created_at) end as cancelled_at,
    coalesce(payment_status = 'paid', false) as is_paid,
    case when payment_status = 'refunded' then 'refunded' end as refund_status,
    amount_total,
    currency_code,
    round(shipping_amount / (1 + {{ var('tiendanube_price_tax_rate') }}), 2) as shipping_amount,
    false as is_cart_incomplete,
    {{ has_quarantined_items('base_tiendanube__order_lines', 'source_id') }} as has_unread_lines,
    loaded_at,
    is_deleted
from {{ ref('stg_tiendanube__orders') }}
where payment_status is null or payment_status <> 'abandoned'
