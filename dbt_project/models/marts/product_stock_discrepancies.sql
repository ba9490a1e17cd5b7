{#
    Products sold in the shop whose shop stock disagrees with the ERP's stock on hand by more
    than var `stock_discrepancy_tolerance` units: the shop may oversell (shop > ERP) or hide
    stock it has (shop < ERP). The ERP owns stock; the fix is to push its figure to the shop.
#}

with

products as (
    select * from {{ ref('dim_products') }}
    where is_in_erp and is_in_shop
),

final as (
    select
        product_id,
        sku,
        product_name,
        stock_on_hand,
        stock_reserved,
        shop_stock,
        shop_stock - stock_on_hand as stock_difference,
        shop_stock > stock_on_hand as is_oversell_risk,
        is_active
    from products
    where
        shop_stock is distinct from stock_on_hand
        and abs(coalesce(shop_stock, 0) - coalesce(stock_on_hand, 0)) > {{ var('stock_discrepancy_tolerance') }}
)

select * from final
