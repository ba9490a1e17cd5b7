{%- set fields = typed_fields() -%}

{# One row per opportunity product (OpportunityLineItem), with its opportunity. #}

with

source as (
    select * from {{ source('salesforce', 'opportunity_line_items') }}
),

renamed as (
    select
        source_id as line_item_id,
        {{ field_value(fields, 'OpportunityId') }} as opportunity_id,
        {{ field_value(fields, 'Name') }} as product_name,
        {{ field_value(fields, 'ProductCode') }} as sku,
        {{ safe_numeric(field_value(fields, 'Quantity'), fields, 'Quantity') }} as quantity,
        {{ safe_numeric(field_value(fields, 'UnitPrice'), fields, 'UnitPrice') }} as unit_price,
        -- Salesforce's Discount is a percentage of the line
        {{ safe_numeric(field_value(fields, 'Discount'), fields, 'Discount') }} as discount_percentage,
        {{ safe_numeric(field_value(fields, 'TotalPrice'), fields, 'TotalPrice') }} as amount,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'SystemModstamp')), fields, 'SystemModstamp') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted or coalesce({{ safe_boolean(field_value(fields, 'IsDeleted'), fields, 'IsDeleted') }}, false) as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
