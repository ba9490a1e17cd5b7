{#
    The Tienda Nube store's order lines in contract `web_order_lines` (int_web_order_lines_unioned):
    its prices include taxes, the line's price before them is its price over one plus var
    `tiendanube_price_tax_rate`; a line without SKU keys its product by its variant.
#}

select
    md5({{ record_key("'tiendanube_order_line'", 'order_line_id') }}) as order_line_id,
    md5({{ record_key("'tiendanube_order'", 'order_id') }}) as order_id,
    'tiendanube' as shop_system,
    order_id as shop_order_id,
    order_line_id as shop_order_line_id,
    sku,
    product_name,
    case when variant_id is null then 'tiendanube_order_line' else 'tiendanube_variant' end as product_fallback_type,
    coalesce(variant_id, order_line_id)::text as product_fallback_id,
    quantity,
    round(unit_price / (1 + {{ var('tiendanube_price_tax_rate') }}), 2) as unit_price,
    0 as discount_amount,
    quantity * round(unit_price / (1 + {{ var('tiendanube_price_tax_rate') }}), 2) as amount,
    currency_code,
    loaded_at,
    is_deleted
from {{ ref('stg_tiendanube__order_lines') }}
