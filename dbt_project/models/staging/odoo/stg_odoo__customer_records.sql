{#
    The ERP's customer records (contract `customer_records`, int_customer_records_unioned):
    partners Odoo ranks as customers (customer_rank > 0; companies included, since B2B buyers are
    customers too), plus any partner a sale order points at, archived or not, so that every order
    keeps its customer (a partner missing from raw.odoo_res_partner is kept as a stub built from
    the order's many2one name). Marketing consent: Odoo's mass-mailing blacklist
    (`is_blacklisted`) is an opt-out; the ERP has no opt-in of its own, and no date for the
    blacklisting. Street: the partner's.
#}

with

partners as (
    select * from {{ ref('stg_odoo__partners') }}
),

sale_orders as (
    select * from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted
),

ordering_partners as (
    select
        partner_id,
        max(partner_name) as partner_name,
        min(created_at) as created_at,
        max(updated_at) as updated_at
    from sale_orders
    where partner_id is not null
    group by partner_id
)

select
    'odoo_partner' as record_type,
    'odoo' as source_system,
    'res.partner' as source_object,
    coalesce(partners.partner_id, ordering_partners.partner_id)::text as source_record_id,
    coalesce(partners.partner_name, ordering_partners.partner_name) as full_name,
    coalesce(partners.is_company, false) as is_company,
    partners.email,
    coalesce(partners.mobile, partners.phone) as phone,
    case when partners.mobile is not null then partners.phone end as other_phone,
    partners.tax_id,
    partners.street,
    partners.city,
    partners.country_name as country,
    null::text as country_code,
    case when partners.is_blacklisted then false end as has_marketing_consent,
    null::timestamptz as marketing_consent_at,
    null::boolean as has_processing_authorisation,
    coalesce(partners.created_at, ordering_partners.created_at) as created_at,
    coalesce(partners.updated_at, ordering_partners.updated_at) as updated_at
from partners
full outer join ordering_partners
    on partners.partner_id = ordering_partners.partner_id
where
    ordering_partners.partner_id is not null
    or (partners.customer_rank > 0 and partners.is_active and not partners.is_deleted)
