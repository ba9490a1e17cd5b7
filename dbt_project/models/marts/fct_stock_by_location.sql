{#
    ERP stock per product and location: the sum of the live `stock.quant` rows (one per lot or
    package) of each product (dim_products key) and location, with the location's warehouse.
    `is_internal` says whether the location counts as stock on hand (macro
    is_internal_location); dim_products sums those.
    Odoo's own `qty_available` is not used: it is computed, so a stock move changes it without
    touching the product's `write_date`, and the incremental extract misses it.
#}

with

quants as (
    select * from {{ ref('stg_odoo__stock_quants') }}
    where not is_deleted and product_id is not null and location_id is not null
),

products as (
    select product_id, sku from {{ ref('stg_odoo__products') }}
),

final as (
    select
        md5({{ product_key('products.sku', "'odoo_product'", 'quants.product_id') }} || ':' || quants.location_id) as stock_location_id,
        {{ product_key('products.sku', "'odoo_product'", 'quants.product_id') }} as product_id,
        quants.location_id,
        max(quants.location_name) as location_name,
        max(quants.warehouse_id) as warehouse_id,
        max(quants.warehouse_name) as warehouse_name,
        {{ is_internal_location('max(quants.location_name)') }} as is_internal,
        sum(coalesce(quants.quantity, 0)) as quantity,
        sum(coalesce(quants.reserved_quantity, 0)) as reserved_quantity,
        sum(coalesce(quants.quantity, 0)) - sum(coalesce(quants.reserved_quantity, 0)) as available_quantity,
        max(quants.updated_at) as updated_at
    from quants
    left join products
        on quants.product_id = products.product_id
    group by 1, 2, 3
)

select * from final
