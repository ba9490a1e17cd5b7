{#
    A CRM task (HubSpot's or Salesforce's) for the contact's owner for each service falling due (int_service_reminders_due):
    "Yearly check of the appliance: Freidora de aire 5,5 L", due on the service date, once per rule
    and purchase. Not a marketing contact (it follows up a product the customer bought), so it does
    not wait for marketing consent; see README, "Activations".
#}

with

due as (
    select * from {{ ref('int_service_reminders_due') }}
),

final as (
    select
        'service:' || rule_name || ':' || order_line_id as row_key,
        null::text as target_id,
        'service:' || rule_name || ':' || order_line_id as external_key,
        jsonb_build_object(
            'properties', jsonb_strip_nulls(jsonb_build_object(
                'hs_timestamp', to_char((due_date + time '09:00') at time zone '{{ var("business_timezone") }}'
                                        at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"'),
                'hs_task_subject', rule_subject || ': ' || product_name,
                'hs_task_body', coalesce(full_name, 'The customer') || ' bought ' || sku || ' · ' || product_name
                    || ' on ' || to_char(purchased_on, 'YYYY-MM-DD') || ' (order ' || coalesce(order_name, '?')
                    || '); the service is due on ' || to_char(due_date, 'YYYY-MM-DD') || '.',
                'hs_task_status', 'NOT_STARTED',
                'hs_task_priority', 'MEDIUM',
                'hs_task_type', 'CALL',
                'hubspot_owner_id', owner_id
            )),
            'contact_id', crm_contact_id
        ) as payload,
        jsonb_build_object('task', 'service:' || rule_name || ':' || order_line_id) as compare,
        null::timestamptz as observed_at,
        case
            when crm_contact_id is null
                then 'the customer has no CRM contact: create one in the CRM so the reminder reaches a salesperson'
            when owner_id is null
                then 'the CRM contact has no owner: assign one in the CRM so the task reaches a salesperson'
        end as invalid_reason,
        customer_id,
        jsonb_build_object('what', rule_subject || ' for ' || coalesce(full_name, customer_id) || ': ' || product_name,
                           'due_date', due_date) as context
    from due
)

select * from final
