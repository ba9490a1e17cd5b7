{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('hubspot', 'deals') }}
),

renamed as (
    select
        source_id as deal_id,
        {{ hubspot_property('dealname') }} as deal_name,
        {{ safe_numeric(hubspot_property('amount'), fields, 'properties.amount') }} as amount,
        coalesce(
            upper({{ hubspot_property('deal_currency_code') }}),
            '{{ var("company_currency_code") }}'
        ) as currency_code,
        {{ hubspot_property('dealstage') }} as deal_stage,
        {{ hubspot_property('pipeline') }} as pipeline,
        coalesce({{ hubspot_property('dealstage') }} = 'closedwon', false) as is_won,
        coalesce({{ hubspot_property('dealstage') }} in ('closedwon', 'closedlost'), false) as is_closed,
        {{ safe_timestamptz(hubspot_property('closedate'), fields, 'properties.closedate') }} as closed_at,
        array(
            select association ->> 'id'
            from jsonb_array_elements(
                case
                    when jsonb_typeof(record #> '{associations,contacts,results}') = 'array'
                        then record #> '{associations,contacts,results}'
                    else '[]'::jsonb
                end
            ) as associations (association)
        ) as contact_ids,
        coalesce(
            {{ safe_timestamptz(hubspot_property('createdate'), fields, 'properties.createdate') }},
            {{ safe_timestamptz("nullif(trim(record ->> 'createdAt'), '')", fields, 'createdAt') }}
        ) as created_at,
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
