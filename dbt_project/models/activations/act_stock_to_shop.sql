{#
    The shop's available quantity of every product the ERP and the shop share (by SKU): the
    ERP's free stock (on hand minus reserved), minus what tonight's ERP orders will reserve when
    posted (the valid rows of act_web_orders_to_erp and act_won_deals_to_erp the ERP has not
    accepted yet), minus var `stock_safety_buffer` units, never below zero. So once the night has
    posted its orders, the shop shows what the ERP has free. Items the shop does not count
    (`inventory_management` off) are left alone. The
    ERP is the system of record for stock. A row exists only where the shop, as last read,
    shows something else; `observed_at` is when it was read, so a shop that drifts again after
    Puente set it (a person, a sale) is set again.
#}

with

products as (
    select * from {{ ref('dim_products') }}
    where is_in_erp and is_in_shop and is_active
),

variants as (
    select variant_id, inventory_item_id, loaded_at from {{ ref('stg_shopify__product_variants') }}
    where not is_deleted and is_inventory_tracked
),

-- what tonight's ERP orders will reserve when posted (by ERP product)
to_post as (
    select 'web_orders_to_erp' as activation, row_key, payload from {{ ref('act_web_orders_to_erp') }}
    where invalid_reason is null
    union all
    select 'won_deals_to_erp', row_key, payload from {{ ref('act_won_deals_to_erp') }}
    where invalid_reason is null
),

unposted as (
    select (line ->> 'product_id')::bigint as odoo_product_id, sum((line ->> 'product_uom_qty')::numeric) as quantity
    from to_post
    cross join lateral jsonb_array_elements(to_post.payload -> 'order_line') as lines (line)
    where not exists (select from {{ ref('stg_ops__activation_state') }} as accepted
                      where accepted.activation = to_post.activation and accepted.row_key = to_post.row_key)
    group by 1
),

levels as (
    select
        products.product_id,
        products.sku,
        products.product_name,
        variants.inventory_item_id,
        variants.loaded_at,
        products.shop_stock,
        greatest(0, floor(coalesce(products.stock_on_hand, 0) - coalesce(products.stock_reserved, 0)
                          - coalesce(unposted.quantity, 0) - {{ var('stock_safety_buffer') }}))::integer as available
    from products
    inner join variants
        on products.shopify_variant_id = variants.variant_id
    left join unposted
        on products.odoo_product_id = unposted.odoo_product_id
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
