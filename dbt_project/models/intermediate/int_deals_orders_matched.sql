{#
    Won CRM deals (HubSpot deals or Salesforce Opportunities, int_crm_deals) and the order each became: the deal's contacts are customer records
    (int_customers_matched); the deal's order is that customer's order placed closest to the
    deal's close date, from 3 days before it to var `deal_order_window_days` after. A deal with
    no such order has `order_id` null (order_to_cash_gaps lists it).
#}

with

deals as (
    select * from {{ ref('int_crm_deals') }}
    where not is_deleted and is_won
),

customers as (
    select record_key, customer_id from {{ ref('int_customers_matched') }}
),

orders as (
    select order_id, customer_id, ordered_at from {{ ref('fct_orders') }}
    where not is_cancelled
),

deal_customers as (
    select distinct deals.deal_id, deals.closed_at, deals.amount, customers.customer_id
    from deals
    cross join lateral unnest(deals.contact_ids) as contacts (contact_id)
    inner join customers
        on customers.record_key = {{ record_key('deals.contact_record_type', 'contacts.contact_id') }}
),

candidates as (
    select
        deal_customers.deal_id,
        deal_customers.customer_id,
        orders.order_id,
        row_number() over (
            partition by deal_customers.deal_id
            order by abs(extract(epoch from orders.ordered_at - deal_customers.closed_at)), orders.order_id
        ) as closeness_rank
    from deal_customers
    inner join orders
        on deal_customers.customer_id = orders.customer_id
        and orders.ordered_at >= deal_customers.closed_at - interval '3 days'
        and orders.ordered_at < deal_customers.closed_at + interval '{{ var("deal_order_window_days") }} days'
),

-- a deal without an order: the first of its customers (a subquery per deal scanned every deal's
-- customers: 10 s at 28,000 won deals)
first_customers as (
    select deal_id, min(customer_id) as customer_id
    from deal_customers
    group by deal_id
),

final as (
    select
        deals.deal_id,
        coalesce(candidates.customer_id, first_customers.customer_id) as customer_id,
        candidates.order_id,
        deals.closed_at,
        deals.amount,
        deals.currency_code
    from deals
    left join candidates
        on deals.deal_id = candidates.deal_id
        and candidates.closeness_rank = 1
    left join first_customers
        on deals.deal_id = first_customers.deal_id
)

select * from final
