{{ config(
    materialized='incremental',
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    pre_hook="{{ remove_stale_rows('coalesce(' ~ orders_removed_at() ~ ' > ' ~ kept_build_start() ~ ', true)'
        ~ ' and not exists (select 1 from ' ~ ref('fct_orders') ~ ' as orders where orders.order_id = kept.order_id)') }}",
    post_hook="{{ record_kept_build() }}",
) }}

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

    Kept by order (macros/kept_builds.sql): a night computes the orders fct_orders wrote since the
    last build (which include those of the sale orders an invoice named or stopped naming:
    int_invoice_origins), those whose provider payments or won deal are not their row's, the
    orders of carts (their shares move with any order of the cart), and every order sharing a sale
    order with one of those; the pre-hook deletes the rows of orders gone from fct_orders (looked for
    only when fct_orders removed orders since the last build: macro orders_removed_at).
#}

with

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

{%- call incremental_only() %}
-- the orders a night computes (every order when no build of this code is recorded:
-- kept_build_start() is then '-infinity')
changed_orders as (
    -- written by fct_orders since (their sale order, amount, status, customer, and the orders of
    -- sale orders an invoice named or stopped naming: int_invoice_origins)
    select order_id from {{ ref('fct_orders') }}
    where refreshed_at > {{ kept_build_start() }}
    union
    -- whose provider payments are not what the row says
    select coalesce(provider_payments.order_id, kept.order_id)
    from provider_payments
    full join (select * from {{ this }} where provider_net_amount is not null) as kept
        on provider_payments.order_id = kept.order_id
    where
        provider_payments.net_amount is distinct from kept.provider_net_amount
        or provider_payments.fee_amount is distinct from kept.provider_fee_amount
        or (provider_payments.net_amount >= kept.amount_total - {{ var('payment_amount_tolerance') }})
            is distinct from (kept.payment_source = 'provider')
        or (kept.payment_source = 'provider' and provider_payments.paid_at is distinct from kept.paid_at)
    union
    -- whose won deal is not the row's
    select coalesce(deals.order_id, kept.order_id)
    from deals
    full join (select order_id, crm_deal_id from {{ this }} where crm_deal_id is not null) as kept
        on deals.order_id = kept.order_id
    where deals.deal_id is distinct from kept.crm_deal_id
    union
    -- of a cart (its share moves with any order of the cart, one leaving it too; carts are few)
    select order_id from {{ this }} where erp_order_share < 1
),

-- ...and every order sharing a sale order with one of those (a cart's orders share its total)
in_scope as (
    select order_id from changed_orders
    union
    select orders.order_id
    from {{ ref('fct_orders') }} as orders
    inner join {{ ref('fct_orders') }} as changed
        on orders.odoo_sale_order_id = changed.odoo_sale_order_id and orders.channel = changed.channel
    inner join changed_orders
        on changed.order_id = changed_orders.order_id
    where changed.channel <> 'erp'
),
{%- endcall %}

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
    {%- call incremental_only() %}
    where order_id in (select order_id from in_scope)
    {%- endcall %}
),

sale_orders as (
    select sale_order_id, sale_order_name, created_at from {{ ref('stg_odoo__sale_orders') }}
),

-- the issued customer invoices naming each sale order
invoice_origins as (
    select sale_order_name, invoice_id, invoice_date, due_date, amount_residual, payment_state, updated_at
    from {{ ref('int_invoice_origins') }}
    where
        names_sale_order and not is_deleted and move_type = 'out_invoice' and state = 'posted'
        and {{ invoice_is_issued() }}
        {%- call incremental_only() %}
        and sale_order_name in (
            select sale_orders.sale_order_name from sale_orders
            inner join orders on sale_orders.sale_order_id = orders.odoo_sale_order_id
        )
        {%- endcall %}
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
