{#
    One row per payment collected (or attempted) through a payment provider, `provider` saying
    which system it was landed from (Mercado Libre's sales carry their Mercado Pago payments): each
    provider's staging model of contract `provider_payments`,
    `stg_<provider>__provider_payments` (macro source_contract_models, generated from the
    registry), says its payments in Mercado Pago's words (`payment_status` `approved`, `refunded`,
    `charged_back`, `rejected`, `pending`; `status_detail` the provider's own). Each is matched to
    what it paid, `reference_kind`:
      - `order`: the shop order the provider's own data names (`shop_order_key`: a Stripe charge's
        WooCommerce order, from its metadata; a Mercado Libre sale's payment, its sale), when the
        warehouse has it (`external_reference` is then its name, `WC-1042`, `ML-2000009713473608`);
      - `invoice`: else a customer invoice whose number in the ERP is the business's reference on
        the payment (`external_reference`: a Mercado Pago payment link), and the order
        (fct_orders) whose sale order it names first in `invoice_origin`;
      - `order`: else a web order whose name is that reference (`#1042`, the shop's checkout);
      - `unmatched`: nothing the business has (a reference typed by hand, an order the shop no
        longer has).
    The customer is the order's, else the invoice partner's (int_customers_matched).
    Money, in the payment's currency: `collected_amount` is what the payer was charged once the
    payment went through (approved, later refunded or charged back too); `net_amount` what the
    business keeps of it after refunds and chargebacks; `fee_amount` the provider's fees and
    `net_received_amount` what reached the business's account.
#}

{%- set columns -%}
    payment_id, provider, external_reference, shop_order_key, payment_status, status_detail, payment_method,
    payment_type, currency_code, amount, collected_amount, refunded_amount, charged_back_amount, net_amount,
    fee_amount, net_received_amount, refund_count, last_refunded_at, created_at, approved_at, updated_at
{%- endset %}

with

provided as (
    {%- for model in source_contract_models('provider_payments') %}
    select {{ columns }} from {{ ref(model) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- A Mercado Libre sale's payment is a Mercado Pago payment: a business landing both sees it twice,
-- under one id. The record naming the order it pays is kept (Mercado Libre's, when both do), with
-- what reached the account as the other says it when it does not (the sale does not say).
payments as (
    select distinct on (payment_id)
        *,
        max(net_received_amount) over (partition by payment_id) as net_received_known
    from provided
    order by payment_id, shop_order_key is null, provider <> 'mercadolibre', provider
),

invoices as (
    select distinct on (invoice_name)
        invoice_id, invoice_name, partner_id, trim(split_part(invoice_origin, ',', 1)) as sale_order_name
    from {{ ref('stg_odoo__invoices') }}
    where not is_deleted and move_type = 'out_invoice' and state <> 'cancel' and invoice_name <> '/'
    order by invoice_name, state = 'posted' desc, invoice_id desc
),

orders as (
    select order_id, order_name, channel, customer_id, odoo_sale_order_name
    from {{ ref('fct_orders') }}
),

customer_records as (
    select record_key, customer_id from {{ ref('int_customers_matched') }}
),

matched as (
    select
        payments.*,
        shop_orders.order_name as shop_order_name,
        case
            when shop_orders.order_id is not null then 'order'
            when invoices.invoice_id is not null then 'invoice'
            when web_orders.order_id is not null then 'order'
            else 'unmatched'
        end as reference_kind,
        invoices.invoice_id,
        coalesce(shop_orders.order_id, web_orders.order_id, invoiced_orders.order_id) as order_id,
        coalesce(shop_orders.customer_id, web_orders.customer_id, invoiced_orders.customer_id, partners.customer_id)
            as customer_id
    from payments
    left join orders as shop_orders
        on shop_orders.channel = 'web' and shop_orders.order_id = payments.shop_order_key
    left join invoices
        on shop_orders.order_id is null and payments.external_reference = invoices.invoice_name
    left join orders as web_orders
        on shop_orders.order_id is null and invoices.invoice_id is null and web_orders.channel = 'web'
        and payments.external_reference = web_orders.order_name
    left join orders as invoiced_orders
        on invoiced_orders.odoo_sale_order_name = invoices.sale_order_name
    left join customer_records as partners
        on partners.record_key = {{ record_key("'odoo_partner'", 'invoices.partner_id') }}
)

select
    payment_id,
    provider,
    coalesce(shop_order_name, external_reference) as external_reference,
    reference_kind,
    order_id,
    invoice_id,
    customer_id,
    payment_status,
    status_detail,
    payment_method,
    payment_type,
    currency_code,
    amount,
    collected_amount,
    refunded_amount,
    charged_back_amount,
    net_amount,
    fee_amount,
    coalesce(net_received_amount, net_received_known) as net_received_amount,
    refund_count,
    last_refunded_at,
    created_at,
    approved_at,
    updated_at
from matched
