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
            {{ safe_timestamptz(hubspot_property('createdate')) }},
            {{ safe_timestamptz("record ->> 'createdAt'") }}
        ) as created_at,
        coalesce(
            {{ safe_timestamptz("record ->> 'updatedAt'") }},
            {{ safe_timestamptz(hubspot_property('hs_lastmodifieddate')) }}
        ) as updated_at,
        _loaded_at as loaded_at,
        _deleted or coalesce({{ safe_boolean("record ->> 'archived'") }}, false) as is_deleted
    from source
)

select * from renamed
