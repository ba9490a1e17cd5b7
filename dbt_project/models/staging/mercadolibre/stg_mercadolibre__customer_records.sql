{#
    Mercado Libre buyers (contract `customer_records`, int_customer_records_unioned), known only
    from their sales (the marketplace has no customer list for a seller): one record per buyer
    account, from its latest sale, with what the marketplace gives: the account's first and last
    names, the document given for the invoice (`billing_info`, a tax id), the city the latest sale
    was sent to, and the door the latest sale delivered at home was sent to (`street`; a sale
    picked up at an agency names the agency's door, no door of the buyer's). No e-mail, no phone
    (the shipment's receiver phone is masked): identity links them by name, document and door.
#}

with

meli_orders as (
    select * from {{ ref('stg_mercadolibre__orders') }}
    where not is_deleted and buyer_id is not null
),

-- the door of a buyer's latest sale delivered to them (not picked up at an agency)
meli_doors as (
    select distinct on (buyer_id) buyer_id, receiver_address
    from meli_orders
    where receiver_address is not null and not is_pickup
    order by buyer_id, updated_at desc nulls last
),

-- the document of the buyer's latest sale that gave one, once per buyer and joined: a subquery
-- per sale ran as a scan of every sale for each sale without a document, time growing with the
-- square of the sales (2.7 CPU-s at 20,000 customers, 23 at 50,000; 0.1 and 0.2 joined)
meli_documents as (
    select distinct on (buyer_id) buyer_id, buyer_doc_number
    from meli_orders
    where buyer_doc_number is not null
    order by buyer_id, updated_at desc nulls last
)

-- a Mercado Libre buyer: the latest sale's names and city, the latest document it gave, the
-- latest door it had a sale delivered to
select distinct on (meli_orders.buyer_id)
    'mercadolibre_buyer' as record_type,
    'mercadolibre' as source_system,
    'orders' as source_object,
    meli_orders.buyer_id::text as source_record_id,
    meli_orders.buyer_name as full_name,
    false as is_company,
    null::text as email,
    null::text as phone,
    null::text as other_phone,
    coalesce(meli_orders.buyer_doc_number, meli_documents.buyer_doc_number) as tax_id,
    meli_doors.receiver_address as street,
    meli_orders.receiver_city as city,
    null::text as country,
    'CO' as country_code,
    -- the marketplace's own consent and authorisation are not the seller's to read
    null::boolean as has_marketing_consent,
    null::timestamptz as marketing_consent_at,
    null::boolean as has_processing_authorisation,
    meli_orders.created_at,
    meli_orders.updated_at
from meli_orders
left join meli_doors
    on meli_orders.buyer_id = meli_doors.buyer_id
left join meli_documents
    on meli_orders.buyer_id = meli_documents.buyer_id
order by meli_orders.buyer_id, meli_orders.updated_at desc nulls last
