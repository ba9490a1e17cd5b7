{#
    Mercado Libre's sales in contract `web_orders` (int_web_orders_unioned): `ML-<order id>` (a sale
    has no number of its own), the buyer `mercadolibre_buyer:<buyer id>`; `done` once Mercado Envíos
    shipped or delivered it; `amount_total` its items and the shipping the buyer paid, taxes
    included (var `mercadolibre_price_tax_rate` takes them off the shipping).
#}

select
    md5({{ record_key("'mercadolibre_order'", 'order_id') }}) as order_id,
    'mercadolibre' as shop_system,
    'Mercado Libre' as shop_title,
    order_id as shop_order_id,
    'ML-' || order_id::text as order_name,
    'ML-' || order_id::text as order_reference,
    {{ record_key("'mercadolibre_buyer'", 'buyer_id') }} as customer_record_key,
    created_at as ordered_at,
    case
        when is_cancelled then 'cancelled'
        when shipping_status in ('shipped', 'delivered') then 'done'
        else 'confirmed'
    end as status,
    coalesce(is_cancelled, false) as is_cancelled,
    coalesce(order_status = 'paid', false) as is_paid,
    case when is_cancelled and paid_amount > 0 then 'refunded' end as refund_status,
    items_amount + coalesce(shipping_amount, 0) as amount_total,
    currency_code,
    round(shipping_amount / (1 + {{ var('mercadolibre_price_tax_rate') }}), 2) as shipping_amount,
    loaded_at,
    is_deleted
from {{ ref('stg_mercadolibre__orders') }}
