{{ landed_staging_config(unique_key='contact_id') }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('hubspot', 'contacts') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id as contact_id,
        {{ hubspot_property('email') }} as email,
        {{ hubspot_property('firstname') }} as first_name,
        {{ hubspot_property('lastname') }} as last_name,
        nullif(concat_ws(' ', {{ hubspot_property('firstname') }}, {{ hubspot_property('lastname') }}), '') as full_name,
        {{ hubspot_property('phone') }} as phone,
        {{ hubspot_property('mobilephone') }} as mobile_phone,
        {{ hubspot_property('company') }} as company_name,
        {{ hubspot_property('address') }} as street,
        {{ hubspot_property('city') }} as city,
        {{ hubspot_property('country') }} as country,
        {{ hubspot_property('lifecyclestage') }} as lifecycle_stage,
        {{ safe_boolean(hubspot_property('hs_marketable_status'), fields, 'properties.hs_marketable_status') }} as has_marketing_consent,
        {{ hubspot_property('hs_legal_basis') }} as legal_basis,
        {{ processing_authorisation(hubspot_property('hs_legal_basis')) }} as has_processing_authorisation,
        {{ hubspot_property('tax_id') }} as tax_id,
        {{ hubspot_property('hubspot_owner_id') }} as owner_id,
        coalesce(
            {{ safe_timestamptz(hubspot_property('createdate'), fields, 'properties.createdate') }},
            {{ safe_timestamptz("nullif(trim(record ->> 'createdAt'), '')", fields, 'createdAt') }}
        ) as created_at,
        coalesce(
            {{ safe_timestamptz("nullif(trim(record ->> 'updatedAt'), '')", fields, 'updatedAt') }},
            {{ safe_timestamptz(hubspot_property('lastmodifieddate'), fields, 'properties.lastmodifieddate') }}
        ) as updated_at,
        _loaded_at as loaded_at,
        _deleted or coalesce({{ safe_boolean("nullif(trim(record ->> 'archived'), '')", fields, 'archived') }}, false) as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
)

select * from renamed
