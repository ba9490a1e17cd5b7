{%- set fields = typed_fields() -%}

{#
    One row per HubSpot ticket (the service desk), with the contact who opened it. A ticket is
    open until HubSpot sets its close date (entering a closed stage of any pipeline sets it, and
    leaving that stage clears it, so this does not depend on the portal's stage ids). HubSpot
    keeps when a ticket last left the default support pipeline's closed stage
    (`hs_v2_date_exited_4`), not how often: a ticket reopened once or more counts 1.
#}

with

source as (
    select * from {{ source('hubspot', 'tickets') }}
),

renamed as (
    select
        source_id as ticket_id,
        (
            select association ->> 'id'
            from jsonb_array_elements(
                case
                    when jsonb_typeof(record #> '{associations,contacts,results}') = 'array'
                        then record #> '{associations,contacts,results}'
                    else '[]'::jsonb
                end
            ) as associations (association)
            order by association ->> 'id'
            limit 1
        ) as contact_id,
        {{ hubspot_property('subject') }} as subject,
        {{ hubspot_property('hs_pipeline') }} as pipeline,
        {{ hubspot_property('hs_pipeline_stage') }} as pipeline_stage,
        -- a multiple checkbox: the first option ticked is the ticket's category
        nullif(split_part({{ hubspot_property('hs_ticket_category') }}, ';', 1), '') as category,
        {{ hubspot_property('hs_ticket_priority') }} as priority,
        {{ hubspot_property('source_type') }} as source_channel,
        coalesce(
            {{ safe_timestamptz(hubspot_property('createdate'), fields, 'properties.createdate') }},
            {{ safe_timestamptz("nullif(trim(record ->> 'createdAt'), '')", fields, 'createdAt') }}
        ) as opened_at,
        {{ safe_timestamptz(hubspot_property('first_agent_reply_date'), fields, 'properties.first_agent_reply_date') }}
            as first_response_at,
        {{ safe_timestamptz(hubspot_property('closed_date'), fields, 'properties.closed_date') }} as resolved_at,
        {{ safe_timestamptz(hubspot_property('hs_v2_date_exited_4'), fields, 'properties.hs_v2_date_exited_4') }}
            as last_reopened_at,
        coalesce(
            {{ safe_timestamptz("nullif(trim(record ->> 'updatedAt'), '')", fields, 'updatedAt') }},
            {{ safe_timestamptz(hubspot_property('hs_lastmodifieddate'), fields, 'properties.hs_lastmodifieddate') }}
        ) as updated_at,
        _loaded_at as loaded_at,
        _deleted or coalesce({{ safe_boolean("nullif(trim(record ->> 'archived'), '')", fields, 'archived') }}, false) as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
)

select
    *,
    coalesce(category = any(array[
        {%- for category in var('service_complaint_categories') %}'{{ category }}'{{ ',' if not loop.last }}{% endfor -%}
    ]), false) as is_complaint,
    (last_reopened_at is not null)::int as reopened_count,
    resolved_at is null as is_open
from renamed
