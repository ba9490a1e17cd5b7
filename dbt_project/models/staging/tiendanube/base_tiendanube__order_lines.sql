{{ landed_staging_config(pre_hook="{{ delete_relanded(source('tiendanube', 'orders')) }}") }}
{%- set order = typed_fields('source.record', 'order_fields') -%}
{%- set fields = typed_fields('products.product', 'item') -%}

{#
    One row per product (line) of every landed order, `line_number` its position in `products`;
    `source_id` is the order's. Tienda Nube keeps a line's price with taxes as the store shows
    it, and no discount per line (the order's `discount` is on the whole order). A line is
    quarantined when its id, quantity or price cannot be read, or its order's id.
#}

with

source as (
    select * from {{ source('tiendanube', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source.source_id,
        products.line_number,
        {{ safe_id(field_value(fields, 'id'), fields, 'products[].id', required=true) }} as order_line_id,
        {{ safe_id('source.source_id', fields, 'id', required=true) }} as order_id,
        {{ safe_id(field_value(fields, 'product_id'), fields, 'products[].product_id') }} as product_id,
        {{ safe_id(field_value(fields, 'variant_id'), fields, 'products[].variant_id') }} as variant_id,
        {{ field_value(fields, 'sku') }} as sku,
        {{ field_value(fields, 'name') }} as product_name,
        {{ safe_numeric(field_value(fields, 'quantity'), fields, 'products[].quantity', required=true) }} as quantity,
        {{ safe_numeric(field_value(fields, 'price'), fields, 'products[].price', required=true) }} as unit_price,
        upper({{ field_value(order, 'currency') }}) as currency_code,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {%- set products = field_value(order, 'products', json=true) %}
    {{ read_fields(order) }}
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof({{ products }}) = 'array' then {{ products }} else '[]'::jsonb end
    ) with ordinality as products (product, line_number)
    {{ read_fields(fields) }}
)

select * from renamed
