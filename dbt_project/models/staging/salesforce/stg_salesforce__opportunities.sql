{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('salesforce', 'opportunities') }}
),

renamed as (
    select
        source_id as opportunity_id,
        {{ field_value(fields, 'Name') }} as opportunity_name,
        {{ field_value(fields, 'AccountId') }} as account_id,
        -- the opportunity's primary contact (Opportunity.ContactId)
        {{ field_value(fields, 'ContactId') }} as contact_id,
        {{ safe_numeric(field_value(fields, 'Amount'), fields, 'Amount') }} as amount,
        -- a single-currency org keeps amounts in its corporate currency, the company's
        '{{ var("company_currency_code") }}' as currency_code,
        {{ field_value(fields, 'StageName') }} as stage_name,
        coalesce({{ safe_boolean(field_value(fields, 'IsWon'), fields, 'IsWon') }}, false) as is_won,
        coalesce({{ safe_boolean(field_value(fields, 'IsClosed'), fields, 'IsClosed') }}, false) as is_closed,
        {{ safe_date(field_value(fields, 'CloseDate'), fields, 'CloseDate') }} as close_date,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'CreatedDate')), fields, 'CreatedDate') }} as created_at,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'SystemModstamp')), fields, 'SystemModstamp') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted or coalesce({{ safe_boolean(field_value(fields, 'IsDeleted'), fields, 'IsDeleted') }}, false) as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
