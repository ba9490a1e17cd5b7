{#
    Service tickets that cite an order, with the customer record that placed it: what a customer's
    order history says about their CRM contact. A customer who writes in about an order often gives
    its number as they saw it (`Mi pedido #1042 no ha llegado`: the shop's order name; `S00042`: the
    ERP's sale order), and the ticket sits on their contact; the order's own customer record is then
    theirs too, whatever phone, city or mailbox either was typed with. int_customer_pairs_scored
    reads it as the web_order comparison's level `ticket`.

    A cited number is a word of the subject with at least three digits (an optional `#` and a
    prefix of up to four letters before them: `#1042`, `WC-1042`, `S00042`), compared in capitals
    without its `#` with each web order's name and reference (int_web_orders_unioned) and each
    ERP sale order's name. It counts only when the orders it names are one customer record's (two
    shops both numbering from `#1001` cite nothing; a marketplace cart's orders share their
    number and their buyer); a ticket without a contact links nothing.
#}

with

tickets as (
    select
        source_system, ticket_id,
        {{ record_key("source_system || '_contact'", 'crm_contact_id') }} as ticket_record_key,
        upper(ltrim(cited[1], '#')) as cited_number
    from {{ ref('int_service_tickets_unioned') }}
    cross join lateral regexp_matches(subject, '(#?[[:alpha:]]{0,4}-?[0-9]{3,})', 'g') as matches (cited)
    where crm_contact_id is not null and subject is not null
),

orders as (
    select upper(ltrim(order_name, '#')) as number, customer_record_key
    from {{ ref('int_web_orders_unioned') }}
    where not is_deleted and order_name is not null
    union
    select upper(order_reference), customer_record_key
    from {{ ref('int_web_orders_unioned') }}
    where not is_deleted and order_reference is not null
    union
    select
        upper(sale_order_name), {{ record_key("'odoo_partner'", 'partner_id::text') }}
    from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted and sale_order_name is not null and partner_id is not null
),

-- numbers whose orders are one customer record's (a marketplace cart's orders share one)
unique_numbers as (
    select number, min(customer_record_key) as customer_record_key
    from orders
    group by number
    having count(distinct customer_record_key) = 1 and count(customer_record_key) = count(*)
)

select distinct
    tickets.ticket_record_key,
    unique_numbers.customer_record_key as order_record_key,
    tickets.source_system,
    tickets.ticket_id,
    tickets.cited_number
from tickets
inner join unique_numbers on tickets.cited_number = unique_numbers.number
where unique_numbers.customer_record_key <> tickets.ticket_record_key
