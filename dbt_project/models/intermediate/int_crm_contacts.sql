{#
    The CRM's people and who owns each (the salesperson Puente's tasks go to), from the CRM the
    business runs: HubSpot contacts, or Salesforce Contacts and the Leads not converted yet (a
    Lead's owner is a User as a Contact's is; a converted Lead is its Contact). `crm_object` says
    which: Puente's fields live on Contacts only, so a Lead gets tasks but no fields (the
    activations say to convert it). With what identity resolution reads of each person.
#}

{% set person_columns -%}
    full_name, email, phone, mobile_phone, tax_id, street, city, country, has_marketing_consent,
    has_processing_authorisation, updated_at
{%- endset %}

select contact_id, owner_id, 'hubspot' as crm_system, 'contact' as crm_object, {{ person_columns }}
from {{ ref('stg_hubspot__contacts') }}
where not is_deleted

union all

select contact_id, owner_id, 'salesforce', 'contact', {{ person_columns }}
from {{ ref('stg_salesforce__contacts') }}
where not is_deleted

union all

select lead_id, owner_id, 'salesforce', 'lead', {{ person_columns }}
from {{ ref('stg_salesforce__leads') }}
where not is_deleted and not is_converted
