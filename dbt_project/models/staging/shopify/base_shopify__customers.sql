{%- set checks = [] -%}

with

source as (
    select * from {{ source('shopify', 'customers') }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', checks, 'id', required=true, shopify_gid=true) }} as customer_id,
        nullif(trim(record ->> 'email'), '') as email,
        nullif(trim(record ->> 'first_name'), '') as first_name,
        nullif(trim(record ->> 'last_name'), '') as last_name,
        nullif(concat_ws(' ', nullif(trim(record ->> 'first_name'), ''), nullif(trim(record ->> 'last_name'), '')), '') as full_name,
        nullif(trim(record ->> 'phone'), '') as phone,
        nullif(trim(record #>> '{default_address,phone}'), '') as address_phone,
        nullif(trim(record #>> '{default_address,company}'), '') as company_name,
        nullif(trim(record #>> '{default_address,city}'), '') as city,
        nullif(trim(record #>> '{default_address,country}'), '') as country_name,
        upper(nullif(trim(record #>> '{default_address,country_code}'), '')) as country_code,
        record ->> 'state' as customer_state,
        nullif(trim(record ->> 'tags'), '') as tags,
        nullif(trim(record ->> 'note'), '') as note,
        -- a tax id is sometimes typed into the note: `NIT 900123456-7`, `CC 1020304050`
        (regexp_match(record ->> 'note', '\m((nit|c\.?\s?c|c\.?\s?e)\.?[\s:#]*\d[\d.\s]*\d(\s*-\s*\d)?)', 'i'))[1] as tax_id,
        record #>> '{email_marketing_consent,state}' as marketing_consent_state,
        coalesce(record #>> '{email_marketing_consent,state}' = 'subscribed', false) as has_marketing_consent,
        {{ safe_timestamptz("nullif(trim(record #>> '{email_marketing_consent,consent_updated_at}'), '')", checks,
                            'email_marketing_consent.consent_updated_at') }} as marketing_consent_updated_at,
        {{ safe_timestamptz("nullif(trim(record ->> 'created_at'), '')", checks, 'created_at') }} as created_at,
        {{ safe_timestamptz("nullif(trim(record ->> 'updated_at'), '')", checks, 'updated_at') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
)

select * from renamed
