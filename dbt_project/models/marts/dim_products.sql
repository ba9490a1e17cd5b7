{#
    One row per product across the ERP and the shop. The key (macro product_key) is the SKU:
    the ERP's `default_code` equals the shop variant's `sku`, so both systems' records of one
    product share a `product_id` that does not depend on either system's ids.
      - The ERP owns the product: name, list price, cost, active flag. When several ERP
        products carry one SKU, the live, latest one speaks for it.
      - Stock on hand is the ERP's `stock.quant` sum over internal locations
        (fct_stock_by_location), never Odoo's stale `qty_available`; 0 for an ERP product
        without quants, null for a product the ERP does not know.
      - Shop stock is the sum of the live shop variants' `inventory_quantity` with that SKU.
      - A product an order line of the ERP or of any web shop names but neither catalogue holds
        (deleted before it landed, or sold only in the WooCommerce store) gets a row of its own
        from the line, so every order line has its product.
      - `is_shipping` flags the ERP product shipping is charged as (var `shipping_product_sku`,
        the Odoo service `ENVIO` unless set): a line of it is a delivery charge, not goods, so
        the ML jobs neither forecast nor recommend it.
#}

with

erp_products as (
    select
        *,
        {{ product_key('sku', "'odoo_product'", 'product_id') }} as product_key,
        row_number() over (
            partition by {{ product_key('sku', "'odoo_product'", 'product_id') }}
            order by is_deleted, is_active desc, updated_at desc nulls last, product_id desc
        ) as key_rank
    from {{ ref('stg_odoo__products') }}
),

erp as (
    select * from erp_products where key_rank = 1
),

shop_products as (
    select * from {{ ref('stg_shopify__products') }}
),

shop_variants as (
    select
        variants.*,
        shop_products.product_title,
        shop_products.is_active and not shop_products.is_deleted as is_product_active,
        {{ product_key('variants.sku', "'shopify_variant'", 'variants.variant_id') }} as product_key
    from {{ ref('stg_shopify__product_variants') }} as variants
    left join shop_products
        on variants.product_id = shop_products.product_id
    where not variants.is_deleted
),

shop as (
    select
        product_key,
        (array_agg(sku order by updated_at desc nulls last, variant_id desc))[1] as sku,
        (array_agg(product_title order by updated_at desc nulls last, variant_id desc))[1] as product_title,
        (array_agg(variant_id order by updated_at desc nulls last, variant_id desc))[1] as shopify_variant_id,
        (array_agg(product_id order by updated_at desc nulls last, variant_id desc))[1] as shopify_product_id,
        (array_agg(price order by updated_at desc nulls last, variant_id desc))[1] as shop_price,
        sum(inventory_quantity) as shop_stock,
        bool_or(coalesce(is_product_active, false)) as is_active
    from shop_variants
    group by product_key
),

stock as (
    select
        product_id as product_key,
        sum(quantity) filter (where is_internal) as stock_on_hand,
        sum(reserved_quantity) filter (where is_internal) as stock_reserved
    from {{ ref('fct_stock_by_location') }}
    group by product_id
),

erp_lines as (
    select
        {{ product_key('erp_products.sku', "'odoo_product'", 'lines.product_id') }} as product_key,
        max(lines.product_name) as product_name
    from {{ ref('stg_odoo__sale_order_lines') }} as lines
    left join erp_products
        on lines.product_id = erp_products.product_id
    where lines.product_id is not null
    group by 1
),

shop_lines as (
    select
        {{ product_key('sku', 'product_fallback_type', 'product_fallback_id') }} as product_key,
        max(sku) as sku,
        max(product_name) as product_name
    from {{ ref('int_web_order_lines_unioned') }}
    group by 1
),

keys as (
    select product_key from erp
    union
    select product_key from shop
    union
    select product_key from erp_lines
    union
    select product_key from shop_lines
),

final as (
    select
        keys.product_key as product_id,
        coalesce(erp.sku, shop.sku, shop_lines.sku) as sku,
        coalesce(erp.product_name, shop.product_title, erp_lines.product_name, shop_lines.product_name) as product_name,
        erp.list_price,
        erp.cost_price as unit_cost,
        coalesce(erp.currency_code, '{{ var("company_currency_code") }}') as currency_code,
        case when erp.product_id is not null then coalesce(stock.stock_on_hand, 0) end as stock_on_hand,
        case when erp.product_id is not null then coalesce(stock.stock_reserved, 0) end as stock_reserved,
        shop.shop_stock,
        shop.shop_price,
        case
            when erp.product_id is not null then erp.is_active and not erp.is_deleted
            else coalesce(shop.is_active, false)
        end as is_active,
        erp.product_id is not null as is_in_erp,
        shop.product_key is not null as is_in_shop,
        coalesce(
            upper(trim(coalesce(erp.sku, shop.sku, shop_lines.sku)))
            = upper(trim('{{ var("shipping_product_sku", "ENVIO") }}')),
            false
        ) as is_shipping,
        erp.product_id as odoo_product_id,
        shop.shopify_product_id,
        shop.shopify_variant_id
    from keys
    left join erp on keys.product_key = erp.product_key
    left join shop on keys.product_key = shop.product_key
    left join stock on keys.product_key = stock.product_key
    left join erp_lines on keys.product_key = erp_lines.product_key
    left join shop_lines on keys.product_key = shop_lines.product_key
)

select * from final
