with

source as (
    select * from {{ source('shopify', 'products') }}
),

renamed as (
    select
        source_id::bigint as product_id,
        record ->> 'title' as product_title,
        record ->> 'handle' as handle,
        record ->> 'status' as product_status,
        coalesce(record ->> 'status' = 'active', false) as is_active,
        {{ safe_timestamptz("record ->> 'created_at'") }} as created_at,
        {{ safe_timestamptz("record ->> 'updated_at'") }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted
    from source
)

select * from renamed
