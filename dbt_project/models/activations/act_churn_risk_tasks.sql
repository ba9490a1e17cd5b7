{#
    A CRM task (HubSpot's or Salesforce's) for the owner of each customer at high churn risk: call them, with the
    reasons behind the score and the next-best-action, due the next morning. At most one per
    customer per period (var `churn_task_period`), and only for the customers assigned to the
    `treated` group (int_churn_task_assignments): the control group gets no task, so
    marts.churn_task_experiment can show what the tasks change. A task is created once and never
    rewritten (`compare` is its key alone); the salesperson owns it from then on.
#}

with

assignments as (
    select * from {{ ref('int_churn_task_assignments') }}
    where arm = 'treated'
        and period_start = (select max(period_start) from {{ ref('int_churn_task_assignments') }})
        -- an assignment without its CRM contact is one an erasure (puente/erasure.py) emptied: no task
        and hubspot_contact_id is not null
),

scores as (
    select * from {{ ref('stg_ml__churn_scores') }}
),

actions as (
    select * from {{ ref('stg_ml__next_best_actions') }}
),

contacts as (
    select contact_id, owner_id from {{ ref('int_crm_contacts') }}
),

customers as (
    select customer_id, full_name from {{ ref('dim_customers') }}
),

tasks as (
    select
        'churn:' || assignments.customer_id || ':' || assignments.period_start as row_key,
        assignments.customer_id,
        -- the assignments table keeps its first column name (never rebuilt); it holds either CRM's contact
        assignments.hubspot_contact_id as crm_contact_id,
        contacts.owner_id,
        customers.full_name,
        jsonb_build_object(
            'hs_timestamp', to_char((assignments.assigned_for_date + 1 + time '09:00')
                                    at time zone '{{ var("business_timezone") }}' at time zone 'utc',
                                    'YYYY-MM-DD"T"HH24:MI:SS".000Z"'),
            'hs_task_subject', 'Churn risk: call ' || coalesce(customers.full_name, 'this customer'),
            'hs_task_body', 'Churn score ' || to_char(scores.churn_probability, 'FM0.00') || ' (high). '
                || coalesce('Why: ' || scores.churn_reasons || '. ', '')
                || coalesce('Suggested: ' || replace(actions.next_action, '_', ' ')
                            || coalesce(' (' || actions.next_action_reason || ')', '') || '.', ''),
            'hs_task_status', 'NOT_STARTED',
            'hs_task_priority', 'HIGH',
            'hs_task_type', 'CALL',
            'hubspot_owner_id', contacts.owner_id
        ) as properties
    from assignments
    left join scores
        on assignments.customer_id = scores.customer_id
        and assignments.assigned_for_date = scores.scored_for_date
    left join actions
        on assignments.customer_id = actions.customer_id
        and assignments.assigned_for_date = actions.scored_for_date
    left join contacts
        on assignments.hubspot_contact_id = contacts.contact_id
    left join customers
        on assignments.customer_id = customers.customer_id
),

final as (
    select
        row_key,
        null::text as target_id,
        row_key as external_key,
        jsonb_build_object('properties', jsonb_strip_nulls(properties), 'contact_id', crm_contact_id) as payload,
        jsonb_build_object('task', row_key) as compare,
        null::timestamptz as observed_at,
        case
            when owner_id is null
                then 'the CRM contact has no owner: assign one in the CRM so the task reaches a salesperson'
        end as invalid_reason,
        customer_id,
        jsonb_build_object('what', 'churn-risk task for ' || coalesce(full_name, customer_id),
                           'crm_contact_id', crm_contact_id) as context
    from tasks
)

select * from final
