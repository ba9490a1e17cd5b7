{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('shopify', 'customers') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true, shopify_gid=true) }} as customer_id,
        {{ field_value(fields, 'email') }} as email,
        {{ field_value(fields, 'first_name') }} as first_name,
        {{ field_value(fields, 'last_name') }} as last_name,
        nullif(concat_ws(' ', {{ field_value(fields, 'first_name') }}, {{ field_value(fields, 'last_name') }}), '') as full_name,
        {{ field_value(fields, 'phone') }} as phone,
        nullif(trim({{ field_value(fields, 'default_address', json=true) }} ->> 'phone'), '') as address_phone,
        nullif(trim({{ field_value(fields, 'default_address', json=true) }} ->> 'company'), '') as company_name,
        nullif(trim({{ field_value(fields, 'default_address', json=true) }} ->> 'address1'), '') as street,
        nullif(trim({{ field_value(fields, 'default_address', json=true) }} ->> 'city'), '') as city,
        nullif(trim({{ field_value(fields, 'default_address', json=true) }} ->> 'country'), '') as country_name,
        upper(nullif(trim({{ field_value(fields, 'default_address', json=true) }} ->> 'country_code'), '')) as country_code,
        {{ field_value(fields, 'state') }} as customer_state,
        {{ field_value(fields, 'tags') }} as tags,
        {{ field_value(fields, 'note') }} as note,
        -- a tax id is sometimes typed into the note: `NIT 900123456-7`, `CC 1020304050`; a sealed
        -- note's (a field key configured) is the one the loader found in it, sealed
        case when {{ is_sealed(field_value(fields, 'note')) }}
            then (select sealed_keys.note_tax_id from {{ source('ops', 'sealed_keys') }} as sealed_keys
                  where sealed_keys.sealed = {{ field_value(fields, 'note') }} and sealed_keys.kind = 'note'
                    and sealed_keys.country_code = 'ZZ')
            else {{ tax_id_in_note(field_value(fields, 'note')) }}
        end as tax_id,
        {{ field_value(fields, 'email_marketing_consent', json=true) }} ->> 'state' as marketing_consent_state,
        coalesce({{ field_value(fields, 'email_marketing_consent', json=true) }} ->> 'state' = 'subscribed', false) as has_marketing_consent,
        {{ safe_timestamptz("nullif(trim(" ~ field_value(fields, 'email_marketing_consent', json=true) ~ " ->> 'consent_updated_at'), '')",
                            fields, 'email_marketing_consent.consent_updated_at') }} as marketing_consent_updated_at,
        {{ safe_timestamptz(field_value(fields, 'created_at'), fields, 'created_at') }} as created_at,
        {{ safe_timestamptz(field_value(fields, 'updated_at'), fields, 'updated_at') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
