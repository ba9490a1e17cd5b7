{#
    The Tienda Nube store's stock of every product it shares with the ERP (by SKU), set to what
    the ERP has free (macro erp_free_stock, the same rule as act_stock_to_shop for Shopify).
    Variants whose stock the store does not count (`stock_management` off: unlimited) are left
    alone. A row exists only where the store, as last read, shows something else; `observed_at`
    is when it was read (SKUs match as dim_products matches them, trimmed and in upper case), so a store that drifts again after Puente set it (a sale, a person in
    the admin) is set again. `target_id` is `<product id>/<variant id>`, both in the write's URL.
#}

with

products as (
    select * from ({{ erp_free_stock() }}) as free
),

variants as (
    select variant_id, product_id, sku, stock_quantity, loaded_at from {{ ref('stg_tiendanube__products') }}
    where not is_deleted and is_inventory_tracked and nullif(trim(sku), '') is not null
),

levels as (
    select
        products.sku,
        products.product_name,
        variants.product_id,
        variants.variant_id,
        variants.loaded_at,
        variants.stock_quantity as store_stock,
        products.available
    from products
    inner join variants
        on {{ product_key('variants.sku', "'tiendanube_variant'", 'variants.variant_id') }} = products.product_id
),

final as (
    select
        'sku:' || sku || ':' || variant_id as row_key,
        product_id::text || '/' || variant_id::text as target_id,
        null::text as external_key,
        jsonb_build_object('stock', available) as payload,
        jsonb_build_object('stock', available) as compare,
        loaded_at as observed_at,
        null::text as invalid_reason,
        null::text as customer_id,
        jsonb_build_object('what', 'stock of ' || sku || ' · ' || product_name, 'store_shows', store_stock,
                           'erp_free', available) as context
    from levels
    where store_stock is distinct from available
)

select * from final
