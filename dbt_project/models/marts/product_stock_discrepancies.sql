{#
    Products in both the ERP and the Shopify shop whose shop figure differs from what the shop
    should show by more than var `stock_discrepancy_tolerance` units. What it should show is what
    the ERP can still sell, its free stock (on hand minus reserved), minus var
    `stock_safety_buffer`, never below zero (macro shop_stock_target): the figure act_stock_to_shop
    sets, so the ERP's reservations make no discrepancy of a product Puente has set. Web orders the
    ERP has not received yet are not subtracted here (the activation subtracts those it posts when
    it sets the shop): the shop has already counted them sold, so until they are posted a product
    sold on the web since shows less than its target, a negative difference and no oversell risk,
    as it did against the stock on hand. Oversell risk: the shop offers more than the ERP
    has free. Items the shop does not count (`inventory_management` off: it sells them without a
    figure) are left out, as the activation leaves them alone. The ERP owns stock; the fix is to
    push its figure to the shop.
#}

with

products as (
    select * from {{ ref('dim_products') }}
    where is_in_erp and is_in_shop
),

counted_variants as (
    select variant_id from {{ ref('stg_shopify__product_variants') }}
    where not is_deleted and is_inventory_tracked
),

compared as (
    select
        products.product_id,
        products.sku,
        products.product_name,
        products.stock_on_hand,
        products.stock_reserved,
        products.stock_on_hand - products.stock_reserved as stock_free,
        products.shop_stock,
        {{ shop_stock_target('products.stock_on_hand', 'products.stock_reserved') }} as shop_target,
        products.is_active
    from products
    inner join counted_variants
        on products.shopify_variant_id = counted_variants.variant_id
),

final as (
    select
        product_id,
        sku,
        product_name,
        stock_on_hand,
        stock_reserved,
        stock_free,
        shop_stock,
        shop_target,
        shop_stock - shop_target as stock_difference,
        shop_stock > stock_free as is_oversell_risk,
        is_active
    from compared
    where
        shop_stock is distinct from shop_target
        and abs(coalesce(shop_stock, 0) - shop_target) > {{ var('stock_discrepancy_tolerance') }}
)

select * from final
