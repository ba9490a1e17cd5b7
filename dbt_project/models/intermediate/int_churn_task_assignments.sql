{#
    Who gets a churn-risk task and who is held out, kept forever. Every night, each customer at
    high churn risk with marketing consent and a CRM contact is assigned once per period (var
    `churn_task_period`: week, month or quarter) to `treated` (their salesperson gets a task) or
    `control` (no task), at random with var `churn_task_control_share` held out: a hash of the
    customer and the period, so the draw is the same on any rerun. Incremental and never
    rebuilt (`full_refresh=false`): an assignment, once made, never changes, even if the share
    does, so the experiment (marts.churn_task_experiment) compares like with like.
#}

{{ config(
    materialized='incremental',
    unique_key=['customer_id', 'period_start'],
    incremental_strategy='delete+insert',
    full_refresh=false,
    tags=['activation'],
) }}

{%- set share = var('churn_task_control_share') %}

with

scores as (
    select * from {{ ref('stg_ml__churn_scores') }}
),

latest as (
    select distinct on (customer_id) customer_id, scored_for_date, churn_probability, risk_band
    from scores
    where scored_for_date = (select max(scored_for_date) from scores)
    order by customer_id, scored_at desc
),

customers as (
    select customer_id, {{ crm_contact_ids() }} as crm_contact_ids, has_marketing_consent from {{ ref('dim_customers') }}
),

eligible as (
    select
        latest.customer_id,
        date_trunc('{{ var("churn_task_period") }}', latest.scored_for_date)::date as period_start,
        latest.scored_for_date as assigned_for_date,
        latest.churn_probability,
        latest.risk_band,
        customers.crm_contact_ids[1] as hubspot_contact_id  -- the CRM contact (HubSpot or Salesforce)
    from latest
    inner join customers
        on latest.customer_id = customers.customer_id
    where
        latest.risk_band = 'high'
        and customers.has_marketing_consent
        and cardinality(customers.crm_contact_ids) > 0
),

new_assignments as (
    select eligible.*
    from eligible
    {% if is_incremental() %}
    where not exists (
        select from {{ this }} as assigned
        where assigned.customer_id = eligible.customer_id and assigned.period_start = eligible.period_start
    )
    {% endif %}
),

final as (
    select
        customer_id,
        period_start,
        assigned_for_date,
        case
            when abs(('x' || substr(md5(customer_id || ':' || period_start::text), 1, 8))::bit(32)::int) % 10000
                < {{ share }} * 10000
                then 'control'
            else 'treated'
        end as arm,
        {{ share }}::double precision as control_share,
        churn_probability,
        risk_band,
        hubspot_contact_id,
        now() as assigned_at
    from new_assignments
)

select * from final
