{#
    The CRM's people (contract `crm_people`, int_crm_contacts): Salesforce Contacts and the Leads
    not converted yet (a Lead's owner is a User as a Contact's is; a converted Lead is its Contact).
#}

{% set person_columns -%}
    full_name, email, phone, mobile_phone, tax_id, street, city, country, has_marketing_consent,
    has_processing_authorisation, created_at, updated_at
{%- endset %}

select contact_id, owner_id, 'salesforce' as crm_system, 'contact' as crm_object, 'contacts' as source_object, {{ person_columns }}
from {{ ref('stg_salesforce__contacts') }}
where not is_deleted

union all

select lead_id, owner_id, 'salesforce', 'lead', 'leads', {{ person_columns }}
from {{ ref('stg_salesforce__leads') }}
where not is_deleted and not is_converted
