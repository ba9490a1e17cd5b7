{#
    The WooCommerce store's orders in contract `web_orders` (int_web_orders_unioned):
    `order_reference` `WC-<number>` (its numbers would collide with the other shops'; the buyer sees
    `#<number>`: `buyer_order_number`); `done` once
    `completed`, `cancelled` (`cancelled`, `refunded`, `failed`), else `confirmed` (`processing` and
    `on-hold`: the stock is taken, the money may still be on its way). `pending` (and the block
    checkout's `checkout-draft`) is a checkout awaiting payment, not an order yet, as a quotation is
    not in the ERP: left out, and WooCommerce cancels it itself when the payment never comes. A
    trashed order lands `is_deleted`.
#}

select
    md5({{ record_key("'woocommerce_order'", 'order_id') }}) as order_id,
    'woocommerce' as shop_system,
    'WooCommerce' as shop_title,
    order_id as shop_order_id,
    'WC-' || coalesce(order_number, order_id::text) as order_name,
    'WC-' || coalesce(order_number, order_id::text) as order_reference,
    '#' || coalesce(order_number, order_id::text) as buyer_order_number,
    coalesce(
        {{ record_key("'woocommerce_customer'", 'customer_id') }},
        {{ record_key("'woocommerce_guest_order'", 'order_id') }}
    ) as customer_record_key,
    created_at as ordered_at,
    case
        when is_cancelled then 'cancelled'
        when order_status = 'completed' then 'done'
        else 'confirmed'
    end as status,
    coalesce(is_cancelled, false) as is_cancelled,
    -- WooCommerce does not date the change of status: the order's last change, when it was cancelled or later
    case when is_cancelled then coalesce(updated_at, created_at) end as cancelled_at,
    paid_at is not null and coalesce(order_status in ('processing', 'completed'), false) as is_paid,
    case when order_status = 'refunded' then 'refunded' end as refund_status,
    amount_total,
    currency_code,
    shipping_amount,
    false as is_cart_incomplete,
    {{ has_quarantined_items('base_woocommerce__order_lines', 'source_id') }} as has_unread_lines,
    loaded_at,
    is_deleted
from {{ ref('stg_woocommerce__orders') }}
where order_status is null or order_status not in ('pending', 'checkout-draft')
