{#
    Won CRM deals (HubSpot deals or Salesforce Opportunities, int_crm_deals) and the order each
    became: the deal's contacts are customer records (int_customers_matched); the deal's order is
    an order placed from 3 days before the deal's close date to var `deal_order_window_days` after
    it that says it is the deal's:
      - the order Puente posted for it (its ERP origin is the deal's `erp_origin`, `HubSpot deal
        <id>`);
      - an order of the deal's customer whose ERP origin is the deal's name, as a salesperson
        keys it in;
      - an order of the deal's customer, or one whose origin is the deal's name under another
        customer (the salesperson picked an ERP partner identity has not tied to the deal's
        contact), that holds every product (SKU) the deal's lines name and whose total is within
        var `deal_order_amount_tolerance` of the deal's amount (a share of it: the amount is the
        salesperson's figure when the deal was opened, rounded, and prices move before the order
        is keyed in). A deal without lines or SKUs is judged by its amount alone; one without an
        amount, by its products (by neither: the order of its customer closest in time).
    Of several, one that names the deal, then the closest total, then the closest in time. Any
    order of the customer near the date is not enough: a customer who also buys on the web would
    hide a deal nobody keyed in, and a deal keyed in under another partner would be posted again
    (in a simulated business of 20,000 customers, 340 of the 1,070 won deals nobody keyed in had
    such an order, and 90 of the 4,085 keyed in were under a partner not tied to the deal's
    contact; with the amount alone, 56 and 84; with the amount and the products, 21 and 84; with
    these rules, 21 and none). A deal with no order has `order_id` null (order_to_cash_gaps lists
    it; act_won_deals_to_erp posts it), and `customer_id` is then the first of its contacts'
    customers; with one, the order's customer.
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
    select
        orders.order_id, orders.customer_id, orders.ordered_at, orders.amount_total,
        nullif(lower(trim(sale_orders.origin)), '') as origin
    from {{ ref('fct_orders') }} as orders
    left join {{ ref('stg_odoo__sale_orders') }} as sale_orders
        on orders.odoo_sale_order_id = sale_orders.sale_order_id
    where not orders.is_cancelled
),

deal_customers as (
    select distinct
        deals.deal_id, deals.closed_at, deals.amount, customers.customer_id,
        lower(trim(deals.erp_origin)) as erp_origin, lower(trim(deals.deal_name)) as deal_name
    from deals
    cross join lateral unnest(deals.contact_ids) as contacts (contact_id)
    inner join customers
        on customers.record_key = {{ record_key('deals.contact_record_type', 'contacts.contact_id') }}
),

-- the orders whose ERP origin names a deal (the origin Puente posts it with, or the deal's name
-- as a salesperson keys it in), whoever their customer is, near the deal's close date
named_orders as (
    select
        deals.deal_id, orders.order_id, orders.customer_id, orders.ordered_at, orders.amount_total,
        names.puente_posted
    from deals
    cross join lateral (
        values (lower(trim(deals.erp_origin)), true), (lower(trim(deals.deal_name)), false)
    ) as names (origin, puente_posted)
    inner join orders
        on orders.origin = names.origin
        and orders.ordered_at >= deals.closed_at - interval '3 days'
        and orders.ordered_at < deals.closed_at + interval '{{ var("deal_order_window_days") }} days'
),

-- the orders of the deal's customers near its close date
customer_orders as (
    select deal_customers.deal_id, orders.order_id, orders.customer_id, orders.ordered_at, orders.amount_total
    from deal_customers
    inner join orders
        on deal_customers.customer_id = orders.customer_id
        and orders.ordered_at >= deal_customers.closed_at - interval '3 days'
        and orders.ordered_at < deal_customers.closed_at + interval '{{ var("deal_order_window_days") }} days'
),

-- each order that may be a deal's once: whether it names the deal, whether it is its customer's
found as (
    select
        deal_id, order_id, customer_id, ordered_at, amount_total,
        bool_or(names_deal) as names_deal, bool_or(puente_posted) as puente_posted,
        bool_or(of_customer) as of_customer
    from (
        select deal_id, order_id, customer_id, ordered_at, amount_total, true as names_deal, puente_posted,
            false as of_customer
        from named_orders
        union all
        select deal_id, order_id, customer_id, ordered_at, amount_total, false, false, true
        from customer_orders
    ) as orders
    group by deal_id, order_id, customer_id, ordered_at, amount_total
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
        deals.deal_id,
        found.customer_id,
        found.order_id,
        row_number() over (
            partition by deals.deal_id
            order by found.names_deal desc, abs(found.amount_total - deals.amount) nulls last,
                abs(extract(epoch from found.ordered_at - deals.closed_at)), found.order_id
        ) as closeness_rank
    from deals
    inner join found
        on deals.deal_id = found.deal_id
    left join deal_products
        on deals.deal_id = deal_products.deal_id
    left join order_products
        on found.order_id = order_products.order_id
    where
        found.puente_posted
        or (found.names_deal and found.of_customer)
        or (
            (deals.amount is null
             or abs(found.amount_total - deals.amount) <= {{ var('deal_order_amount_tolerance') }} * abs(deals.amount))
            and (deal_products.skus is null or deal_products.skus <@ order_products.skus)
        )
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
