{%- set fields = typed_fields() -%}

{#
    Salesforce Cases as service tickets, in the columns int_service_tickets_unioned takes from every
    CRM (one row per live case): a complaint is a Case of Type `Complaint`; the category is its
    Reason; the priority in lower case (`high`, `medium`, `low`); resolved when closed (a reopened
    case has no ClosedDate until it closes again). A value that does not parse is null here.
#}

with

source as (
    select * from {{ source('salesforce', 'cases') }}
),

renamed as (
    select
        source_id as ticket_id,
        'salesforce' as source_system,
        {{ field_value(fields, 'ContactId') }} as crm_contact_id,
        {{ field_value(fields, 'Subject') }} as subject,
        {{ field_value(fields, 'Reason') }} as category,
        lower({{ field_value(fields, 'Priority') }}) as priority,
        coalesce({{ field_value(fields, 'Type') }} = 'Complaint', false) as is_complaint,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'CreatedDate')), fields, 'CreatedDate') }} as opened_at,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'First_Response__c')), fields, 'First_Response__c') }} as first_response_at,
        case when {{ safe_boolean(field_value(fields, 'IsClosed'), fields, 'IsClosed') }}
            then {{ safe_timestamptz(salesforce_zone(field_value(fields, 'ClosedDate')), fields, 'ClosedDate') }}
        end as resolved_at,
        coalesce({{ safe_numeric(field_value(fields, 'Times_Reopened__c'), fields, 'Times_Reopened__c') }}, 0)::int
            as reopened_count,
        not coalesce({{ safe_boolean(field_value(fields, 'IsClosed'), fields, 'IsClosed') }}, false) as is_open,
        {{ safe_timestamptz(salesforce_zone(field_value(fields, 'SystemModstamp')), fields, 'SystemModstamp') }} as updated_at,
        _deleted or coalesce({{ safe_boolean(field_value(fields, 'IsDeleted'), fields, 'IsDeleted') }}, false)
            as is_deleted
    from source
    {{ read_fields(fields) }}
)

select
    ticket_id, source_system, crm_contact_id, subject, category, priority, is_complaint, opened_at,
    first_response_at, resolved_at, reopened_count, is_open, updated_at
from renamed
where not is_deleted
