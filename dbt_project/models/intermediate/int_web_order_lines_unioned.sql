{{ config(materialized='view', pre_hook=[], post_hook=[]) }}

{#
    Every line of every web shop's orders, one row per shop order line, in one shape (the lines of
    int_web_orders_unioned's orders; `order_id` is the same key). Amounts are before taxes:
    `unit_price` before discounts, `discount_amount` the line's share of them (Shopify
    `total_discount`; WooCommerce `subtotal` minus `total`, the coupons), `amount` after them.
    `product_fallback_type`/`_id` key a line's product when it has no SKU (macro product_key):
    the Shopify variant or the WooCommerce product (a variation's own id when it is one; both
    share WordPress's post ids) or the Tienda Nube variant, else the line itself. Tienda Nube's
    prices include taxes: the line's price before them is its price over one plus var
    `tiendanube_price_tax_rate`. A Mercado Libre sale's items have no id of their own: a line is
    its order and its position (`shop_order_line_id`), its product the listing when it has no
    SKU, its price with taxes as the listing shows it (var `mercadolibre_price_tax_rate`).
#}

with

shopify_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

woocommerce_lines as (
    select * from {{ ref('stg_woocommerce__order_lines') }}
),

tiendanube_lines as (
    select * from {{ ref('stg_tiendanube__order_lines') }}
),

mercadolibre_lines as (
    select * from {{ ref('stg_mercadolibre__order_lines') }}
),

unioned as (
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
    from shopify_lines

    union all

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
    from woocommerce_lines

    union all

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
    from tiendanube_lines

    union all

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
    from mercadolibre_lines
)

select * from unioned
