{{ landed_staging_config('order_id', pre_hook="{{ delete_relanded('order_id', source('shopify', 'orders')) }}") }}

with

source as (
    select * from {{ source('shopify', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        (line_item ->> 'id')::bigint as order_line_id,
        source.source_id::bigint as order_id,
        (line_item ->> 'product_id')::bigint as product_id,
        (line_item ->> 'variant_id')::bigint as variant_id,
        nullif(trim(line_item ->> 'sku'), '') as sku,
        line_item ->> 'title' as product_title,
        (line_item ->> 'quantity')::numeric as quantity,
        {{ safe_numeric("line_item ->> 'price'") }} as unit_price,
        upper(source.record ->> 'currency') as currency_code,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted
    from source
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(source.record -> 'line_items') = 'array' then source.record -> 'line_items' else '[]'::jsonb end
    ) as line_items (line_item)
)

select * from renamed
