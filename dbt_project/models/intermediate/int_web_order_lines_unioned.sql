{{ config(materialized='view', pre_hook=[], post_hook=[]) }}

{#
    Every line of every web shop's orders, one row per shop order line, in one shape (the lines of
    int_web_orders_unioned's orders; `order_id` is the same key), from each shop's staging model of
    contract `web_order_lines`, `stg_<shop>__web_order_lines` (macro source_contract_models).
    Amounts are before taxes: `unit_price` before discounts, `discount_amount` the line's share of
    them, `amount` after them. `product_fallback_type`/`_id` key a line's product when it has no
    SKU (macro product_key): the shop's variant or product, else the line itself.
#}

{%- set columns -%}
    order_line_id, order_id, shop_system, shop_order_id, shop_order_line_id, sku, product_name, product_fallback_type,
    product_fallback_id, quantity, unit_price, discount_amount, amount, currency_code, loaded_at, is_deleted
{%- endset %}

{% for model in source_contract_models('web_order_lines') -%}
select {{ columns }} from {{ ref(model) }}
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
