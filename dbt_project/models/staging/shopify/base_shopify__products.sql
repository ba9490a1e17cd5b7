{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('shopify', 'products') }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true, shopify_gid=true) }} as product_id,
        record ->> 'title' as product_title,
        record ->> 'handle' as handle,
        record ->> 'status' as product_status,
        coalesce(record ->> 'status' = 'active', false) as is_active,
        {{ safe_timestamptz(field_value(fields, 'created_at'), fields, 'created_at') }} as created_at,
        {{ safe_timestamptz(field_value(fields, 'updated_at'), fields, 'updated_at') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
