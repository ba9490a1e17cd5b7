{{ config(materialized='view', pre_hook=[], post_hook=[]) }}

{#
    Every order of every web shop and marketplace the business runs, one row per shop order, in one
    shape: what the order-to-cash marts (fct_orders), identity resolution (the ERP order entered
    from a shop order proves whose it is) and the web-order activations read instead of each shop's
    staging. Each shop's staging model of contract `web_orders`, `stg_<shop>__web_orders` (macro
    source_contract_models, generated from the registry by `python -m puente.sources.contracts`),
    gives these `columns` (each says how it reads its shop):
      - `order_id` is the order's key in the marts, md5 of `<shop>_order:<id>`;
      - `order_reference` is what the ERP sale order entered from it carries in `client_order_ref`
        (compared without a leading `#`): unique across the shops (`1042`, `WC-1042`, `TN-1042`);
      - `buyer_order_number` is the order's number as the shop shows its buyer (`#1042` in every
        shop: two shops' may be alike), what a customer cites writing in about it
        (int_customer_ticket_orders);
      - `status`: `done` once fulfilled, `cancelled`, else `confirmed` (the stock is taken, the
        money may still be on its way); a checkout awaiting payment is no order yet: left out;
      - `shipping_amount` before taxes, as the other amounts of the marts;
      - `is_cart_incomplete`: the order belongs to a cart of several orders (a Mercado Libre pack,
        whose orders share `order_reference`) and some of the cart's orders have not landed yet;
        false for shops whose orders are carts already;
      - `has_unread_lines`: staging quarantined a line of the order (an id, quantity or price it
        could not read; marts.data_issues names it), so the order's lines here lack it;
      - `cancelled_at`, for a cancelled order, when the shop cancelled it; a shop that does not date
        the cancellation gives the order's last change (it was cancelled then or before), so that a
        model learning from the past never sees a cancellation before it happened.
    A view: the incremental facts filter it on `loaded_at` as they would the staging tables.
#}

{%- set columns -%}
    order_id, shop_system, shop_title, shop_order_id, order_name, order_reference, buyer_order_number, customer_record_key, ordered_at,
    status, is_cancelled, cancelled_at, is_paid, refund_status, amount_total, currency_code, shipping_amount, is_cart_incomplete,
    has_unread_lines, loaded_at, is_deleted
{%- endset %}

{% for model in source_contract_models('web_orders') -%}
select {{ columns }} from {{ ref(model) }}
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
