{#
    What churn-risk tasks change: customers assigned a task (`treated`) against those held out
    (`control`, int_churn_task_assignments), on what they did after the assignment — whether
    they ordered, how many orders, how much revenue, and whether they churned (no order) — within
    var `churn_task_followup_days` (90). Intention to treat: a treated customer counts as treated
    even when no task could be sent (no owner), so the two groups stay comparable.

    Two windows: `complete` counts only assignments whose whole follow-up has passed (the honest
    figure; empty in the first months), `to_date` every assignment over the days observed so far
    (an early look, biased towards "no order yet"). For each metric: both groups' means, the
    difference (treated − control) and its 95% interval (normal approximation, each group's own
    variance). An interval that contains 0 means no measurable effect yet.
#}

{{ config(tags=['activation']) }}

{%- set followup = var('churn_task_followup_days') %}
{%- set as_of = as_of_date() %}

with

assignments as (
    select * from {{ ref('int_churn_task_assignments') }}
),

orders as (
    select
        customer_id,
        (ordered_at at time zone '{{ var("business_timezone") }}')::date as order_date,
        amount_total
    from {{ ref('fct_orders') }}
    where not is_cancelled
),

outcomes as (
    select
        assignments.customer_id,
        assignments.period_start,
        assignments.arm,
        least({{ followup }}, {{ as_of }} - assignments.assigned_for_date) as days_observed,
        count(orders.customer_id) as orders,
        coalesce(sum(orders.amount_total), 0) as revenue
    from assignments
    left join orders
        on orders.customer_id = assignments.customer_id
        and orders.order_date > assignments.assigned_for_date
        and orders.order_date <= assignments.assigned_for_date + {{ followup }}
        and orders.order_date <= {{ as_of }}
    group by assignments.customer_id, assignments.period_start, assignments.arm, assignments.assigned_for_date
),

windows as (
    select 'complete' as followup_window, * from outcomes where days_observed >= {{ followup }}
    union all
    select 'to_date' as followup_window, * from outcomes
),

measures as (
    select followup_window, arm, 'ordered' as metric, (orders > 0)::int::double precision as value from windows
    union all
    select followup_window, arm, 'orders', orders::double precision from windows
    union all
    select followup_window, arm, 'revenue', revenue::double precision from windows
    union all
    select followup_window, arm, 'churned', (orders = 0)::int::double precision from windows
    where followup_window = 'complete'
),

by_arm as (
    select followup_window, metric, arm, count(*) as customers, avg(value) as mean, var_samp(value) as variance
    from measures
    group by followup_window, metric, arm
),

final as (
    select
        coalesce(treated.followup_window, control.followup_window) as followup_window,
        coalesce(treated.metric, control.metric) as metric,
        coalesce(treated.customers, 0) as treated_customers,
        coalesce(control.customers, 0) as control_customers,
        treated.mean as treated_value,
        control.mean as control_value,
        treated.mean - control.mean as difference,
        treated.mean - control.mean - 1.96 * sqrt(coalesce(treated.variance, 0) / treated.customers
                                                  + coalesce(control.variance, 0) / control.customers) as ci95_low,
        treated.mean - control.mean + 1.96 * sqrt(coalesce(treated.variance, 0) / treated.customers
                                                  + coalesce(control.variance, 0) / control.customers) as ci95_high
    from (select * from by_arm where arm = 'treated') as treated
    full outer join (select * from by_arm where arm = 'control') as control
        on treated.followup_window = control.followup_window and treated.metric = control.metric
)

select * from final
