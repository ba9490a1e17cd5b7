{#
    The shop's order lines in contract `web_order_lines` (int_web_order_lines_unioned): the discount
    is Shopify's `total_discount`; a line without SKU keys its product by its variant.
#}

select
    md5({{ record_key("'shopify_order_line'", 'order_line_id') }}) as order_line_id,
    md5({{ record_key("'shopify_order'", 'order_id') }}) as order_id,
    'shopify' as shop_system,
    order_id as shop_order_id,
    order_line_id as shop_order_line_id,
    sku,
    product_title as product_name,
    case when variant_id is null then 'shopify_order_line' else 'shopify_variant' end as product_fallback_type,
    coalesce(variant_id, order_line_id)::text as product_fallback_id,
    quantity,
    unit_price,
    discount_amount,
    quantity * unit_price - coalesce(discount_amount, 0) as amount,
    currency_code,
    loaded_at,
    is_deleted
from {{ ref('stg_shopify__order_lines') }}
