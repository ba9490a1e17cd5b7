{#
    Salesforce Opportunities in contract `crm_deals` (int_crm_deals): the Opportunity's primary
    Contact as a `salesforce_contact` record. An Opportunity closes on a date (`CloseDate`): noon
    of that day in the business's time zone stands for its moment.
#}

select
    opportunity_id as deal_id,
    'salesforce' as crm_system,
    'salesforce_contact' as contact_record_type,
    'salesforce_opportunity:' || opportunity_id as deal_key,
    'Salesforce opportunity ' || opportunity_id as erp_origin,
    opportunity_name as deal_name,
    amount,
    currency_code,
    is_won,
    (close_date + time '12:00') at time zone '{{ var("business_timezone") }}' as closed_at,
    array_remove(array[contact_id], null) as contact_ids,
    is_deleted,
    'opportunities' as source_object,
    loaded_at
from {{ ref('stg_salesforce__opportunities') }}
