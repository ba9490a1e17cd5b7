{#
    The products of the CRM's deals, from each CRM's staging model of contract `crm_deal_lines`,
    `stg_<crm>__crm_deal_lines` (macro source_contract_models): HubSpot line items, or Salesforce
    OpportunityLineItems (`discount_percentage` where the CRM gives the discount as a percentage,
    `unit_discount` where it gives it per unit).
#}

{%- set columns -%}
    line_item_id, deal_id, product_name, sku, quantity, unit_price, unit_discount, discount_percentage, is_deleted
{%- endset %}

{% for model in source_contract_models('crm_deal_lines') -%}
select {{ columns }} from {{ ref(model) }}
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
