{{ landed_staging_config(pre_hook="{{ delete_relanded(source('mercadolibre', 'orders')) }}") }}
{%- set order = typed_fields('source.record', 'order_fields') -%}
{%- set fields = typed_fields('items.order_item', 'line') -%}

{#
    One row per item of every landed sale, `line_number` its position in `order_items`;
    `source_id` is the order's. A sale's item has no id of its own: the line's key is the order's
    id and its position. `sku` is the listing's `seller_sku` (the business's own SKU, which the
    ERP knows); the price includes IVA as the listing shows it. A line is quarantined when its
    quantity or price cannot be read, or its order's id.
#}

with

source as (
    select * from {{ source('mercadolibre', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source.source_id,
        items.line_number,
        {{ safe_id('source.source_id', fields, 'id', required=true) }} as order_id,
        nullif(trim({{ field_value(fields, 'item', json=true) }} ->> 'id'), '') as item_id,
        nullif(trim({{ field_value(fields, 'item', json=true) }} ->> 'seller_sku'), '') as sku,
        nullif(trim({{ field_value(fields, 'item', json=true) }} ->> 'title'), '') as product_name,
        {{ safe_numeric(field_value(fields, 'quantity'), fields, 'order_items[].quantity', required=true) }} as quantity,
        {{ safe_numeric(field_value(fields, 'unit_price'), fields, 'order_items[].unit_price', required=true) }} as unit_price,
        upper({{ field_value(order, 'currency_id') }}) as currency_code,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {%- set order_items = field_value(order, 'order_items', json=true) %}
    {{ read_fields(order) }}
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof({{ order_items }}) = 'array' then {{ order_items }} else '[]'::jsonb end
    ) with ordinality as items (order_item, line_number)
    {{ read_fields(fields) }}
)

select * from renamed
