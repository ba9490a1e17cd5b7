{#
    Salesforce Cases in contract `service_tickets` (int_service_tickets_unioned), one row per Case
    still in the CRM (stg_salesforce__cases).
#}

select
    ticket_id::text as ticket_id,
    'salesforce'::text as source_system,
    crm_contact_id::text as crm_contact_id,
    subject::text as subject,
    category::text as category,
    lower(priority::text) as priority,
    is_complaint::boolean as is_complaint,
    opened_at::timestamptz as opened_at,
    first_response_at::timestamptz as first_response_at,
    resolved_at::timestamptz as resolved_at,
    reopened_count::int as reopened_count,
    is_open::boolean as is_open,
    updated_at::timestamptz as updated_at
from {{ ref('stg_salesforce__cases') }}
