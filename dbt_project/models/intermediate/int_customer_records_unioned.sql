{#
    Every record of a person or business that buys, from every system, one row each, with
    normalised identity keys. Which records count is each system's to say, in its staging model
    of contract `customer_records`, `stg_<system>__customer_records` (macro
    source_contract_models, generated from the registry by `python -m puente.sources.contracts`;
    the columns are those of `record_columns` below): the ERP's customers and the partners its
    orders point at, each shop's customers, the customer of an order whose customer has not
    landed, and guest orders keyed by the order, a marketplace's buyers. The CRM's people come
    from int_crm_contacts (contract `crm_people`): HubSpot contacts that are not archived (HubSpot
    archives the loser of a merge); in a business on Salesforce, its Contacts and the Leads not
    converted yet (a converted lead is its Contact), both of record type `salesforce_contact`
    (their ids differ in their prefix). Deleted source records are left out unless an order
    points at them.

    The postal address as typed (`street`, each system's own: see its model) and its comparable
    key `address_key` (macro normalize_address).

    When the source created the record (`created_at`: Odoo's `create_date`, the CRM's creation
    date, a shop customer's; a record known from an order, the order's) beside when it last
    changed it (`updated_at`): the record's phone was typed between the two. Identity does not
    weigh it (bench/RESULTS.md, "each record's creation date").

    Marketing consent, per record: `has_marketing_consent` is the record's own signal, true
    (opted in), false (opted out) or null (it says neither), and `marketing_consent_at` when
    the source says the signal was given (null when the source keeps no date for it):
    each system's model says how it reads its own (Odoo's blacklist, Shopify's
    `email_marketing_consent`); the CRM's is `hs_marketable_status` true or false, undated.
    Authorisation to process the person's data (Habeas Data, Ley 1581), per record:
    `has_processing_authorisation` true (authorised), false (revoked or refused) or null (says
    neither). Only the CRM records one (its "Legal basis for processing contact's data",
    undated); the shop and the ERP keep no authorisation of their own.
    marts.customer_authorisations weighs them across systems, per purpose.
#}

{%- set record_columns -%}
    record_type, source_system, source_object, source_record_id, full_name, is_company, email, phone, other_phone, tax_id,
    street, city, country, country_code, has_marketing_consent, marketing_consent_at,
    has_processing_authorisation, created_at, updated_at
{%- endset %}

with

crm_people as (
    select * from {{ ref('int_crm_contacts') }}
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

crm_records as (
    select
        crm_system || '_contact' as record_type,
        crm_system as source_system,
        source_object,
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
        created_at,
        updated_at
    from crm_people
),

unioned as (
    select {{ record_columns }} from crm_records
    {%- for model in source_contract_models('customer_records') %}
    union all
    select {{ record_columns }} from {{ ref(model) }}
    {%- endfor %}
),

email_domain_typos (typo, domain) as (
    {{ email_domain_typos() }}
),

-- each slip of a provider's domain once: the domain it stands for, or null when it may stand for
-- two (`hotmail`: hotmail.com or hotmail.es), with the domains it may stand for
email_slips as (
    select typo, case when count(*) = 1 then min(domain) end as domain, array_agg(domain) as domains
    from email_domain_typos
    group by typo
),

{#- the record's country: its code, a name that is a code, or a name the seed knows -#}
{%- set record_country -%}
        coalesce(
            unioned.country_code,
            case when trim(unioned.country) ~* '^[a-z]{2}$' then upper(trim(unioned.country)) end,
            country_codes.country_code
        )
{%- endset %}

normalized as (
    select
        {{ record_key('unioned.record_type', 'unioned.source_record_id') }} as record_key,
        unioned.record_type,
        unioned.source_system,
        unioned.source_object,
        unioned.source_record_id,
        unioned.full_name,
        unioned.is_company as is_erp_company,
        {{ normalize_name('unioned.full_name') }} as name_normalized,
        {{ normalize_email('unioned.email') }} as email_normalized,
        unioned.phone,
        unioned.other_phone,
        unioned.tax_id,
        {{ normalize_person_name('unioned.full_name') }} as name_compared,
        {{ normalize_company_name('unioned.full_name') }} as company_name_compared,
        unioned.street,
        -- in the record's country: abroad a named street and a number (`Av. Corrientes 1234`)
        {{ normalize_address('unioned.street', record_country) }} as address_key,
        unioned.city,
        {{ normalize_city('unioned.city') }} as city_normalized,
        {{ record_country }} as country_code,
        -- the country the keys of its phones and tax ids are read in (another than those the
        -- macros know reads as 'ZZ')
        {{ sealed_key_country("upper(coalesce(" ~ record_country ~ ", '" ~ var('default_country_code') ~ "'))") }} as key_country,
        unioned.has_marketing_consent,
        unioned.marketing_consent_at,
        unioned.has_processing_authorisation,
        unioned.created_at,
        unioned.updated_at
    from unioned
    left join country_codes
        on {{ normalize_name('unioned.country') }} = country_codes.country_name
),

-- the mailboxes the records name without doubt (an address that is no slip of two domains)
held_mailboxes as materialized (
    select distinct {{ canonical_email('normalized.email_normalized', 'email_slips.domain') }} as mailbox
    from normalized
    left join email_slips
        on split_part(normalized.email_normalized, '@', 2) = email_slips.typo
    where normalized.email_normalized is not null
        and (email_slips.typo is null or email_slips.domain is not null)
),

-- an address whose domain is a slip of two of a provider's domains (`juan.perez@yahoo`): the one
-- of them whose mailbox another record holds, when only one is held. When both are (namesakes,
-- `juan.perez@yahoo.com` and `juan.perez@yahoo.es`) or none is, it stays as typed and links by
-- the other evidence only
email_slips_read as (
    select normalized.record_key, min(candidate.domain) as domain
    from normalized
    inner join email_slips
        on split_part(normalized.email_normalized, '@', 2) = email_slips.typo
        and email_slips.domain is null
    cross join lateral unnest(email_slips.domains) as candidate (domain)
    inner join held_mailboxes
        on held_mailboxes.mailbox = {{ canonical_email('normalized.email_normalized', 'candidate.domain') }}
    group by normalized.record_key
    having count(*) = 1
),

{#-
    Phones and tax ids: their keys are derived once per distinct value and country (macros
    phone_keys and tax_id_keys, macros/sensitive_keys.sql), in the record's country: a customer
    abroad types their national form (`(11) 91234-5678`). A phone's keys: E.164, the last seven
    digits as typed (a local number written without its area code, with no E.164 form, still meets
    its full form) and whether it is a landline. A tax id whose check digit fails
    (tax_id_is_valid false) is doubtful: it is no key (tax_id_normalized null) and links nobody on
    its own; its digits without the check digit (tax_id_body) may still count as weaker evidence,
    and tax_id_corrected shows the operator the value with the digit its body calls for
    (marts.data_issues lists every one).

    A value sealed in raw (a field key configured: puente/field_crypto.py) cannot be read here:
    its keys are those the loader derived from its clear value before sealing it, the text ones
    sealed too (ops.sealed_keys, puente/sealed_keys.py), so that equal values still meet.
-#}
sealed_keys as (
    select * from {{ source('ops', 'sealed_keys') }}
),

phone_values as (
    select distinct phone, key_country as phone_country
    from (
        select phone, key_country from normalized
        union all
        select other_phone, key_country from normalized
    ) as phones
    where phone is not null
),

phone_keyed as materialized (
    {{ phone_keys("(select * from phone_values where not " ~ is_sealed('phone') ~ ")") }}
    union all
    select phone_values.phone, phone_values.phone_country, sealed_keys.phone_normalized, sealed_keys.phone_tail,
        sealed_keys.phone_is_landline
    from phone_values
    inner join sealed_keys on phone_values.phone = sealed_keys.sealed and sealed_keys.kind = 'phone'
        and phone_values.phone_country = sealed_keys.country_code
),

tax_values as (
    select distinct tax_id, key_country as tax_country
    from normalized
    where tax_id is not null
),

tax_keyed as materialized (
    {{ tax_id_keys("(select * from tax_values where not " ~ is_sealed('tax_id') ~ ")") }}
    union all
    select tax_values.tax_id, tax_values.tax_country, sealed_keys.tax_id_is_valid, sealed_keys.tax_id_kind,
        sealed_keys.tax_id_normalized, sealed_keys.tax_id_corrected, sealed_keys.tax_id_swapped_bodies,
        sealed_keys.tax_id_body
    from tax_values
    inner join sealed_keys on tax_values.tax_id = sealed_keys.sealed and sealed_keys.kind = 'tax_id'
        and tax_values.tax_country = sealed_keys.country_code
),

keyed as (
    select
        normalized.record_key,
        normalized.record_type,
        normalized.source_system,
        normalized.source_object,
        normalized.source_record_id,
        normalized.full_name,
        -- a company: the ERP says so, or the name carries a legal form (`... S.A.S.`)
        normalized.is_erp_company or normalized.company_name_compared is distinct from normalized.name_compared as is_company,
        normalized.name_normalized,
        {{ name_words('normalized.name_compared', compared=true) }} as name_words,
        normalized.company_name_compared,
        normalized.email_normalized,
        {{ canonical_email('normalized.email_normalized', 'coalesce(email_slips.domain, email_slips_read.domain)') }} as email_canonical,
        phone_keyed.phone_normalized,
        other_phone_keyed.phone_normalized as other_phone_normalized,
        phone_keyed.phone_tail,
        other_phone_keyed.phone_tail as other_phone_tail,
        phone_keyed.phone_is_landline,
        other_phone_keyed.phone_is_landline as other_phone_is_landline,
        normalized.name_compared,
        normalized.street,
        normalized.address_key,
        normalized.city,
        normalized.city_normalized,
        normalized.country_code,
        normalized.tax_id,
        tax_keyed.tax_id_is_valid,
        tax_keyed.tax_id_normalized,
        tax_keyed.tax_id_corrected,
        tax_keyed.tax_id_swapped_bodies,
        tax_keyed.tax_id_body,
        normalized.has_marketing_consent,
        normalized.marketing_consent_at,
        normalized.has_processing_authorisation,
        normalized.created_at,
        normalized.updated_at
    from normalized
    left join email_slips
        on split_part(normalized.email_normalized, '@', 2) = email_slips.typo
    left join email_slips_read on normalized.record_key = email_slips_read.record_key
    left join phone_keyed
        on normalized.phone = phone_keyed.phone
        and normalized.key_country = phone_keyed.phone_country
    left join phone_keyed as other_phone_keyed
        on normalized.other_phone = other_phone_keyed.phone
        and normalized.key_country = other_phone_keyed.phone_country
    left join tax_keyed
        on normalized.tax_id = tax_keyed.tax_id
        and normalized.key_country = tax_keyed.tax_country
)

select * from keyed
