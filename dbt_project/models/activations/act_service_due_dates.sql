{#
    The next service due on each CRM contact (int_service_reminders_due): the HubSpot properties
    `puente_service_due_date` and `puente_service_reason`, which a HubSpot workflow can react to
    (an email, a sequence). Sent when the next due service changes.
#}

with

due as (
    select distinct on (crm_contact_id) *
    from {{ ref('int_service_reminders_due') }}
    where crm_contact_id is not null
    order by crm_contact_id, due_date, rule_name, order_line_id
),

final as (
    select
        crm_contact_id as row_key,
        crm_contact_id as target_id,
        null::text as external_key,
        jsonb_build_object(
            'puente_service_due_date', to_char(due_date, 'YYYY-MM-DD'),
            'puente_service_reason', rule_subject || ': ' || sku || ' · ' || product_name
        ) as payload,
        null::jsonb as compare,
        null::timestamptz as observed_at,
        case when crm_contact_id in (select contact_id from {{ ref('int_crm_contacts') }} where crm_object = 'lead')
            then 'a Salesforce Lead: Puente''s fields are on Contacts; convert the lead in Salesforce to see them'
        end as invalid_reason,
        customer_id,
        jsonb_build_object('what', 'service due date of ' || coalesce(full_name, customer_id)) as context
    from due
)

select * from final
