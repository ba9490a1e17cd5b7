{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('salesforce', 'contacts') }}
),

renamed as (
    select
        source_id as contact_id,
        {{ field_value(fields, 'Email') }} as email,
        {{ field_value(fields, 'FirstName') }} as first_name,
        {{ salesforce_last_name(field_value(fields, 'LastName')) }} as last_name,
        nullif(concat_ws(' ', {{ field_value(fields, 'FirstName') }},
                         {{ salesforce_last_name(field_value(fields, 'LastName')) }}), '') as full_name,
        {{ field_value(fields, 'Phone') }} as phone,
        {{ field_value(fields, 'MobilePhone') }} as mobile_phone,
        {{ field_value(fields, 'AccountId') }} as account_id,
        {{ field_value(fields, 'MailingStreet') }} as street,
        {{ field_value(fields, 'MailingCity') }} as city,
        {{ field_value(fields, 'MailingCountry') }} as country,
        -- HasOptedOutOfEmail: the person asked not to receive email (marketing consent withdrawn)
        not {{ safe_boolean(field_value(fields, 'HasOptedOutOfEmail'), fields, 'HasOptedOutOfEmail') }}
            as has_marketing_consent,
        {{ field_value(fields, 'Legal_Basis__c') }} as legal_basis,
        {{ processing_authorisation(field_value(fields, 'Legal_Basis__c')) }} as has_processing_authorisation,
        {{ field_value(fields, 'Tax_Id__c') }} as tax_id,
        {{ field_value(fields, 'OwnerId') }} as owner_id,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'CreatedDate')), fields, 'CreatedDate') }} as created_at,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'SystemModstamp')), fields, 'SystemModstamp') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted or coalesce({{ safe_boolean(field_value(fields, 'IsDeleted'), fields, 'IsDeleted') }}, false) as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
