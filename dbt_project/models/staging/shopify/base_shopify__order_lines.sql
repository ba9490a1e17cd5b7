{{ landed_staging_config(pre_hook="{{ delete_relanded(source('shopify', 'orders')) }}") }}
{%- set checks = [] -%}

{#
    One row per line item of every landed order, `line_number` its position in `line_items`;
    `source_id` is the order's. A line is quarantined when its id, quantity or price cannot be
    read, or its order's id.
#}

with

source as (
    select * from {{ source('shopify', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source.source_id,
        line_items.line_number,
        {{ safe_id("nullif(trim(line_item ->> 'id'), '')", checks, 'line_items[].id', required=true, shopify_gid=true) }} as order_line_id,
        {{ safe_id('source.source_id', checks, 'id', required=true, shopify_gid=true) }} as order_id,
        {{ safe_id("nullif(trim(line_item ->> 'product_id'), '')", checks, 'line_items[].product_id', shopify_gid=true) }} as product_id,
        {{ safe_id("nullif(trim(line_item ->> 'variant_id'), '')", checks, 'line_items[].variant_id', shopify_gid=true) }} as variant_id,
        nullif(trim(line_item ->> 'sku'), '') as sku,
        line_item ->> 'title' as product_title,
        {{ safe_numeric("nullif(trim(line_item ->> 'quantity'), '')", checks, 'line_items[].quantity', required=true) }} as quantity,
        {{ safe_numeric("nullif(trim(line_item ->> 'price'), '')", checks, 'line_items[].price', required=true) }} as unit_price,
        upper(source.record ->> 'currency') as currency_code,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(source.record -> 'line_items') = 'array' then source.record -> 'line_items' else '[]'::jsonb end
    ) with ordinality as line_items (line_item, line_number)
)

select * from renamed
