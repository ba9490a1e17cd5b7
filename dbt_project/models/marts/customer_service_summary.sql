{#
    Per customer with at least one service ticket (fct_service_tickets): what is open now and
    what the last 90 days brought, as of the models' day (var `as_of_date`, else today).
#}

with

tickets as (
    select * from {{ ref('fct_service_tickets') }}
    where customer_id is not null
),

as_of as (
    select {{ as_of_date() }} as as_of_date
)

select
    tickets.customer_id,
    count(*) filter (where tickets.is_open) as open_tickets,
    count(*) filter (where tickets.is_open and tickets.is_complaint) as open_complaints,
    count(*) filter (where tickets.opened_at >= as_of.as_of_date - 90) as tickets_last_90_days,
    count(*) filter (where tickets.is_complaint and tickets.opened_at >= as_of.as_of_date - 90)
        as complaints_last_90_days,
    count(*) as lifetime_tickets,
    count(*) filter (where tickets.is_reopened) as reopened_tickets,
    percentile_cont(0.5) within group (order by tickets.hours_to_resolution)
        filter (where tickets.hours_to_resolution is not null) as median_hours_to_resolution,
    max(tickets.opened_at) as last_ticket_opened_at,
    min(as_of.as_of_date) as as_of_date
from tickets
cross join as_of
group by tickets.customer_id
