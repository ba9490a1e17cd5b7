{#
    Won CRM deals (HubSpot deals or Salesforce Opportunities, int_crm_deals) and the order each
    became (fct_orders), which is an order that says it is the deal's:
      - the order Puente posted for it: its ERP origin is the deal's `erp_origin` (`HubSpot deal
        <id>`), whenever it was placed;
      - else an order placed from 3 days before the deal's close date to var
        `deal_order_window_days` after it that is
          - an order of the deal's customer whose ERP origin is the deal's name (case, accents
            and spacing aside), as a salesperson keys it in, when no other won deal bears that
            name (a company's deals opened in one month may all be `<company> - pedido octubre
            2026`);
          - or an order of the deal's customer, or one whose origin is the deal's name under
            another customer (a partner identity has not tied to the deal's contact), that holds
            every product (SKU) the deal's lines name, in the deal's currency (when both name
            one), whose total or untaxed amount is within var `deal_order_amount_tolerance` of the
            deal's amount (a share of it: the amount is the salesperson's figure when the deal was
            opened, rounded, with or without tax, and prices move before the order is keyed in).
            A deal without lines or SKUs is judged by its amount alone; one without an amount (or
            of 0), by its products; by neither, the order of its customer closest in time is
            taken (another customer's order never is).
    Of several, the one Puente posted, then one whose origin is the deal's name, then the closest
    amount, then the closest in time. An order is one deal's only: Puente's go to their deals
    first; then a deal and an order each other's best are paired, and again among the deals and
    orders left (two rounds: a deal that finds its order in neither, its orders taken by deals
    that suit them better, has none).
    Any order of the customer near the close date is not enough: a customer who also buys on the
    web would hide a deal nobody keyed in, and a deal keyed in under another partner would be
    posted again. In a simulated business of 20,000 customers (seed 7, bench.identity's
    deal_orders), that rule took another order for 340 of the 1,070 won deals nobody keyed in and
    found none for 90 of the 4,085 keyed in; this one takes another order for 6 of the 1,070
    (deals Puente does not post: an order of their customer that holds the products at about the
    amount) and finds the order of 4,083 of the 4,085 (one takes another order, one none). A deal
    with no order has `order_id` null (order_to_cash_gaps lists it; act_won_deals_to_erp posts
    it) and `customer_id` the first of its contacts' customers; with an order, `customer_id` is
    the order's customer.
#}

with

deals as (
    select
        deal_id, closed_at, amount, currency_code, contact_ids, contact_record_type,
        nullif(amount, 0) as compared_amount,  -- an amount of 0 is none
        -- names compared as normalize_name has them (case, accents and spacing aside)
        {{ normalize_name('erp_origin') }} as erp_origin, {{ normalize_name('deal_name') }} as deal_name
    from {{ ref('int_crm_deals') }}
    where not is_deleted and is_won
),

-- a name more than one won deal bears says alone which of them an order is
shared_names as (
    select deal_name from deals
    where deal_name is not null
    group by deal_name
    having count(*) > 1
),

customers as (
    select record_key, customer_id from {{ ref('int_customers_matched') }}
),

orders as (
    select
        orders.order_id, orders.customer_id, orders.ordered_at, orders.currency_code, orders.amount_total,
        sale_orders.amount_untaxed, {{ normalize_name('sale_orders.origin') }} as origin
    from {{ ref('fct_orders') }} as orders
    left join {{ ref('stg_odoo__sale_orders') }} as sale_orders
        on orders.odoo_sale_order_id = sale_orders.sale_order_id
    where not orders.is_cancelled
),

deal_customers as (
    select distinct deals.deal_id, customers.customer_id
    from deals
    cross join lateral unnest(deals.contact_ids) as contacts (contact_id)
    inner join customers
        on customers.record_key = {{ record_key('deals.contact_record_type', 'contacts.contact_id') }}
),

-- the orders that may be a deal's: those whose ERP origin names it (Puente's, or the deal's name),
-- whoever their customer is, and the orders of its customers
found as (
    select
        deal_id, order_id,
        bool_or(way = 'posted') as puente_posted, bool_or(way = 'named') as named,
        bool_or(way = 'customer') as of_customer
    from (
        select deals.deal_id, orders.order_id, 'posted' as way
        from deals inner join orders on orders.origin = deals.erp_origin
        union all
        select deals.deal_id, orders.order_id, 'named'
        from deals inner join orders on orders.origin = deals.deal_name
        union all
        select deal_customers.deal_id, orders.order_id, 'customer'
        from deal_customers inner join orders on deal_customers.customer_id = orders.customer_id
    ) as ways
    group by deal_id, order_id
),

-- the products (SKUs) the deal's lines name, and those of the orders that may be a deal's
deal_products as (
    select deal_id, array_agg(distinct sku) as skus
    from {{ ref('int_crm_deal_lines') }}
    where not is_deleted and sku is not null
    group by deal_id
),

order_products as (
    select lines.order_id, array_agg(distinct products.sku) as skus
    from {{ ref('fct_order_lines') }} as lines
    inner join {{ ref('dim_products') }} as products
        on lines.product_id = products.product_id
    where lines.order_id in (select order_id from found) and products.sku is not null
    group by lines.order_id
),

candidates as (
    select
        found.deal_id,
        found.order_id,
        orders.customer_id,
        found.puente_posted,
        found.named,
        gaps.amount_gap,
        abs(extract(epoch from orders.ordered_at - deals.closed_at)) as time_gap
    from found
    inner join deals
        on found.deal_id = deals.deal_id
    inner join orders
        on found.order_id = orders.order_id
    left join deal_products
        on found.deal_id = deal_products.deal_id
    left join order_products
        on found.order_id = order_products.order_id
    left join shared_names
        on deals.deal_name = shared_names.deal_name
    -- the deal's amount against the order's total or its untaxed amount, whichever is closer
    cross join lateral (
        select least(abs(orders.amount_total - deals.compared_amount), abs(orders.amount_untaxed - deals.compared_amount))
            as amount_gap
    ) as gaps
    where
        found.puente_posted
        or (
            orders.ordered_at >= deals.closed_at - interval '3 days'
            and orders.ordered_at < deals.closed_at + interval '{{ var("deal_order_window_days") }} days'
            and (
                (found.named and found.of_customer and shared_names.deal_name is null)
                or (
                    coalesce(deals.currency_code = orders.currency_code, true)
                    and (
                        deals.compared_amount is null
                        or gaps.amount_gap <= {{ var('deal_order_amount_tolerance') }} * abs(deals.compared_amount)
                    )
                    and (deal_products.skus is null or deal_products.skus <@ order_products.skus)
                    -- another customer's order is the deal's by its amount or products, never by neither
                    and (found.of_customer or deals.compared_amount is not null or deal_products.skus is not null)
                )
            )
        )
),

-- the orders Puente posted go to their deals first
posted as (
    select distinct on (deal_id) deal_id, order_id, customer_id
    from candidates
    where puente_posted
    order by deal_id, time_gap, order_id
),

{#- pairs of a deal and an order each of which the other suits best, among `pairs`: each pair's
    rank among its deal's and among its order's (the deal's name first, then the closest amount,
    the closest in time) -#}
{%- set mutual_best -%}
    select deal_id, order_id, customer_id
    from (
        select
            pairs.*,
            row_number() over (
                partition by deal_id order by named desc, amount_gap nulls last, time_gap, order_id
            ) as deal_rank,
            row_number() over (
                partition by order_id order by named desc, amount_gap nulls last, time_gap, deal_id
            ) as order_rank
        from pairs
    ) as ranked
    where deal_rank = 1 and order_rank = 1
{%- endset %}

-- then the other orders, in two rounds: the deals and orders each other's best, then among those
-- left (a company's two deals of one name, both keyed in: each order may suit the same deal best)
candidates_left as (
    select * from candidates
    where deal_id not in (select deal_id from posted) and order_id not in (select order_id from posted)
),

first_round as (
    {{ mutual_best | replace('pairs', 'candidates_left') }}
),

candidates_after as (
    select * from candidates_left
    where deal_id not in (select deal_id from first_round) and order_id not in (select order_id from first_round)
),

second_round as (
    {{ mutual_best | replace('pairs', 'candidates_after') }}
),

chosen as (
    select * from posted
    union all
    select * from first_round
    union all
    select * from second_round
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
        coalesce(chosen.customer_id, first_customers.customer_id) as customer_id,
        chosen.order_id,
        deals.closed_at,
        deals.amount,
        deals.currency_code
    from deals
    left join chosen
        on deals.deal_id = chosen.deal_id
    left join first_customers
        on deals.deal_id = first_customers.deal_id
)

select * from final
