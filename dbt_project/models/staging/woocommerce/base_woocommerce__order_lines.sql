{{ landed_staging_config(pre_hook="{{ delete_relanded(source('woocommerce', 'orders')) }}") }}
{%- set order = typed_fields('source.record', 'order_fields') -%}
{%- set fields = typed_fields('line_items.line_item', 'item') -%}

{#
    One row per line item of every landed order, `line_number` its position in `line_items`;
    `source_id` is the order's. A line is quarantined when its id, quantity or total cannot be
    read, or its order's id.
#}

with

source as (
    select * from {{ source('woocommerce', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source.source_id,
        line_items.line_number,
        {{ safe_id(field_value(fields, 'id'), fields, 'line_items[].id', required=true) }} as order_line_id,
        {{ safe_id('source.source_id', fields, 'id', required=true) }} as order_id,
        {{ safe_id(field_value(fields, 'product_id'), fields, 'line_items[].product_id') }} as product_id,
        {{ safe_id("nullif(" ~ field_value(fields, 'variation_id') ~ ", '0')", fields, 'line_items[].variation_id') }} as variation_id,
        {{ field_value(fields, 'sku') }} as sku,
        {{ field_value(fields, 'name') }} as product_name,
        {{ safe_numeric(field_value(fields, 'quantity'), fields, 'line_items[].quantity', required=true) }} as quantity,
        {{ safe_numeric(field_value(fields, 'price'), fields, 'line_items[].price') }} as unit_price,
        {{ safe_numeric(field_value(fields, 'subtotal'), fields, 'line_items[].subtotal') }} as amount_before_discount,
        {{ safe_numeric(field_value(fields, 'total'), fields, 'line_items[].total', required=true) }} as amount,
        {{ safe_numeric(field_value(fields, 'total_tax'), fields, 'line_items[].total_tax') }} as amount_tax,
        upper({{ field_value(order, 'currency') }}) as currency_code,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {%- set line_items = field_value(order, 'line_items', json=true) %}
    {{ read_fields(order) }}
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof({{ line_items }}) = 'array' then {{ line_items }} else '[]'::jsonb end
    ) with ordinality as line_items (line_item, line_number)
    {{ read_fields(fields) }}
)

select
    *,
    -- the coupon's share of the line: WooCommerce keeps the line before (subtotal) and after (total)
    amount_before_discount - amount as discount_amount
from renamed
