{#
    The shop's orders in contract `web_orders` (int_web_orders_unioned): `order_reference` is the
    order's name without `#` (`1042`), what the ERP sale order entered from it carries in
    `client_order_ref`; `buyer_order_number` its name (`#1042`), as the buyer sees it; `done` once fulfilled, `cancelled` once `cancelled_at`, else `confirmed`.
#}

select
    md5({{ record_key("'shopify_order'", 'order_id') }}) as order_id,
    'shopify' as shop_system,
    'Shopify' as shop_title,
    order_id as shop_order_id,
    order_name,
    ltrim(order_name, '#') as order_reference,
    order_name as buyer_order_number,
    coalesce(
        {{ record_key("'shopify_customer'", 'customer_id') }},
        {{ record_key("'shopify_guest_order'", 'order_id') }}
    ) as customer_record_key,
    coalesce(processed_at, created_at) as ordered_at,
    case
        when is_cancelled then 'cancelled'
        when fulfillment_status = 'fulfilled' then 'done'
        else 'confirmed'
    end as status,
    is_cancelled,
    case when is_cancelled then coalesce(cancelled_at, updated_at, created_at) end as cancelled_at,
    coalesce(financial_status = 'paid', false) as is_paid,
    case when financial_status in ('refunded', 'partially_refunded') then financial_status end as refund_status,
    amount_total,
    currency_code,
    shipping_amount,
    false as is_cart_incomplete,
    {{ has_quarantined_items('base_shopify__order_lines', 'source_id') }} as has_unread_lines,
    loaded_at,
    is_deleted
from {{ ref('stg_shopify__orders') }}
