{#
    Every record of a person or business that buys, from every system, one row each, with
    normalised identity keys. Which records count:
      - ERP partners Odoo ranks as customers (customer_rank > 0; companies included, since B2B
        buyers are customers too), plus any partner a sale order points at, archived or not,
        so that every order keeps its customer (a partner missing from raw.odoo_res_partner
        is kept as a stub built from the order's many2one name);
      - CRM contacts that are not archived (HubSpot archives the loser of a merge); in a business
        on Salesforce, its Contacts and the Leads not converted yet (a converted lead is its
        Contact), both of record type `salesforce_contact` (their ids differ in their prefix);
      - shop customers, plus the customer embedded in a shop order when the customer resource
        itself has not landed, plus guest orders without any customer (keyed by the order);
      - the same for a WooCommerce store: its registered customers (deleted ones only while an
        order points at them), the billing details of an order whose account has not landed, and
        each guest checkout (`customer_id` 0), keyed by the order, with its billing details;
      - the same for a Tienda Nube store, which keeps a customer for every buyer (no guests): its
        customers, with the document its checkout asks for (`identification`, a tax id), and
        the contact details of an order whose customer has not landed;
      - Mercado Libre buyers, known only from their sales (the marketplace has no customer
        list for a seller): one record per buyer account, from its latest sale, with what the
        marketplace gives: the account's first and last names, the document given for the
        invoice (`billing_info`, a tax id), the city the latest sale was sent to, and the door
        the latest sale delivered at home was sent to (a sale picked up at an agency names the
        agency's door, no door of the buyer's). No e-mail, no phone (the shipment's receiver
        phone is masked): identity links them by name, document and door.
    Deleted source records are left out unless an order points at them.

    The postal address as typed (`street`: the ERP partner's street, the CRM contact's address,
    the shop's default address1, WooCommerce's billing address_1, Tienda Nube's billing street and
    number, a Mercado Libre buyer's delivery door; none for a Shopify order known only from its order) and its comparable key `address_key` (macro normalize_address).

    Marketing consent, per record: `has_marketing_consent` is the record's own signal, true
    (opted in), false (opted out) or null (it says neither), and `marketing_consent_at` when
    the source says the signal was given (null when the source keeps no date for it):
      - ERP: Odoo's mass-mailing blacklist (`is_blacklisted`) is an opt-out; the ERP has no
        opt-in of its own, and no date for the blacklisting;
      - CRM: `hs_marketable_status` true or false, without a date of its own;
      - shop: `email_marketing_consent.state` `subscribed` is an opt-in, `unsubscribed` and
        `redacted` (the customer's data erased on request) are opt-outs, dated by its
        `consent_updated_at`; `not_subscribed`, `pending` (double opt-in not confirmed) and
        `invalid` say neither: the customer never agreed, but never refused either.
    Authorisation to process the person's data (Habeas Data, Ley 1581), per record:
    `has_processing_authorisation` true (authorised), false (revoked or refused) or null (says
    neither). Only the CRM records one (its "Legal basis for processing contact's data",
    undated); the shop and the ERP keep no authorisation of their own.
    marts.customer_authorisations weighs them across systems, per purpose.
#}

with

partners as (
    select * from {{ ref('stg_odoo__partners') }}
),

sale_orders as (
    select * from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted
),

crm_people as (
    select * from {{ ref('int_crm_contacts') }}
),

shop_customers as (
    select * from {{ ref('stg_shopify__customers') }}
),

shop_orders as (
    select * from {{ ref('stg_shopify__orders') }}
    where not is_deleted
),

woo_customers as (
    select * from {{ ref('stg_woocommerce__customers') }}
),

woo_orders as (
    select * from {{ ref('stg_woocommerce__orders') }}
    where not is_deleted
),

nube_customers as (
    select * from {{ ref('stg_tiendanube__customers') }}
),

nube_orders as (
    select * from {{ ref('stg_tiendanube__orders') }}
    where not is_deleted and customer_id is not null
),

meli_orders as (
    select * from {{ ref('stg_mercadolibre__orders') }}
    where not is_deleted and buyer_id is not null
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

ordering_partners as (
    select
        partner_id,
        max(partner_name) as partner_name,
        max(updated_at) as updated_at
    from sale_orders
    where partner_id is not null
    group by partner_id
),

erp_records as (
    select
        'odoo_partner' as record_type,
        'odoo' as source_system,
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
        coalesce(partners.updated_at, ordering_partners.updated_at) as updated_at
    from partners
    full outer join ordering_partners
        on partners.partner_id = ordering_partners.partner_id
    where
        ordering_partners.partner_id is not null
        or (partners.customer_rank > 0 and partners.is_active and not partners.is_deleted)
),

crm_records as (
    select
        crm_system || '_contact' as record_type,
        crm_system as source_system,
        contact_id as source_record_id,
        full_name,
        false as is_company,
        email,
        coalesce(mobile_phone, phone) as phone,
        case when mobile_phone is not null then phone end as other_phone,
        tax_id,
        street,
        city,
        country,
        null::text as country_code,
        has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        has_processing_authorisation,
        updated_at
    from crm_people
),

ordering_shop_customer_ids as (
    select distinct customer_id
    from shop_orders
    where customer_id is not null
),

shop_customer_records as (
    select
        'shopify_customer' as record_type,
        'shopify' as source_system,
        shop_customers.customer_id::text as source_record_id,
        shop_customers.full_name,
        false as is_company,
        shop_customers.email,
        coalesce(shop_customers.phone, shop_customers.address_phone) as phone,
        case when shop_customers.phone is not null then shop_customers.address_phone end as other_phone,
        shop_customers.tax_id,
        shop_customers.street,
        shop_customers.city,
        shop_customers.country_name as country,
        shop_customers.country_code,
        case shop_customers.marketing_consent_state
            when 'subscribed' then true
            when 'unsubscribed' then false
            when 'redacted' then false
        end as has_marketing_consent,
        shop_customers.marketing_consent_updated_at as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        shop_customers.updated_at
    from shop_customers
    left join ordering_shop_customer_ids
        on shop_customers.customer_id = ordering_shop_customer_ids.customer_id
    where not shop_customers.is_deleted or ordering_shop_customer_ids.customer_id is not null
),

-- customers known only from their orders: the customer embedded in the latest order when the
-- customer resource has not landed, and each guest order without a customer (keyed by the order)
shop_order_records as (
    select distinct on (record_type, source_record_id)
        case when shop_orders.customer_id is null then 'shopify_guest_order' else 'shopify_customer' end as record_type,
        'shopify' as source_system,
        coalesce(shop_orders.customer_id, shop_orders.order_id)::text as source_record_id,
        nullif(concat_ws(' ', shop_orders.customer_first_name, shop_orders.customer_last_name), '') as full_name,
        false as is_company,
        coalesce(shop_orders.customer_email, shop_orders.email) as email,
        shop_orders.customer_phone as phone,
        null::text as other_phone,
        null::text as tax_id,
        null::text as street,
        null::text as city,
        null::text as country,
        null::text as country_code,
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        shop_orders.updated_at
    from shop_orders
    left join shop_customers
        on shop_orders.customer_id = shop_customers.customer_id
    where shop_customers.customer_id is null
    order by record_type, source_record_id, shop_orders.updated_at desc nulls last
),

woo_customer_records as (
    select
        'woocommerce_customer' as record_type,
        'woocommerce' as source_system,
        woo_customers.customer_id::text as source_record_id,
        woo_customers.full_name,
        false as is_company,
        coalesce(woo_customers.email, woo_customers.billing_email) as email,
        woo_customers.phone,
        null::text as other_phone,
        null::text as tax_id,
        woo_customers.street,
        woo_customers.city,
        null::text as country,
        woo_customers.country_code,
        -- WooCommerce keeps no marketing consent of its own (a newsletter plugin does)
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        woo_customers.updated_at
    from woo_customers
    where not woo_customers.is_deleted
        or exists (select 1 from woo_orders where woo_orders.customer_id = woo_customers.customer_id)
),

-- known only from an order's billing details: a guest checkout (keyed by the order), or an
-- account that has not landed (its latest order)
woo_order_records as (
    select distinct on (record_type, source_record_id)
        case when woo_orders.customer_id is null then 'woocommerce_guest_order' else 'woocommerce_customer' end
            as record_type,
        'woocommerce' as source_system,
        coalesce(woo_orders.customer_id, woo_orders.order_id)::text as source_record_id,
        nullif(concat_ws(' ', woo_orders.billing_first_name, woo_orders.billing_last_name), '') as full_name,
        false as is_company,
        woo_orders.email,
        woo_orders.billing_phone as phone,
        null::text as other_phone,
        null::text as tax_id,
        woo_orders.billing_street as street,
        woo_orders.billing_city as city,
        null::text as country,
        woo_orders.billing_country_code as country_code,
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        woo_orders.updated_at
    from woo_orders
    left join woo_customers
        on woo_orders.customer_id = woo_customers.customer_id
    where woo_customers.customer_id is null
    order by record_type, source_record_id, woo_orders.updated_at desc nulls last
),

nube_customer_records as (
    select
        'tiendanube_customer' as record_type,
        'tiendanube' as source_system,
        nube_customers.customer_id::text as source_record_id,
        nube_customers.full_name,
        false as is_company,
        nube_customers.email,
        coalesce(nube_customers.phone, nube_customers.billing_phone) as phone,
        case when nube_customers.billing_phone <> nube_customers.phone then nube_customers.billing_phone end
            as other_phone,
        nube_customers.tax_id,
        nube_customers.street,
        nube_customers.city,
        null::text as country,
        nube_customers.country_code,
        -- Tienda Nube's newsletter list is not read: no consent either way
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        nube_customers.updated_at
    from nube_customers
    where not nube_customers.is_deleted
        or exists (select 1 from nube_orders where nube_orders.customer_id = nube_customers.customer_id)
),

-- a customer known only from an order's contact details (the customer has not landed): its latest order
nube_order_records as (
    select distinct on (nube_orders.customer_id)
        'tiendanube_customer' as record_type,
        'tiendanube' as source_system,
        nube_orders.customer_id::text as source_record_id,
        nube_orders.contact_name as full_name,
        false as is_company,
        nube_orders.email,
        nube_orders.contact_phone as phone,
        null::text as other_phone,
        nube_orders.tax_id,
        nube_orders.billing_street as street,
        nube_orders.billing_city as city,
        null::text as country,
        nube_orders.billing_country_code as country_code,
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        nube_orders.updated_at
    from nube_orders
    left join nube_customers
        on nube_orders.customer_id = nube_customers.customer_id
    where nube_customers.customer_id is null
    order by nube_orders.customer_id, nube_orders.updated_at desc nulls last
),

-- the door of a buyer's latest sale delivered to them (not picked up at an agency)
meli_doors as (
    select distinct on (buyer_id) buyer_id, receiver_address
    from meli_orders
    where receiver_address is not null and not is_pickup
    order by buyer_id, updated_at desc nulls last
),

-- a Mercado Libre buyer: the latest sale's names and city, the latest document it gave, the
-- latest door it had a sale delivered to
meli_buyer_records as (
    select distinct on (meli_orders.buyer_id)
        'mercadolibre_buyer' as record_type,
        'mercadolibre' as source_system,
        meli_orders.buyer_id::text as source_record_id,
        meli_orders.buyer_name as full_name,
        false as is_company,
        null::text as email,
        null::text as phone,
        null::text as other_phone,
        coalesce(meli_orders.buyer_doc_number, (
            select documented.buyer_doc_number from meli_orders as documented
            where documented.buyer_id = meli_orders.buyer_id and documented.buyer_doc_number is not null
            order by documented.updated_at desc nulls last limit 1
        )) as tax_id,
        meli_doors.receiver_address as street,
        meli_orders.receiver_city as city,
        null::text as country,
        'CO' as country_code,
        -- the marketplace's own consent and authorisation are not the seller's to read
        null::boolean as has_marketing_consent,
        null::timestamptz as marketing_consent_at,
        null::boolean as has_processing_authorisation,
        meli_orders.updated_at
    from meli_orders
    left join meli_doors
        on meli_orders.buyer_id = meli_doors.buyer_id
    order by meli_orders.buyer_id, meli_orders.updated_at desc nulls last
),

unioned as (
    select * from erp_records
    union all
    select * from crm_records
    union all
    select * from shop_customer_records
    union all
    select * from shop_order_records
    union all
    select * from woo_customer_records
    union all
    select * from woo_order_records
    union all
    select * from nube_customer_records
    union all
    select * from nube_order_records
    union all
    select * from meli_buyer_records
),

email_domain_typos (typo, domain) as (
    {{ email_domain_typos() }}
),

normalized as (
    select
        {{ record_key('unioned.record_type', 'unioned.source_record_id') }} as record_key,
        unioned.record_type,
        unioned.source_system,
        unioned.source_record_id,
        unioned.full_name,
        unioned.is_company as is_erp_company,
        {{ normalize_name('unioned.full_name') }} as name_normalized,
        {{ normalize_email('unioned.email') }} as email_normalized,
        {{ normalize_phone('unioned.phone') }} as phone_normalized,
        {{ normalize_phone('unioned.other_phone') }} as other_phone_normalized,
        unioned.tax_id,
        -- the last seven digits of a phone as typed: a local number written without its area
        -- code (no E.164 form) still meets its full form
        {{ phone_tail('unioned.phone') }} as phone_tail,
        {{ phone_tail('unioned.other_phone') }} as other_phone_tail,
        {{ normalize_person_name('unioned.full_name') }} as name_compared,
        {{ normalize_company_name('unioned.full_name') }} as company_name_compared,
        unioned.street,
        {{ normalize_address('unioned.street') }} as address_key,
        unioned.city,
        {{ normalize_city('unioned.city') }} as city_normalized,
        coalesce(
            unioned.country_code,
            case when trim(unioned.country) ~* '^[a-z]{2}$' then upper(trim(unioned.country)) end,
            country_codes.country_code
        ) as country_code,
        unioned.has_marketing_consent,
        unioned.marketing_consent_at,
        unioned.has_processing_authorisation,
        unioned.updated_at
    from unioned
    left join country_codes
        on {{ normalize_name('unioned.country') }} = country_codes.country_name
),

{#-
    Tax ids: a value whose check digit fails (tax_id_is_valid false) is doubtful: it is no key
    (tax_id_normalized null) and links nobody on its own; its digits without the check digit
    (tax_id_body) may still count as weaker evidence, and tax_id_corrected shows the operator
    the value with the digit its body calls for (marts.data_issues lists every one).
-#}
tax_values as (
    select distinct tax_id, coalesce(country_code, '{{ var("default_country_code") }}') as tax_country
    from normalized
    where tax_id is not null
),

-- each distinct tax id checked once (the checks are many regular expressions; `materialized`
-- keeps PostgreSQL from repeating them wherever a later expression refers to their answer)
tax_checked as materialized (
    select
        tax_values.*,
        {{ tax_id_is_valid('tax_values.tax_id', 'tax_values.tax_country') }} as tax_id_is_valid,
        {{ tax_id_kind('tax_values.tax_id', 'tax_values.tax_country') }} as tax_id_kind
    from tax_values
),

tax_keys as materialized (
    select
        tax_id,
        tax_country,
        tax_id_is_valid,
        tax_id_kind,
        case when tax_id_is_valid is distinct from false
            then {{ normalize_tax_id_for_country('tax_id', 'tax_country', is_valid='tax_id_is_valid') }}
        end as tax_id_normalized,
        case when tax_id_is_valid = false
            then {{ tax_id_corrected('tax_id', 'tax_country', is_valid='tax_id_is_valid', kind='tax_id_kind') }}
        end as tax_id_corrected
    from tax_checked
),

keyed as (
    select
        normalized.record_key,
        normalized.record_type,
        normalized.source_system,
        normalized.source_record_id,
        normalized.full_name,
        -- a company: the ERP says so, or the name carries a legal form (`... S.A.S.`)
        normalized.is_erp_company or normalized.company_name_compared is distinct from normalized.name_compared as is_company,
        normalized.name_normalized,
        {{ name_words('normalized.name_compared', compared=true) }} as name_words,
        normalized.company_name_compared,
        normalized.email_normalized,
        {{ canonical_email('normalized.email_normalized', 'email_domain_typos.domain') }} as email_canonical,
        normalized.phone_normalized,
        normalized.other_phone_normalized,
        normalized.phone_tail,
        normalized.other_phone_tail,
        normalized.name_compared,
        normalized.street,
        normalized.address_key,
        normalized.city,
        normalized.city_normalized,
        normalized.country_code,
        normalized.tax_id,
        tax_keys.tax_id_is_valid,
        tax_keys.tax_id_normalized,
        tax_keys.tax_id_corrected,
        -- the digits without the check digit(s), valid or not: a doubtful id whose body is
        -- another record's still says something about the pair (int_customer_pairs_scored)
        case
            when tax_keys.tax_id_is_valid = false and tax_keys.tax_id_kind = 'rfc' then left(tax_keys.tax_id_corrected, -1)
            when tax_keys.tax_id_is_valid = false then regexp_replace(left(
                tax_keys.tax_id_corrected,
                length(tax_keys.tax_id_corrected) - case when tax_keys.tax_id_kind in ('cpf', 'cnpj') then 2 else 1 end
            ), '\D', '', 'g')
            when tax_keys.tax_id_kind = 'rfc' then left(tax_keys.tax_id_normalized, -1)
            when tax_keys.tax_id_kind = 'cuit' then left(tax_keys.tax_id_normalized, 10)
            when tax_keys.tax_id_kind = 'rut' then split_part(tax_keys.tax_id_normalized, '-', 1)
            when tax_keys.tax_id_kind = 'cpf' then left(tax_keys.tax_id_normalized, 9)
            when tax_keys.tax_id_kind = 'cnpj' then left(tax_keys.tax_id_normalized, 12)
            else tax_keys.tax_id_normalized
        end as tax_id_body,
        normalized.has_marketing_consent,
        normalized.marketing_consent_at,
        normalized.has_processing_authorisation,
        normalized.updated_at
    from normalized
    left join email_domain_typos
        on split_part(normalized.email_normalized, '@', 2) = email_domain_typos.typo
    left join tax_keys
        on normalized.tax_id = tax_keys.tax_id
        and coalesce(normalized.country_code, '{{ var("default_country_code") }}') = tax_keys.tax_country
)

select * from keyed
