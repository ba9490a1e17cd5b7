{#
    Where order-to-cash has stalled, one row per problem, measured on var `as_of_date`
    (today when null):
      - `web_order_not_in_erp`: a live web order not in the ERP after var `erp_entry_grace_days` days;
      - `web_order_reference_conflict`: a live web order in no ERP sale order, after the same grace,
        whose reference other sale orders carry (fct_orders' `conflicting_sale_order_names`:
        another customer's purchase-order number typed as Customer Reference, or the order retyped
        with a wrong customer and total): a person tells which, so no activation posts it;
      - `web_order_total_differs_in_erp`: a live web order whose ERP sale order totals otherwise
        than the shop (macro totals_agree; a cart's orders together, one row per sale order, the
        cart's first order named; both in one currency): a retyping mistake (a quantity, a line
        left out) or an edit in the shop or the ERP after the order was entered; the ERP's books
        and stock follow the ERP order, so a person compares the two;
      - `web_order_cancelled_in_erp`: a live web order whose ERP sale orders are all cancelled (the
        shop reopened it after Puente cancelled its sale order, as WooCommerce allows once a bank
        transfer arrives; or someone cancelled it in the ERP only): a person decides, post it again
        or cancel it in the shop, so no activation acts on it;
      - `invoice_unpaid_past_due`: an issued customer invoice (posted; in Colombia also accepted
        by the DIAN, else it is on marts.einvoice_issues) with money still due after its due date;
      - `won_deal_without_order`: a won CRM deal with no order that is the deal's near its
        close date (int_deals_orders_matched), once `erp_entry_grace_days` have passed.
    `activation_posts`: an activation posts it into the ERP (web orders of the last var
    `web_order_posting_days` days, won deals of the last var `deal_posting_days` days), so the gap
    closes on the next run or waits on the activation work list with its reason; the other gaps
    are older than those windows (history from before Puente) or are not Puente's to close.
#}

{%- set as_of = as_of_date() %}

with

orders as (
    select * from {{ ref('fct_orders') }}
),

invoices as (
    select * from {{ ref('stg_odoo__invoices') }}
    where
        not is_deleted and move_type = 'out_invoice' and state = 'posted'
        and {{ invoice_is_issued() }}
),

deals as (
    select * from {{ ref('int_deals_orders_matched') }}
),

invoice_customers as (
    select record_key, customer_id from {{ ref('int_customers_matched') }}
),

sale_orders as (
    select sale_order_id, is_cancelled, currency_code from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted
),

-- the live web orders, whether the ERP cancelled their sale order (fct_orders links a web order to
-- a cancelled one only when every one carrying its reference is cancelled), and its currency
live_web_orders as (
    select
        orders.*,
        coalesce(sale_orders.is_cancelled, false) as is_cancelled_in_erp,
        sale_orders.currency_code as odoo_currency_code
    from orders
    left join sale_orders
        on orders.odoo_sale_order_id = sale_orders.sale_order_id
    where orders.channel = 'web' and not orders.is_cancelled
),

gaps as (
    select
        case
            when is_cancelled_in_erp then 'web_order_cancelled_in_erp'
            when conflicting_sale_order_names is not null then 'web_order_reference_conflict'
            else 'web_order_not_in_erp'
        end as gap_type,
        order_id,
        null::bigint as invoice_id,
        null::text as crm_deal_id,
        customer_id,
        order_date as since_date,
        amount_total as amount,
        currency_code
    from live_web_orders
    where
        is_cancelled_in_erp
        or (odoo_sale_order_id is null and order_date < {{ as_of }} - {{ var('erp_entry_grace_days') }})

    union all

    -- one per sale order: a cart's orders are one sale order, totalled together
    select
        'web_order_total_differs_in_erp' as gap_type,
        min(order_id) as order_id,
        null::bigint as invoice_id,
        null::text as crm_deal_id,
        min(customer_id) as customer_id,
        min(order_date) as since_date,
        sum(amount_total) as amount,
        min(currency_code) as currency_code
    from live_web_orders
    -- (totals in two currencies are not compared)
    where odoo_sale_order_id is not null and not is_cancelled_in_erp and odoo_currency_code = currency_code
    group by odoo_sale_order_id, odoo_amount_total
    having not {{ totals_agree('odoo_amount_total', 'sum(amount_total)') }}

    union all

    select
        'invoice_unpaid_past_due' as gap_type,
        null::text as order_id,
        invoices.invoice_id,
        null::text as crm_deal_id,
        invoice_customers.customer_id,
        invoices.due_date as since_date,
        invoices.amount_residual as amount,
        invoices.currency_code
    from invoices
    left join invoice_customers
        on invoice_customers.record_key = {{ record_key("'odoo_partner'", 'invoices.partner_id') }}
    where
        invoices.payment_state in ('not_paid', 'partial')
        and invoices.amount_residual > 0
        and invoices.due_date < {{ as_of }}

    union all

    select
        'won_deal_without_order' as gap_type,
        null::text as order_id,
        null::bigint as invoice_id,
        deals.deal_id as crm_deal_id,
        deals.customer_id,
        (deals.closed_at at time zone '{{ var("business_timezone") }}')::date as since_date,
        deals.amount,
        deals.currency_code
    from deals
    where
        deals.order_id is null
        and (deals.closed_at at time zone '{{ var("business_timezone") }}')::date
            < {{ as_of }} - {{ var('erp_entry_grace_days') }}
),

final as (
    select
        md5(gap_type || ':' || coalesce(order_id, invoice_id::text, crm_deal_id)) as gap_id,
        gap_type,
        order_id,
        invoice_id,
        crm_deal_id,
        customer_id,
        since_date,
        {{ as_of }} - since_date as days_open,
        case gap_type
            when 'web_order_not_in_erp' then since_date >= {{ as_of }} - {{ var('web_order_posting_days') }}
            when 'won_deal_without_order' then since_date >= {{ as_of }} - {{ var('deal_posting_days') }}
            else false
        end as activation_posts,
        amount,
        currency_code
    from gaps
)

select * from final
