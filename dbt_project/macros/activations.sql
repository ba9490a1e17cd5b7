{#
    Helpers of the CRM score activation (models/activations/act_crm_contact_scores.sql).
#}

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
