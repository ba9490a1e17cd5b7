{#
    The CRM's deals, from the CRM the business runs: HubSpot deals, or Salesforce Opportunities.
    `contact_ids` are the deal's people as customer records of `contact_record_type` (a HubSpot
    deal's associated contacts; an Opportunity's primary Contact), `erp_origin` what names the
    deal in the ERP order made from it, `deal_key` the deal across nights (activation row keys).
    A Salesforce Opportunity closes on a date (`CloseDate`): noon of that day in the business's
    time zone stands for its moment.
#}

select
    deal_id,
    'hubspot' as crm_system,
    'hubspot_contact' as contact_record_type,
    'hubspot_deal:' || deal_id as deal_key,
    'HubSpot deal ' || deal_id as erp_origin,
    deal_name,
    amount,
    currency_code,
    is_won,
    closed_at,
    contact_ids,
    is_deleted
from {{ ref('stg_hubspot__deals') }}

union all

select
    opportunity_id,
    'salesforce',
    'salesforce_contact',
    'salesforce_opportunity:' || opportunity_id,
    'Salesforce opportunity ' || opportunity_id,
    opportunity_name,
    amount,
    currency_code,
    is_won,
    (close_date + time '12:00') at time zone '{{ var("business_timezone") }}',
    array_remove(array[contact_id], null),
    is_deleted
from {{ ref('stg_salesforce__opportunities') }}
