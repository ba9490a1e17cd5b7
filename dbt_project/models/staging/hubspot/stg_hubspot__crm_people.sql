{#
    The CRM's people (contract `crm_people`, int_crm_contacts): HubSpot contacts that are not
    archived (HubSpot archives the loser of a merge), each with its owner.
#}

select
    contact_id,
    owner_id,
    'hubspot' as crm_system,
    'contact' as crm_object,
    'contacts' as source_object,
    full_name, email, phone, mobile_phone, tax_id, street, city, country, has_marketing_consent,
    has_processing_authorisation, created_at, updated_at
from {{ ref('stg_hubspot__contacts') }}
where not is_deleted
