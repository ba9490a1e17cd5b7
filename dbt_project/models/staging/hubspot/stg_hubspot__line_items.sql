{%- set fields = typed_fields() -%}

{# One row per deal line item (a product of a deal, HubSpot's `line_items`), with its deal. #}

with

source as (
    select * from {{ source('hubspot', 'line_items') }}
),

renamed as (
    select
        source_id as line_item_id,
        (
            select association ->> 'id'
            from jsonb_array_elements(
                case
                    when jsonb_typeof(record #> '{associations,deals,results}') = 'array'
                        then record #> '{associations,deals,results}'
                    else '[]'::jsonb
                end
            ) as associations (association)
            order by association ->> 'id'
            limit 1
        ) as deal_id,
        {{ hubspot_property('name') }} as product_name,
        {{ hubspot_property('hs_sku') }} as sku,
        {{ safe_numeric(hubspot_property('quantity'), fields, 'properties.quantity') }} as quantity,
        {{ safe_numeric(hubspot_property('price'), fields, 'properties.price') }} as unit_price,
        -- HubSpot keeps a line's discount as an amount per unit (`discount`) or a percentage
        {{ safe_numeric(hubspot_property('discount'), fields, 'properties.discount') }} as unit_discount,
        {{ safe_numeric(hubspot_property('hs_discount_percentage'), fields, 'properties.hs_discount_percentage') }}
            as discount_percentage,
        {{ safe_numeric(hubspot_property('amount'), fields, 'properties.amount') }} as amount,
        coalesce(
            {{ safe_timestamptz("nullif(trim(record ->> 'updatedAt'), '')", fields, 'updatedAt') }},
            {{ safe_timestamptz(hubspot_property('hs_lastmodifieddate'), fields, 'properties.hs_lastmodifieddate') }}
        ) as updated_at,
        _loaded_at as loaded_at,
        _deleted or coalesce({{ safe_boolean("nullif(trim(record ->> 'archived'), '')", fields, 'archived') }}, false) as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
)

select * from renamed
