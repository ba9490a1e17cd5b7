{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('hubspot', 'companies') }}
),

renamed as (
    select
        source_id as company_id,
        {{ hubspot_property('name') }} as company_name,
        lower({{ hubspot_property('domain') }}) as domain,
        {{ hubspot_property('phone') }} as phone,
        {{ hubspot_property('city') }} as city,
        {{ hubspot_property('country') }} as country,
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
