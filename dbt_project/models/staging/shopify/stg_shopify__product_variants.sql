with

source as (
    select * from {{ source('shopify', 'products') }}
),

renamed as (
    select
        (variant ->> 'id')::bigint as variant_id,
        source.source_id::bigint as product_id,
        nullif(trim(variant ->> 'sku'), '') as sku,
        {{ safe_numeric("variant ->> 'price'") }} as price,
        (variant ->> 'inventory_quantity')::numeric as inventory_quantity,
        {{ safe_timestamptz("variant ->> 'updated_at'") }} as updated_at,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted
    from source
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(source.record -> 'variants') = 'array' then source.record -> 'variants' else '[]'::jsonb end
    ) as variants (variant)
)

select * from renamed
