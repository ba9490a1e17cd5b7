{#
    Service to resolution: one row per service ticket of any CRM (int_service_tickets_unioned),
    with the customer (dim_customers) of the CRM contact who opened it, and how long it took to
    answer and to close. A ticket whose contact is not (yet) a customer record keeps a null
    customer. Times are in hours; a ticket not answered or not closed yet has none.
#}

with

tickets as (
    select * from {{ ref('int_service_tickets_unioned') }}
),

customer_records as (
    select record_key, customer_id from {{ ref('int_customers_matched') }}
)

select
    md5(tickets.source_system || ':' || tickets.ticket_id) as service_ticket_id,
    tickets.source_system,
    tickets.ticket_id,
    customer_records.customer_id,
    tickets.crm_contact_id,
    tickets.subject,
    tickets.category,
    tickets.priority,
    tickets.is_complaint,
    tickets.opened_at,
    tickets.first_response_at,
    tickets.resolved_at,
    round((extract(epoch from tickets.first_response_at - tickets.opened_at) / 3600)::numeric, 2)
        as hours_to_first_response,
    round((extract(epoch from tickets.resolved_at - tickets.opened_at) / 3600)::numeric, 2) as hours_to_resolution,
    tickets.reopened_count,
    tickets.reopened_count > 0 as is_reopened,
    tickets.is_open,
    tickets.updated_at
from tickets
left join customer_records
    on customer_records.record_key = {{ record_key("tickets.source_system || '_contact'", 'tickets.crm_contact_id') }}
