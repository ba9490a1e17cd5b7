{#
    Each order's way from order to cash: shop order -> ERP sale order -> invoice -> payment,
    with the won CRM deal it came from, its stage and the days between stages.
      - entered in the ERP: the sale order's `create_date` (an ERP order is there at once);
      - invoiced: the earliest `invoice_date` of the issued customer invoices naming the sale
        order (`invoice_origin`): posted, and for a company in Colombia accepted by the DIAN
        (macros/company_country.sql; a pending or rejected electronic invoice is not issued yet,
        marts.einvoice_issues lists it);
      - paid: from the payment provider itself when it collected the order's total (fct_payments:
        its checkout, or the payment links of the order's invoices; net of refunds and
        chargebacks, less var `payment_amount_tolerance`): `paid_at` is the approval of the
        latest of those payments, `payment_source` `provider`. Otherwise from the ERP: every
        posted invoice `paid` or `in_payment`; Odoo's payment date is not in the landed
        fields, so `paid_at` is the latest `write_date` of those invoices (when the payment was
        reconciled, at the latest), `payment_source` `erp`. `days_to_payment` stays the ERP's
        (invoice date to the ERP's payment), `days_to_cash` runs from the order to `paid_at`
        (a web order paid at the checkout is paid before it is invoiced).
    Stage: `cancelled`, `paid`, `invoiced`, `in_erp` or `ordered` (only in the shop).
    The orders of a cart (a Mercado Libre pack) share the one sale order entered for the cart
    (`erp_order_share` < 1): `invoice_count`, the dates and the stage are the cart's on each of
    them, and `amount_residual` is the cart's shared out by each order's part of the cart's total
    (`erp_order_share`), so that it sums to the cart's over its orders (to the cent); each order's own payment
    pays it.
#}

with

orders as (
    select
        *,
        -- an order's part of its ERP sale order: 1 unless a cart's orders share it (by amount;
        -- evenly when the cart's amounts are all zero)
        case
            when odoo_sale_order_id is null or channel = 'erp' then 1.0
            else coalesce(
                amount_total / nullif(sum(amount_total) over (partition by odoo_sale_order_id, channel), 0),
                1.0 / count(*) over (partition by odoo_sale_order_id, channel)
            )
        end as erp_order_share
    from {{ ref('fct_orders') }}
),

sale_orders as (
    select sale_order_id, sale_order_name, created_at from {{ ref('stg_odoo__sale_orders') }}
),

invoices as (
    select * from {{ ref('stg_odoo__invoices') }}
    where
        not is_deleted and move_type = 'out_invoice' and state = 'posted'
        and {{ invoice_is_issued() }}
),

invoice_origins as (
    select
        trim(origins.sale_order_name) as sale_order_name,
        invoices.invoice_id,
        invoices.invoice_date,
        invoices.due_date,
        invoices.amount_residual,
        invoices.payment_state,
        invoices.updated_at
    from invoices
    cross join lateral unnest(string_to_array(invoices.invoice_origin, ',')) as origins (sale_order_name)
),

invoicing as (
    select
        sale_order_name,
        count(*) as invoice_count,
        min(invoice_date) as invoiced_date,
        min(due_date) filter (where payment_state not in ('paid', 'in_payment', 'reversed')) as due_date,
        sum(amount_residual) as amount_residual,
        case when bool_and(payment_state in ('paid', 'in_payment')) then max(updated_at) end as paid_at
    from invoice_origins
    group by sale_order_name
),

provider_payments as (
    select
        order_id,
        sum(net_amount) as net_amount,
        sum(fee_amount) filter (where collected_amount > 0) as fee_amount,
        max(approved_at) filter (where net_amount > 0) as paid_at
    from {{ ref('fct_payments') }}
    where order_id is not null
    group by order_id
),

deals as (
    select distinct on (order_id) order_id, deal_id
    from {{ ref('int_deals_orders_matched') }}
    where order_id is not null
    order by order_id, closed_at desc, deal_id
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.order_name,
        orders.channel,
        deals.deal_id as crm_deal_id,
        orders.ordered_at,
        case
            when orders.channel = 'erp' then orders.ordered_at
            else sale_orders.created_at
        end as erp_entered_at,
        invoicing.invoiced_date,
        invoicing.due_date,
        case when provider_paid.order_id is not null then provider_paid.paid_at else invoicing.paid_at end as paid_at,
        case
            when provider_paid.order_id is not null then 'provider'
            when invoicing.paid_at is not null then 'erp'
        end as payment_source,
        provider_payments.net_amount as provider_net_amount,
        provider_payments.fee_amount as provider_fee_amount,
        coalesce(invoicing.invoice_count, 0) as invoice_count,
        round(invoicing.amount_residual * orders.erp_order_share, 2) as amount_residual,
        orders.erp_order_share,
        case
            when orders.is_cancelled then 'cancelled'
            when invoicing.paid_at is not null or provider_paid.order_id is not null then 'paid'
            when invoicing.invoiced_date is not null then 'invoiced'
            when orders.odoo_sale_order_id is not null then 'in_erp'
            else 'ordered'
        end as stage,
        round(extract(epoch from (case when orders.channel = 'erp' then orders.ordered_at else sale_orders.created_at end) - orders.ordered_at) / 86400.0, 2) as days_to_erp,
        invoicing.invoiced_date - (orders.ordered_at at time zone '{{ var("business_timezone") }}')::date as days_to_invoice,
        (invoicing.paid_at at time zone '{{ var("business_timezone") }}')::date - invoicing.invoiced_date as days_to_payment,
        (case when provider_paid.order_id is not null then provider_paid.paid_at else invoicing.paid_at end
            at time zone '{{ var("business_timezone") }}')::date
            - (orders.ordered_at at time zone '{{ var("business_timezone") }}')::date as days_to_cash,
        orders.amount_total,
        orders.currency_code
    from orders
    left join sale_orders
        on orders.odoo_sale_order_id = sale_orders.sale_order_id
    left join invoicing
        on sale_orders.sale_order_name = invoicing.sale_order_name
    left join deals
        on orders.order_id = deals.order_id
    left join provider_payments
        on orders.order_id = provider_payments.order_id
    left join provider_payments as provider_paid
        on orders.order_id = provider_paid.order_id
        and provider_paid.net_amount >= orders.amount_total - {{ var('payment_amount_tolerance') }}
)

select * from final
