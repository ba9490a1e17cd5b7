{#
    Helpers of the activation models (models/activations/).
#}

{# The ERP customer of an order (act_web_orders_to_erp, act_won_deals_to_erp), from columns
   `odoo_partner_id`, `customer_id` and the golden record's `full_name`, `tax_id`, `email`,
   `phone`, `city`, `country_code` (optionally behind `alias.`): the partner Puente knows, or a
   new one with Puente's reference, a NIT (nine digits from 8 or 9) with its DIAN check digit or a
   cédula as it is. A tax id sealed in the warehouse (puente/field_crypto.py) is read through the
   keys the loader derived from it (ops.sealed_keys); the engine opens it as it sends the row. #}
{% macro erp_partner(alias='') -%}
{%- set c = alias ~ '.' if alias else '' -%}
{%- set is_nit -%}
    case when {{ is_sealed(c ~ 'tax_id') }} then {{ sealed_tax_id_key(c ~ 'tax_id', 'tax_id_is_nit_body') }}
        else {{ is_nit_body(c ~ 'tax_id') }} end
{%- endset -%}
case
    when {{ c }}odoo_partner_id is not null then jsonb_build_object('id', {{ c }}odoo_partner_id)
    else jsonb_build_object('new', jsonb_strip_nulls(jsonb_build_object(
        'ref', 'puente:' || {{ c }}customer_id,
        'name', {{ c }}full_name,
        'vat', case when {{ is_sealed(c ~ 'tax_id') }} then {{ sealed_tax_id_key(c ~ 'tax_id', 'tax_id_erp_vat') }}
            else {{ erp_vat(c ~ 'tax_id') }} end,
        'id_type', case
            when {{ is_nit }} then 'nit'
            when {{ c }}tax_id is not null then 'cedula'
        end,
        'is_company', {{ is_nit }},
        'email', {{ c }}email,
        'phone', {{ c }}phone,
        'city', {{ c }}city,
        'country_code', {{ c }}country_code
    )))
end
{%- endmacro %}

{# Whether a Colombian tax id's matching key (tax_id_normalized) is a company's NIT: nine digits from 8 or 9. #}
{% macro is_nit_body(tax_id) -%}
    ({{ tax_id }} ~ '^[89][0-9]{8}$')
{%- endmacro %}

{# The tax id as the ERP takes it (Odoo's `vat`): a NIT with its DIAN check digit, anything else as it is. #}
{% macro erp_vat(tax_id) -%}
    (case when {{ is_nit_body(tax_id) }} then {{ tax_id }} || '-' || {{ nit_check_digit(tax_id) }} else {{ tax_id }} end)
{%- endmacro %}

{# A key the loader derived from a sealed matching key of a tax id (ops.sealed_keys, puente/sealed_keys.py). #}
{% macro sealed_tax_id_key(tax_id, column) -%}
    (select sealed_keys.{{ column }} from {{ source('ops', 'sealed_keys') }} as sealed_keys
     where sealed_keys.tax_id_normalized = {{ tax_id }} and sealed_keys.kind = 'tax_id' limit 1)
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

{# The erasure (Habeas Data, puente/erasure.py) that scrubbed record `id` of `system`'s `object`, as
   `erasure <id> of <date>`, while the record has not landed again since (`loaded_at` not after the
   erasure, which moved it to its own moment): a record the source changed later is new data the
   business holds, not the erased person's. Null otherwise. ops.erased_records keys a record by
   HMAC-SHA256 of `<system>/<object>/<id>` under ops.erasure_key (keyed_hash; looked up by its
   primary key). #}
{% macro erasure_of(system, object, id, loaded_at) -%}
(select 'erasure ' || e.erasure_id || ' of ' || to_char(e.erased_at at time zone 'UTC', 'YYYY-MM-DD')
 from {{ source('ops', 'erased_records') }} as e, {{ source('ops', 'erasure_key') }} as k
 where e.source = {{ system }} and e.object = {{ object }}
     and e.record_hash = {{ keyed_hash('k', system ~ " || '/' || " ~ object ~ " || '/' || " ~ id) }}
     and e.erased_at >= {{ loaded_at }}
 order by e.erased_at desc limit 1)
{%- endmacro %}

{# Why an order of an erased person (its record scrubbed: erasure_of) is held: the customer
   Puente would post it for is the anonymous remainder of that person, no longer tied to their
   ERP partner; posting it would create a partner for them again, or a second order for a deal
   already fulfilled (the erasure removed what matched the two). `what`: 'order', 'deal'. #}
{% macro erased_problem(erasure, what) -%}
'the customer of this {{ what }} was erased (Habeas Data, ' || {{ erasure }} || '): Puente does not post it '
|| 'to the ERP, which would create a partner for them again or a second order; if the business must still '
|| 'deliver it, enter it in the ERP by hand, then drop this row (puente activations drop)'
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


{#- what a shop should show of a product: the ERP's free stock (on hand minus reserved, less
    `unposted`, the units of orders the night has yet to post) minus var `stock_safety_buffer`, in
    whole units, never below zero -#}
{% macro shop_stock_target(on_hand, reserved, unposted='0') -%}
    greatest(0, floor(coalesce({{ on_hand }}, 0) - coalesce({{ reserved }}, 0) - {{ unposted }}
                      - {{ var('stock_safety_buffer') }}))::integer
{%- endmacro %}

{# Every active product the ERP holds (dim_products), with `available`: what a shop may show of
   it, the ERP's free stock (on hand minus reserved), minus what tonight's ERP orders will reserve
   when posted (the valid rows of act_web_orders_to_erp and act_won_deals_to_erp the ERP has not
   accepted yet), minus var `stock_safety_buffer` units, never below zero. The one rule of the
   stock activations (act_stock_to_shop, act_stock_to_tiendanube; its arithmetic is macro
   shop_stock_target, which marts.product_stock_discrepancies measures the shop against too): a
   query, to use as a subquery. #}
{% macro erp_free_stock() -%}
with

products as (
    select * from {{ ref('dim_products') }}
    where is_in_erp and is_active
),

to_post as (
    select 'web_orders_to_erp' as activation, row_key, payload from {{ ref('act_web_orders_to_erp') }}
    where invalid_reason is null
    union all
    select 'won_deals_to_erp', row_key, payload from {{ ref('act_won_deals_to_erp') }}
    where invalid_reason is null
),

unposted as (
    select (line ->> 'product_id')::bigint as odoo_product_id, sum((line ->> 'product_uom_qty')::numeric) as quantity
    from to_post
    cross join lateral jsonb_array_elements(to_post.payload -> 'order_line') as lines (line)
    where not exists (select from {{ ref('stg_ops__activation_state') }} as accepted
                      where accepted.activation = to_post.activation and accepted.row_key = to_post.row_key)
    group by 1
)

select
    products.*,
    {{ shop_stock_target('products.stock_on_hand', 'products.stock_reserved', 'coalesce(unposted.quantity, 0)') }}
        as available
from products
left join unposted
    on products.odoo_product_id = unposted.odoo_product_id
{%- endmacro %}
