{#
    The CRM's people and who owns each (the salesperson Puente's tasks go to), from the CRM the
    business runs: each CRM's staging model of contract `crm_people`, `stg_<crm>__crm_people`
    (macro source_contract_models, from the registry): HubSpot contacts, or Salesforce Contacts
    and the Leads not converted yet. `crm_object` says which: Puente's fields live on Contacts
    only, so a Lead gets tasks but no fields (the activations say to convert it); `source_object`
    names the object as landed (`contacts`, `leads`). With what identity resolution reads of each
    person.
#}

{%- set columns -%}
    contact_id, owner_id, crm_system, crm_object, source_object, full_name, email, phone, mobile_phone, tax_id, street, city,
    country, has_marketing_consent, has_processing_authorisation, created_at, updated_at
{%- endset %}

{% for model in source_contract_models('crm_people') -%}
select {{ columns }} from {{ ref(model) }}
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
