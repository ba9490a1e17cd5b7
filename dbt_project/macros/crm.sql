{#
    The CRM a business runs is one of the registry's CRMs (puente/sources/registry.py: one CRM;
    macro source_systems_of_kind('crm'), generated): the models that act through the CRM read
    them all, and only the one the business runs has rows.
#}

{# The customer record types of CRM people (customer_record_types()): ('hubspot_contact', …). #}
{% macro crm_contact_record_types() -%}
    {%- set kinds = [] -%}
    {%- for crm in source_systems_of_kind('crm') if crm in customer_record_types() -%}
        {%- do kinds.append("'" ~ customer_record_types()[crm] ~ "'") -%}
    {%- endfor -%}
    ({{ kinds | join(', ') }})
{%- endmacro %}

{# A golden customer's CRM contact ids (dim_customers' arrays of every CRM), from `alias.`:
   array_cat(hubspot_contact_ids, salesforce_contact_ids). #}
{% macro crm_contact_ids(alias='') -%}
    {%- set c = alias ~ '.' if alias else '' -%}
    {%- set columns = [] -%}
    {%- for crm in source_systems_of_kind('crm') if crm in customer_record_types() -%}
        {%- do columns.append(c ~ customer_record_types()[crm] ~ '_ids') -%}
    {%- endfor -%}
    {{ 'array_cat(' * (columns | length - 1) }}{{ columns[0] }}{% for column in columns[1:] %}, {{ column }}){% endfor %}
{%- endmacro %}

{# A Salesforce datetime (`2026-11-16T14:03:22.000+0000`) with its zone as ISO 8601 writes it
   (`+00:00`), for safe_timestamptz. #}
{% macro salesforce_zone(expression) -%}
regexp_replace({{ expression }}, '([+-][0-9]{2})([0-9]{2})$', '\1:\2')
{%- endmacro %}

{# A Salesforce person's LastName, none when it is a placeholder: Salesforce requires one, so a
   person entered without a surname gets a bracketed stand-in (`[sin apellido]`, web-to-lead's
   `[not provided]`), which is no surname and must not weigh against one in identity resolution. #}
{% macro salesforce_last_name(expression) -%}
case when trim({{ expression }}) !~ '^\[.*\]$' then {{ expression }} end
{%- endmacro %}

{# Whether a CRM person authorised processing (Habeas Data), from the legal basis the CRM records
   (HubSpot's `hs_legal_basis`, the Salesforce org's `Legal_Basis__c`: options joined by semicolons):
   only the person's own consent authorises (Ley 1581 knows no legitimate interest); "Not
   applicable" says they have none (a revocation); anything else leaves it unknown. #}
{% macro processing_authorisation(legal_basis) -%}
case
    when {{ checkbox_has(legal_basis, 'Not applicable') }} then false
    when {{ checkbox_has(legal_basis, 'Freely given consent from contact') }} then true
end
{%- endmacro %}

{# What Puente writes to CRM contacts, from the activation declarations (meta.activation of the
   activation models): a `select contact_id` over ops.activation_state (its staging
   model) of every contact an activation to the CRM wrote to, the fields of a contact
   (`object: contacts`: the row's target) or a record tied to one (tasks: the `contact_id` of the
   payload, as HubSpot moves a contact's last-modified time when it gets a task). Read by
   int_customer_record_changes: a record's last-modified time may be one of Puente's writes. #}
{% macro crm_contact_writes() -%}
    {%- set writes = [] -%}
    {%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- set activation = (node.config.get('meta') or {}).get('activation') or (node.get('meta') or {}).get('activation') -%}
        {%- if activation and (activation.target == 'crm' or activation.target in source_systems_of_kind('crm')) -%}
            {%- if activation.object == 'contacts' -%}
                {%- do writes.append((node.name, 'target_id')) -%}
            {%- elif 'contact_id' in activation.owns -%}
                {%- do writes.append((node.name, "accepted_payload ->> 'contact_id'")) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- endif -%}
    {%- for name, contact in writes %}
    select {{ contact }} as contact_id
    from {{ ref('stg_ops__activation_state') }}
    where activation = '{{ name }}' and {{ contact }} is not null
    union all
    {%- endfor %}
    select null::text as contact_id where false
{%- endmacro %}
