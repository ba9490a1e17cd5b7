{#
    Service tickets of every CRM in one contract, one row per ticket still in its CRM (archived or
    deleted ones dropped), from each CRM's staging model of contract `service_tickets`,
    `stg_<crm>__service_tickets` (macro source_contract_models, generated from the registry):
    HubSpot tickets, Salesforce Cases. Priorities in lower case (`low`, `medium`, `high`,
    `urgent`), as both CRMs' words. `ticket_id` is unique within its `source_system`;
    `crm_contact_id` is the id of the CRM's contact, whose record key is
    `<source_system>_contact:<crm_contact_id>` in identity resolution.
#}

{%- set columns -%}
    ticket_id, source_system, crm_contact_id, subject, category, priority, is_complaint, opened_at,
    first_response_at, resolved_at, reopened_count, is_open, updated_at
{%- endset %}

{% for model in source_contract_models('service_tickets') -%}
select {{ columns }} from {{ ref(model) }}
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
