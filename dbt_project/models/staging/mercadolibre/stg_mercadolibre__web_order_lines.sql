{#
    Mercado Libre's sale items in contract `web_order_lines` (int_web_order_lines_unioned): an item
    has no id of its own, a line is its order and its position (`shop_order_line_id`), its product
    the listing when it has no SKU, its price with taxes as the listing shows it (var
    `mercadolibre_price_tax_rate`).
#}

select
    md5({{ record_key("'mercadolibre_order_line'", "order_id::text || '-' || line_number::text") }}) as order_line_id,
    md5({{ record_key("'mercadolibre_order'", 'order_id') }}) as order_id,
    'mercadolibre' as shop_system,
    order_id as shop_order_id,
    line_number as shop_order_line_id,
    sku,
    product_name,
    case when item_id is null then 'mercadolibre_order_line' else 'mercadolibre_item' end as product_fallback_type,
    coalesce(item_id, order_id::text || '-' || line_number::text) as product_fallback_id,
    quantity,
    round(unit_price / (1 + {{ var('mercadolibre_price_tax_rate') }}), 2) as unit_price,
    0 as discount_amount,
    quantity * round(unit_price / (1 + {{ var('mercadolibre_price_tax_rate') }}), 2) as amount,
    currency_code,
    loaded_at,
    is_deleted
from {{ ref('stg_mercadolibre__order_lines') }}
