{%- set checks = [] -%}

with

source as (
    select * from {{ source('shopify', 'products') }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', checks, 'id', required=true, shopify_gid=true) }} as product_id,
        record ->> 'title' as product_title,
        record ->> 'handle' as handle,
        record ->> 'status' as product_status,
        coalesce(record ->> 'status' = 'active', false) as is_active,
        {{ safe_timestamptz("nullif(trim(record ->> 'created_at'), '')", checks, 'created_at') }} as created_at,
        {{ safe_timestamptz("nullif(trim(record ->> 'updated_at'), '')", checks, 'updated_at') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
)

select * from renamed
