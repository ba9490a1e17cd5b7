{%- set checks = [] -%}

{# One row per variant of every product, `variant_number` its position in `variants`; `source_id` is the product's. #}

with

source as (
    select * from {{ source('shopify', 'products') }}
),

renamed as (
    select
        source.source_id,
        variants.variant_number,
        {{ safe_id("nullif(trim(variant ->> 'id'), '')", checks, 'variants[].id', required=true, shopify_gid=true) }} as variant_id,
        {{ safe_id('source.source_id', checks, 'id', required=true, shopify_gid=true) }} as product_id,
        nullif(trim(variant ->> 'sku'), '') as sku,
        {{ safe_numeric("nullif(trim(variant ->> 'price'), '')", checks, 'variants[].price') }} as price,
        {{ safe_numeric("nullif(trim(variant ->> 'inventory_quantity'), '')", checks, 'variants[].inventory_quantity') }} as inventory_quantity,
        {{ safe_timestamptz("nullif(trim(variant ->> 'updated_at'), '')", checks, 'variants[].updated_at') }} as updated_at,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(source.record -> 'variants') = 'array' then source.record -> 'variants' else '[]'::jsonb end
    ) with ordinality as variants (variant, variant_number)
)

select * from renamed
