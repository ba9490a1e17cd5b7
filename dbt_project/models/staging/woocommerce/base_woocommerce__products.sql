{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('woocommerce', 'products') }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as product_id,
        {{ field_value(fields, 'name') }} as product_name,
        {{ field_value(fields, 'slug') }} as slug,
        {{ field_value(fields, 'sku') }} as sku,
        {{ field_value(fields, 'type') }} as product_type,
        {{ field_value(fields, 'status') }} as product_status,
        coalesce({{ field_value(fields, 'status') }} = 'publish', false) as is_active,
        {{ safe_numeric(field_value(fields, 'price'), fields, 'price') }} as price,
        {{ safe_numeric(field_value(fields, 'regular_price'), fields, 'regular_price') }} as regular_price,
        {{ safe_boolean(field_value(fields, 'manage_stock'), fields, 'manage_stock') }} as is_inventory_tracked,
        {{ safe_numeric(field_value(fields, 'stock_quantity'), fields, 'stock_quantity') }} as stock_quantity,
        {{ field_value(fields, 'stock_status') }} as stock_status,
        {{ safe_gmt_timestamp(field_value(fields, 'date_created_gmt'), fields, 'date_created_gmt') }} as created_at,
        {{ safe_gmt_timestamp(field_value(fields, 'date_modified_gmt'), fields, 'date_modified_gmt') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
