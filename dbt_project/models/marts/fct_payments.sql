{#
    One row per payment collected (or attempted) through a payment provider, Mercado Pago today,
    matched to what the business's reference on it names (`external_reference`):
      - `invoice`: a customer invoice's number in the ERP (a payment link): that invoice, and the
        order (fct_orders) whose sale order it names first in `invoice_origin`;
      - `order`: a web order's name (`#1042`, the shop's checkout): that order;
      - `unmatched`: nothing the business has (a reference typed by hand, an order the shop no
        longer has).
    The customer is the order's, else the invoice partner's (int_customers_matched).
    Money, in the payment's currency: `collected_amount` is what the payer was charged once the
    payment went through (approved, later refunded or charged back too); `net_amount` what the
    business keeps of it after refunds and chargebacks; `fee_amount` the provider's fees and
    `net_received_amount` what reached the business's account.
#}

with

payments as (
    select * from {{ ref('stg_mercadopago__payments') }}
    where not is_deleted
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
        case
            when invoices.invoice_id is not null then 'invoice'
            when web_orders.order_id is not null then 'order'
            else 'unmatched'
        end as reference_kind,
        invoices.invoice_id,
        coalesce(web_orders.order_id, invoiced_orders.order_id) as order_id,
        coalesce(web_orders.customer_id, invoiced_orders.customer_id, partners.customer_id) as customer_id
    from payments
    left join invoices
        on payments.external_reference = invoices.invoice_name
    left join orders as web_orders
        on invoices.invoice_id is null and web_orders.channel = 'web'
        and payments.external_reference = web_orders.order_name
    left join orders as invoiced_orders
        on invoiced_orders.odoo_sale_order_name = invoices.sale_order_name
    left join customer_records as partners
        on partners.record_key = {{ record_key("'odoo_partner'", 'invoices.partner_id') }}
),

final as (
    select
        payment_id,
        'mercadopago' as provider,
        external_reference,
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
        case when payment_status in ('approved', 'refunded', 'charged_back', 'in_mediation') then amount else 0 end
            as collected_amount,
        refunded_amount,
        case when payment_status = 'charged_back' then amount - refunded_amount else 0 end as charged_back_amount,
        case
            when payment_status in ('approved', 'in_mediation') then amount - refunded_amount
            else 0
        end as net_amount,
        fee_amount,
        net_received_amount,
        refund_count,
        last_refunded_at,
        created_at,
        approved_at,
        updated_at
    from matched
)

select * from final
