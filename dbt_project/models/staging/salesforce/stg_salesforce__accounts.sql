{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('salesforce', 'accounts') }}
),

renamed as (
    select
        source_id as account_id,
        {{ field_value(fields, 'Name') }} as account_name,
        lower(regexp_replace({{ field_value(fields, 'Website') }}, '^(https?://)?(www\.)?', '')) as domain,
        {{ field_value(fields, 'Phone') }} as phone,
        {{ field_value(fields, 'BillingCity') }} as city,
        {{ field_value(fields, 'BillingCountry') }} as country,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'CreatedDate')), fields, 'CreatedDate') }} as created_at,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'SystemModstamp')), fields, 'SystemModstamp') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted or coalesce({{ safe_boolean(field_value(fields, 'IsDeleted'), fields, 'IsDeleted') }}, false) as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
