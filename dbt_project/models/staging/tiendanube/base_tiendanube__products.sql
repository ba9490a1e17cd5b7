{%- set product = typed_fields('source.record', 'product_fields') -%}
{%- set fields = typed_fields('variants.variant', 'variant') -%}

{#
    One row per variant of every landed product: a variant carries the SKU, the price and the
    stock. `product_name` is the store's Spanish name, else its Portuguese or English one
    (Tienda Nube writes a name per language of the store, even with one language active).
#}

with

source as (
    select * from {{ source('tiendanube', 'products') }}
),

renamed as (
    select
        source.source_id,
        variants.variant_number,
        {{ safe_id(field_value(fields, 'id'), fields, 'variants[].id', required=true) }} as variant_id,
        {{ safe_id('source.source_id', fields, 'id', required=true) }} as product_id,
        {{ field_value(fields, 'sku') }} as sku,
        coalesce({{ field_value(product, 'name', json=true) }} ->> 'es', {{ field_value(product, 'name', json=true) }} ->> 'pt',
                 {{ field_value(product, 'name', json=true) }} ->> 'en') as product_name,
        coalesce({{ field_value(product, 'handle', json=true) }} ->> 'es', {{ field_value(product, 'handle', json=true) }} ->> 'pt',
                 {{ field_value(product, 'handle', json=true) }} ->> 'en') as handle,
        coalesce({{ safe_boolean(field_value(product, 'published'), fields, 'published') }}, false) as is_active,
        {{ safe_numeric(field_value(fields, 'price'), fields, 'variants[].price') }} as price,
        {{ safe_boolean(field_value(fields, 'stock_management'), fields, 'variants[].stock_management') }} as is_inventory_tracked,
        {{ safe_numeric(field_value(fields, 'stock'), fields, 'variants[].stock') }} as stock_quantity,
        {{ safe_timestamptz(field_value(product, 'created_at'), fields, 'created_at') }} as created_at,
        {{ safe_timestamptz(field_value(product, 'updated_at'), fields, 'updated_at') }} as updated_at,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {%- set variants = field_value(product, 'variants', json=true) %}
    {{ read_fields(product) }}
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof({{ variants }}) = 'array' then {{ variants }} else '[]'::jsonb end
    ) with ordinality as variants (variant, variant_number)
    {{ read_fields(fields) }}
)

select * from renamed
