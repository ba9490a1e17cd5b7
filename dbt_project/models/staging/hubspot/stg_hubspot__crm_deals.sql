{#
    HubSpot deals in contract `crm_deals` (int_crm_deals): the deal's associated contacts as
    `hubspot_contact` records.
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
    is_deleted,
    'deals' as source_object,
    loaded_at
from {{ ref('stg_hubspot__deals') }}
