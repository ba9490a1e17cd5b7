{#
    Service tickets of every CRM in one contract, one row per ticket still in its CRM (archived or
    deleted ones dropped): HubSpot tickets, and each other CRM's cases staged to the same columns
    (a `union all` per CRM below): Salesforce Cases. Priorities in lower case (`low`, `medium`,
    `high`, `urgent`), as both CRMs' words. `ticket_id` is unique within its `source_system`;
    `crm_contact_id` is the id of the CRM's contact, whose record key is
    `<source_system>_contact:<crm_contact_id>` in identity resolution.
#}

with

hubspot as (
    select
        ticket_id::text as ticket_id,
        'hubspot'::text as source_system,
        contact_id::text as crm_contact_id,
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
    from {{ ref('stg_hubspot__tickets') }}
    where not is_deleted
),

salesforce as (
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
)

select * from hubspot
union all
select * from salesforce
