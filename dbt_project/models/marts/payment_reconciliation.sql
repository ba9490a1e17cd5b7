{#
    Each payment provider against the ERP, one row per provider and reference it was paid (or
    asked to be paid) against: an ERP invoice (a Mercado Pago payment link) or a web order (a
    shop's checkout: the Shopify shop's through Mercado Pago, the WooCommerce store's through
    Stripe; a Mercado Libre sale, through the Mercado Pago payment it carries), or a reference
    that names neither. Measured on var `as_of_date` (today when null), from
    the payments created by then. The provider owns what was collected, refunded and kept in
    fees; the ERP owns the invoices and what the accountant registered as paid (`paid` or
    `in_payment`). `issue` is the first that applies, `issues` all of them:
      - `paid_not_in_erp`: the provider collected for a live web order that has no issued invoice
        in the ERP, var `payment_registration_grace_days` days after the approval;
      - `paid_not_marked_paid`: the provider collected, the ERP's invoice is not marked paid
        after those days (a link paid before the accountant saw the money);
      - `cancelled_not_refunded`: the provider kept money for an order the shop cancelled;
      - `refund_not_in_erp`: the provider refunded (in full or in part) an invoice the ERP still
        shows paid;
      - `marked_paid_no_payment`: the ERP shows the invoice paid, the provider holds nothing for
        it: every attempt was rejected or cancelled, or the payer's card issuer took it back;
      - `currency_mismatch`: the provider's currency is not the invoice's;
      - `amount_mismatch`: what the provider collected (before refunds) differs from the invoices'
        total by more than var `payment_amount_tolerance` (a customer withholding tax, an order
        retyped with a wrong quantity);
      - `unknown_reference`: money collected against a reference the business does not have.
    `fee_amount` and `net_received_amount` show what the provider deducted on every row: the ERP
    books the invoice's total, the business's account receives the net.
#}

{%- set as_of = as_of_date() %}
{%- set tolerance = var('payment_amount_tolerance') %}

with

payments as (
    select * from {{ ref('fct_payments') }}
    where (created_at at time zone '{{ var("business_timezone") }}')::date <= {{ as_of }}
),

invoices as (
    select * from {{ ref('stg_odoo__invoices') }}
    where not is_deleted and move_type = 'out_invoice' and state = 'posted' and {{ invoice_is_issued() }}
),

orders as (
    select order_id, order_name, customer_id, is_cancelled, odoo_sale_order_name from {{ ref('fct_orders') }}
),

-- the provider's side, per reference
provided as (
    select
        provider,
        reference_kind,
        coalesce(external_reference, '(none)') as external_reference,
        min(invoice_id) as invoice_id,
        min(order_id) as order_id,
        min(customer_id) as customer_id,
        count(*) as payment_count,
        string_agg(distinct currency_code, ',') as provider_currency_code,
        sum(collected_amount) as collected_amount,
        sum(refunded_amount) as refunded_amount,
        sum(charged_back_amount) as charged_back_amount,
        sum(net_amount) as net_amount,
        sum(fee_amount) as fee_amount,
        sum(net_received_amount) filter (where collected_amount > 0) as net_received_amount,
        min(approved_at) filter (where collected_amount > 0) as first_approved_at,
        max(updated_at) as provider_updated_at
    from payments
    group by provider, reference_kind, coalesce(external_reference, '(none)')
),

-- each invoice once per sale order its origin names (`S00042, S00043`; int_invoice_origins): an
-- equality to join on (matching the origin's list against every order grew with orders times invoices)
invoice_origins as (
    select distinct invoice_id, sale_order_name
    from {{ ref('int_invoice_origins') }}
    where names_sale_order
),

-- the ERP's side: the invoice a link names, or the issued invoices of the order's sale order
order_invoices as (
    select
        orders.order_id,
        count(invoices.invoice_id) as invoice_count,
        sum(invoices.amount_total) as amount_total,
        string_agg(distinct invoices.currency_code, ',') as currency_code,
        coalesce(bool_and(invoices.payment_state in ('paid', 'in_payment')), false) as is_marked_paid,
        string_agg(distinct invoices.payment_state, ',') as payment_state
    from orders
    inner join invoice_origins
        on invoice_origins.sale_order_name = orders.odoo_sale_order_name
    inner join invoices
        on invoices.invoice_id = invoice_origins.invoice_id
    where orders.order_id in (select order_id from provided where reference_kind = 'order')
    group by orders.order_id
),

compared as (
    select
        provided.*,
        orders.is_cancelled,
        link.invoice_id as erp_invoice_id,
        case
            when provided.reference_kind = 'invoice' then case when link.invoice_id is null then 0 else 1 end
            else coalesce(order_invoices.invoice_count, 0)
        end as erp_invoice_count,
        coalesce(link.amount_total, order_invoices.amount_total) as erp_amount_total,
        coalesce(link.currency_code, order_invoices.currency_code) as erp_currency_code,
        coalesce(link.payment_state, order_invoices.payment_state) as erp_payment_state,
        coalesce(link.payment_state in ('paid', 'in_payment'), order_invoices.is_marked_paid, false) as erp_marked_paid,
        provided.first_approved_at is not null
            and (provided.first_approved_at at time zone '{{ var("business_timezone") }}')::date
                < {{ as_of }} - {{ var('payment_registration_grace_days') }} as is_past_grace
    from provided
    left join invoices as link
        on provided.reference_kind = 'invoice' and link.invoice_id = provided.invoice_id
    left join order_invoices
        on provided.reference_kind = 'order' and order_invoices.order_id = provided.order_id
    left join orders
        on orders.order_id = provided.order_id
),

flagged as (
    select
        compared.*,
        array_remove(array[
            case when reference_kind = 'order' and not coalesce(is_cancelled, false) and net_amount > {{ tolerance }}
                      and erp_invoice_count = 0 and is_past_grace then 'paid_not_in_erp' end,
            case when erp_invoice_count > 0 and net_amount > {{ tolerance }} and not erp_marked_paid
                      and is_past_grace then 'paid_not_marked_paid' end,
            case when coalesce(is_cancelled, false) and net_amount > {{ tolerance }} then 'cancelled_not_refunded' end,
            case when refunded_amount > 0 and erp_marked_paid then 'refund_not_in_erp' end,
            case when erp_marked_paid and refunded_amount = 0 and net_amount <= {{ tolerance }}
                 then 'marked_paid_no_payment' end,
            case when erp_currency_code is not null and provider_currency_code is not null
                      and erp_currency_code <> provider_currency_code then 'currency_mismatch' end,
            case when erp_currency_code = provider_currency_code and net_amount > {{ tolerance }}
                      and abs(collected_amount - charged_back_amount - erp_amount_total) > {{ tolerance }}
                 then 'amount_mismatch' end,
            case when reference_kind = 'unmatched' and net_amount > {{ tolerance }} then 'unknown_reference' end
        ], null) as issues
    from compared
),

final as (
    select
        -- Mercado Pago's rows keep the id they had before there was a second provider
        md5(case when provider = 'mercadopago' then '' else provider || ':' end || reference_kind || ':'
            || external_reference) as reconciliation_id,
        provider,
        external_reference,
        reference_kind,
        order_id,
        coalesce(invoice_id, erp_invoice_id) as invoice_id,
        customer_id,
        coalesce(issues[1], 'matched') as issue,
        issues,
        payment_count,
        provider_currency_code,
        collected_amount,
        refunded_amount,
        charged_back_amount,
        net_amount,
        fee_amount,
        net_received_amount,
        first_approved_at,
        erp_invoice_count,
        erp_amount_total,
        erp_currency_code,
        erp_payment_state,
        erp_marked_paid,
        case when erp_currency_code = provider_currency_code then collected_amount - charged_back_amount - erp_amount_total end
            as amount_difference,
        {{ as_of }} as as_of_date
    from flagged
)

select * from final
