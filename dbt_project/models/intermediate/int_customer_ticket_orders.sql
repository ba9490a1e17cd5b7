{#
    Service tickets that cite an order, with the customer record that placed it: what a customer's
    order history says about their CRM contact. A customer who writes in about an order often gives
    its number as they saw it (`Mi pedido #1042 no ha llegado`: the shop's number as it shows it to
    the buyer, `buyer_order_number` of int_web_orders_unioned; `S00042`: the ERP's sale order), and
    the ticket sits on their contact; the order's own customer record is then theirs too, whatever
    phone, city or mailbox either was typed with. int_customer_pairs_scored reads it as the
    web_order comparison's level `ticket`.

    A word of the subject cites an order when it is that number as written (`#` included, capitals
    aside: a bare `2026` or `25000` in `entregado el 15/11/2026` names no shop's order), the order
    was placed before the ticket was opened and at most a year before, and the number names orders
    of one customer record only (two shops' `#1042` cite nothing; a marketplace cart's orders share
    their buyer). A contact whose tickets cite orders of more records than var
    `identity_block_max_holders` (someone writing in for many customers: an assistant, a reseller)
    links to none of them; a ticket without a contact links nothing.
#}

with

tickets as (
    select
        source_system, ticket_id, opened_at,
        {{ record_key("source_system || '_contact'", 'crm_contact_id') }} as ticket_record_key,
        upper(word) as cited_number
    from {{ ref('int_service_tickets_unioned') }}
    cross join lateral regexp_split_to_table(subject, '[^[:alnum:]#-]+') as words (word)
    where crm_contact_id is not null and word ~ '[0-9]{3,}'
),

-- the orders of the numbers some ticket cites (the others cannot matter)
orders as (
    select upper(buyer_order_number) as number, customer_record_key, ordered_at
    from {{ ref('int_web_orders_unioned') }}
    where not is_deleted and upper(buyer_order_number) in (select cited_number from tickets)
    union all
    select upper(sale_order_name), {{ record_key("'odoo_partner'", 'partner_id::text') }}, ordered_at
    from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted and partner_id is not null and upper(sale_order_name) in (select cited_number from tickets)
),

-- numbers that name orders of two records (or of a guest checkout's, which names none)
ambiguous_numbers as (
    select number
    from orders
    group by number
    having count(distinct customer_record_key) > 1 or count(customer_record_key) < count(*)
),

cited as (
    select distinct
        tickets.ticket_record_key,
        orders.customer_record_key as order_record_key,
        tickets.source_system,
        tickets.ticket_id,
        tickets.cited_number
    from tickets
    inner join orders
        on tickets.cited_number = orders.number
        and orders.ordered_at <= tickets.opened_at
        and orders.ordered_at > tickets.opened_at - interval '1 year'
    where orders.number not in (select number from ambiguous_numbers)
        and orders.customer_record_key <> tickets.ticket_record_key
)

select cited.*
from cited
where ticket_record_key not in (
    select ticket_record_key
    from cited
    group by ticket_record_key
    having count(distinct order_record_key) > {{ var('identity_block_max_holders') }}
)
