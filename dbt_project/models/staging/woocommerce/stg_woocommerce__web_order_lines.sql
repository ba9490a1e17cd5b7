{#
    The WooCommerce store's order lines in contract `web_order_lines` (int_web_order_lines_unioned):
    the discount is `subtotal` minus `total` (the coupons); a line without SKU keys its product by
    the WooCommerce product (a variation's own id when it is one; both share WordPress's post ids).
#}

select
    md5({{ record_key("'woocommerce_order_line'", 'order_line_id') }}) as order_line_id,
    md5({{ record_key("'woocommerce_order'", 'order_id') }}) as order_id,
    'woocommerce' as shop_system,
    order_id as shop_order_id,
    order_line_id as shop_order_line_id,
    sku,
    product_name,
    case when coalesce(variation_id, product_id) is null then 'woocommerce_order_line' else 'woocommerce_product' end
        as product_fallback_type,
    coalesce(variation_id, product_id, order_line_id)::text as product_fallback_id,
    quantity,
    coalesce(amount_before_discount, amount) / nullif(quantity, 0) as unit_price,
    coalesce(discount_amount, 0) as discount_amount,
    amount,
    currency_code,
    loaded_at,
    is_deleted
from {{ ref('stg_woocommerce__order_lines') }}
