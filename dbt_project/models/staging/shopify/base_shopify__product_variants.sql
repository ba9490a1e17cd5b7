{%- set fields = typed_fields('variants.variant', 'variant_fields') -%}

{# One row per variant of every product, `variant_number` its position in `variants`; `source_id` is the product's. #}

with

source as (
    select * from {{ source('shopify', 'products') }}
),

renamed as (
    select
        source.source_id,
        variants.variant_number,
        {{ safe_id(field_value(fields, 'id'), fields, 'variants[].id', required=true, shopify_gid=true) }} as variant_id,
        {{ safe_id('source.source_id', fields, 'id', required=true, shopify_gid=true) }} as product_id,
        {{ field_value(fields, 'sku') }} as sku,
        {{ safe_id(field_value(fields, 'inventory_item_id'), fields, 'variants[].inventory_item_id', shopify_gid=true) }} as inventory_item_id,
        {{ safe_numeric(field_value(fields, 'price'), fields, 'variants[].price') }} as price,
        {{ safe_numeric(field_value(fields, 'inventory_quantity'), fields, 'variants[].inventory_quantity') }} as inventory_quantity,
        -- the shop counts the item's stock (Shopify's "Track quantity"): `inventory_management: shopify`
        coalesce({{ field_value(fields, 'inventory_management') }} = 'shopify', false) as is_inventory_tracked,
        {{ safe_timestamptz(field_value(fields, 'updated_at'), fields, 'variants[].updated_at') }} as updated_at,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(source.record -> 'variants') = 'array' then source.record -> 'variants' else '[]'::jsonb end
    ) with ordinality as variants (variant, variant_number)
    {{ read_fields(fields) }}
)

select * from renamed
