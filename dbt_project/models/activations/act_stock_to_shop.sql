{#
    The shop's available quantity of every product the ERP and the shop share (by SKU): what the
    ERP has free (macro erp_free_stock: on hand minus reserved, minus tonight's unposted ERP
    orders and var `stock_safety_buffer`, never below zero). So once the night has posted its
    orders, the shop shows what the ERP has free. Items the shop does not count
    (`inventory_management` off) are left alone. The
    ERP is the system of record for stock. A row exists only where the shop, as last read,
    shows something else; `observed_at` is when it was read, so a shop that drifts again after
    Puente set it (a person, a sale) is set again.
#}

with

products as (
    select * from ({{ erp_free_stock() }}) as free
    where is_in_shop
),

variants as (
    select variant_id, inventory_item_id, loaded_at from {{ ref('stg_shopify__product_variants') }}
    where not is_deleted and is_inventory_tracked
),

levels as (
    select
        products.product_id,
        products.sku,
        products.product_name,
        variants.inventory_item_id,
        variants.loaded_at,
        products.shop_stock,
        products.available
    from products
    inner join variants
        on products.shopify_variant_id = variants.variant_id
),

final as (
    select
        'sku:' || sku as row_key,
        inventory_item_id::text as target_id,
        null::text as external_key,
        jsonb_build_object('available', available) as payload,
        jsonb_build_object('available', available) as compare,
        loaded_at as observed_at,
        case
            when inventory_item_id is null
                then 'the shop variant of SKU ' || sku || ' has no inventory item; check it in Shopify'
        end as invalid_reason,
        null::text as customer_id,
        jsonb_build_object('what', 'stock of ' || sku || ' · ' || product_name, 'shop_shows', shop_stock,
                           'erp_free', available) as context
    from levels
    where shop_stock is distinct from available
)

select * from final
