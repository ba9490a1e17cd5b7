{#
    One row per payment collected (or attempted) through a payment provider, `provider` saying
    which. Mercado Pago's payments are matched to what the business's reference on them names
    (`external_reference`):
      - `invoice`: a customer invoice's number in the ERP (a payment link): that invoice, and the
        order (fct_orders) whose sale order it names first in `invoice_origin`;
      - `order`: a web order's name (`#1042`, the shop's checkout): that order;
      - `unmatched`: nothing the business has (a reference typed by hand, an order the shop no
        longer has).
    Stripe's charges (every attempt) name the WooCommerce order in their metadata (its id, written
    by the store's Stripe gateway): `order` when the warehouse has that order (`external_reference`
    is then its name, `WC-1042`), else `unmatched`. A Stripe charge's status is said in the same
    words as Mercado Pago's: `approved` (succeeded), `refunded` (in full), `charged_back`
    (disputed: the funds are withdrawn while the dispute lasts, and for good once it is lost; a
    dispute won is `approved` again, though Stripe leaves the charge `disputed`), `rejected`
    (failed), `pending`; `status_detail` keeps Stripe's own (`succeeded`, `failed: card_declined`,
    `disputed: won`).
    Its fee and net are those of its balance transaction, converted to the charge's currency
    when the account settles in another (`exchange_rate`), plus the fees of its disputes (on the
    dispute's own balance transactions, which name the dispute, not the charge), which also come
    out of what the charge left in the account.
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
    select order_id, order_name, channel, customer_id, odoo_sale_order_name, woocommerce_order_id
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

mercadopago as (
    select
        payment_id::text as payment_id,
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
),

charges as (
    select * from {{ ref('stg_stripe__charges') }}
    where not is_deleted
),

-- the balance transaction that credited each charge, in the charge's currency
credited as (
    select
        source_object_id as charge_id,
        sum(fee_amount / coalesce(nullif(exchange_rate, 0), 1)) as fee_amount,
        sum(net_amount / coalesce(nullif(exchange_rate, 0), 1)) as net_received_amount
    from {{ ref('stg_stripe__balance_transactions') }}
    where transaction_type in ('charge', 'payment') and not is_deleted
    group by source_object_id
),

-- the fees of a charge's disputes, in the charge's currency (the dispute's withdrawal carries the
-- fee; a reinstatement may return it)
dispute_fees as (
    select
        disputes.charge_id,
        sum(movements.fee_amount / coalesce(nullif(movements.exchange_rate, 0), 1)) as fee_amount
    from {{ ref('stg_stripe__balance_transactions') }} as movements
    inner join {{ ref('stg_stripe__disputes') }} as disputes
        on movements.source_object_id = disputes.dispute_id
    where movements.transaction_type = 'adjustment' and not movements.is_deleted and not disputes.is_deleted
    group by disputes.charge_id
),

-- a charge's latest dispute: won gives the money back, lost or still open keeps it withdrawn
disputed as (
    select distinct on (charge_id) charge_id, dispute_status
    from {{ ref('stg_stripe__disputes') }}
    where not is_deleted
    order by charge_id, created_at desc, dispute_id desc
),

refunded as (
    select charge_id, count(*) as refund_count, max(created_at) as last_refunded_at
    from {{ ref('stg_stripe__refunds') }}
    where refund_status in ('succeeded', 'pending') and not is_deleted
    group by charge_id
),

stripe_charges as (
    select
        charges.*,
        case
            when charges.charge_status = 'failed' then 'rejected'
            when charges.charge_status is distinct from 'succeeded' then charges.charge_status
            when charges.is_disputed and disputed.dispute_status is distinct from 'won' then 'charged_back'
            when charges.is_refunded then 'refunded'
            else 'approved'
        end as payment_status,
        disputed.dispute_status,
        store_orders.order_id,
        store_orders.order_name,
        store_orders.customer_id
    from charges
    left join disputed
        on disputed.charge_id = charges.charge_id
    left join orders as store_orders
        on store_orders.channel = 'web' and store_orders.woocommerce_order_id = charges.woocommerce_order_id
),

stripe as (
    select
        stripe_charges.charge_id as payment_id,
        'stripe' as provider,
        coalesce(stripe_charges.order_name, 'WC-' || stripe_charges.order_number) as external_reference,
        case when stripe_charges.order_id is not null then 'order' else 'unmatched' end as reference_kind,
        stripe_charges.order_id,
        null::bigint as invoice_id,
        stripe_charges.customer_id,
        stripe_charges.payment_status,
        case
            when stripe_charges.failure_code is not null then stripe_charges.charge_status || ': ' || stripe_charges.failure_code
            when stripe_charges.is_disputed then 'disputed: ' || coalesce(stripe_charges.dispute_status, 'open')
            when stripe_charges.refunded_amount > 0 and not stripe_charges.is_refunded then 'partially_refunded'
            else stripe_charges.charge_status
        end as status_detail,
        stripe_charges.payment_method,
        stripe_charges.payment_method as payment_type,
        stripe_charges.currency_code,
        stripe_charges.amount,
        case when stripe_charges.charge_status = 'succeeded' then stripe_charges.amount else 0 end as collected_amount,
        stripe_charges.refunded_amount,
        case when stripe_charges.payment_status = 'charged_back' then stripe_charges.amount - stripe_charges.refunded_amount
             else 0 end as charged_back_amount,
        case when stripe_charges.payment_status = 'approved' then stripe_charges.amount - stripe_charges.refunded_amount
             else 0 end as net_amount,
        coalesce(credited.fee_amount, 0) + coalesce(dispute_fees.fee_amount, 0) as fee_amount,
        coalesce(credited.net_received_amount, 0) - coalesce(dispute_fees.fee_amount, 0) as net_received_amount,
        coalesce(refunded.refund_count, 0) as refund_count,
        refunded.last_refunded_at,
        stripe_charges.created_at,
        case when stripe_charges.charge_status = 'succeeded' then stripe_charges.created_at end as approved_at,
        stripe_charges.updated_at
    from stripe_charges
    left join credited
        on credited.charge_id = stripe_charges.charge_id
    left join refunded
        on refunded.charge_id = stripe_charges.charge_id
    left join dispute_fees
        on dispute_fees.charge_id = stripe_charges.charge_id
)

select * from mercadopago
union all
select * from stripe
