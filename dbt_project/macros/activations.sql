{#
    Helpers of the activation models (models/activations/).
#}

{# The ERP customer of an order (act_web_orders_to_erp, act_won_deals_to_erp), from columns
   `odoo_partner_id`, `customer_id` and the golden record's `full_name`, `tax_id`, `email`,
   `phone`, `city`, `country_code` (optionally behind `alias.`): the partner Puente knows, or a
   new one with Puente's reference, a NIT (nine digits from 8 or 9) with its DIAN check digit or a
   cédula as it is. #}
{% macro erp_partner(alias='') -%}
{%- set c = alias ~ '.' if alias else '' -%}
case
    when {{ c }}odoo_partner_id is not null then jsonb_build_object('id', {{ c }}odoo_partner_id)
    else jsonb_build_object('new', jsonb_strip_nulls(jsonb_build_object(
        'ref', 'puente:' || {{ c }}customer_id,
        'name', {{ c }}full_name,
        'vat', case
            when {{ c }}tax_id ~ '^[89][0-9]{8}$' then {{ c }}tax_id || '-' || {{ nit_check_digit(c ~ 'tax_id') }}
            else {{ c }}tax_id
        end,
        'id_type', case
            when {{ c }}tax_id ~ '^[89][0-9]{8}$' then 'nit'
            when {{ c }}tax_id is not null then 'cedula'
        end,
        'is_company', {{ c }}tax_id ~ '^[89][0-9]{8}$',
        'email', {{ c }}email,
        'phone', {{ c }}phone,
        'city', {{ c }}city,
        'country_code', {{ c }}country_code
    )))
end
{%- endmacro %}

{# Why the ERP cannot take the customer of an order, or null (same columns as erp_partner). #}
{% macro erp_partner_problem(alias='') -%}
{%- set c = alias ~ '.' if alias else '' -%}
case
    when {{ c }}odoo_partner_id is null and {{ c }}tax_id is null and {{ var('erp_requires_tax_id') }}
        then 'the customer ' || coalesce({{ c }}full_name, '') || ' is not in the ERP yet and has no cédula/NIT; '
             || 'the ERP requires one: add it in the CRM or the shop, or enter the order by hand'
end
{%- endmacro %}

{# The ERP partner id of a golden customer (the oldest of its partners), from `odoo_partner_ids`. #}
{% macro erp_partner_id(partner_ids) -%}
(select min(partner_id::bigint) from unnest({{ partner_ids }}) as ids (partner_id))
{%- endmacro %}

{# What the CRM shows now for `field` (the payload it last accepted). #}
{% macro crm_shown(field) -%}
(accepted_payload ->> '{{ field }}')
{%- endmacro %}

{# Churn reasons as a set of kinds: split on "; ", figures masked, sorted ("no order in 178
   days" and "no order in 179 days" are one kind). #}
{% macro reason_kinds(text) -%}
(select coalesce(jsonb_agg(distinct regexp_replace(trim(reason), '[0-9]+([.,][0-9]+)*%?', '#', 'g')), '[]'::jsonb)
 from unnest(string_to_array({{ text }}, ';')) as reasons (reason) where trim(reason) <> '')
{%- endmacro %}

{# What the diff compares of a payload `p`: the fields a salesperson reads, reasons as kinds. #}
{% macro crm_compared(p) -%}
jsonb_build_object(
    'risk', {{ p }} ->> 'puente_churn_risk',
    'reasons', {{ reason_kinds(p ~ " ->> 'puente_churn_reasons'") }},
    'action', {{ p }} ->> 'puente_next_action',
    'product', {{ p }} ->> 'puente_next_action_product',
    'score', {{ p }} ->> 'puente_churn_score'
)
{%- endmacro %}
