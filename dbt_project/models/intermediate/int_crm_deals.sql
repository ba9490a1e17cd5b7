{#
    The CRM's deals, from the CRM the business runs: each CRM's staging model of contract
    `crm_deals`, `stg_<crm>__crm_deals` (macro source_contract_models, generated from the
    registry): HubSpot deals, or Salesforce Opportunities. `contact_ids` are the deal's people as
    customer records of `contact_record_type` (a HubSpot deal's associated contacts; an
    Opportunity's primary Contact), `erp_origin` what names the deal in the ERP order made from
    it, `deal_key` the deal across nights (activation row keys), `closed_at` when it closed,
    `source_object` the CRM's object it lands from (its raw record, as an erasure names it in
    ops.erased_records, is `<crm_system>/<source_object>/<deal_id>`) and `loaded_at` when it landed.
#}

{%- set columns -%}
    deal_id, crm_system, contact_record_type, deal_key, erp_origin, deal_name, amount, currency_code, is_won,
    closed_at, contact_ids, is_deleted, source_object, loaded_at
{%- endset %}

{% for model in source_contract_models('crm_deals') -%}
select {{ columns }} from {{ ref(model) }}
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
