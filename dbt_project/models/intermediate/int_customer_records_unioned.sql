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
    has_processing_authorisation, updated_at
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
        -- in the record's country: a customer abroad types their national form (`(11) 91234-5678`)
        {{ normalize_phone('unioned.phone', record_country) }} as phone_normalized,
        {{ normalize_phone('unioned.other_phone', record_country) }} as other_phone_normalized,
        unioned.tax_id,
        -- the last seven digits of a phone as typed: a local number written without its area
        -- code (no E.164 form) still meets its full form
        {{ phone_tail('unioned.phone') }} as phone_tail,
        {{ phone_tail('unioned.other_phone') }} as other_phone_tail,
        {{ normalize_person_name('unioned.full_name') }} as name_compared,
        {{ normalize_company_name('unioned.full_name') }} as company_name_compared,
        unioned.street,
        -- in the record's country: abroad a named street and a number (`Av. Corrientes 1234`)
        {{ normalize_address('unioned.street', record_country) }} as address_key,
        unioned.city,
        {{ normalize_city('unioned.city') }} as city_normalized,
        {{ record_country }} as country_code,
        unioned.has_marketing_consent,
        unioned.marketing_consent_at,
        unioned.has_processing_authorisation,
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

-- a doubtful id's body with two neighbouring digits swapped, when the check digit typed is that
-- body's (macro tax_id_transpositions: NIT, CUIT/CUIL, RUT, RFC, CPF, CNPJ): the slip may have
-- been in the body. Only doubtful ids, a dozen swaps each at most, each checked once.
tax_swaps as materialized (
    select
        tax_id,
        tax_country,
        {{ tax_id_transpositions('tax_id', 'tax_country', kind='tax_id_kind') }} as tax_id_swapped_bodies
    from tax_keys
    where tax_id_is_valid = false
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
        tax_swaps.tax_id_swapped_bodies,
        -- the digits without the check digit(s), valid or not: a doubtful id whose body is
        -- another record's still says something about the pair (int_customer_pairs_scored)
        case
            when tax_keys.tax_id_is_valid = false and tax_keys.tax_id_kind = 'rfc' then left(tax_keys.tax_id_corrected, -1)
            -- (a RUT's body without leading zeros, as its valid form's)
            when tax_keys.tax_id_is_valid = false and tax_keys.tax_id_kind = 'rut' then ltrim(split_part(tax_keys.tax_id_corrected, '-', 1), '0')
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
    left join email_slips
        on split_part(normalized.email_normalized, '@', 2) = email_slips.typo
    left join email_slips_read on normalized.record_key = email_slips_read.record_key
    left join tax_keys
        on normalized.tax_id = tax_keys.tax_id
        and coalesce(normalized.country_code, '{{ var("default_country_code") }}') = tax_keys.tax_country
    left join tax_swaps
        on tax_keys.tax_id = tax_swaps.tax_id
        and tax_keys.tax_country = tax_swaps.tax_country
)

select * from keyed
