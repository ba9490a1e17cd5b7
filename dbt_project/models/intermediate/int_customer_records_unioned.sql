{#
    Every record of a person or business that buys, from every system, one row each, with
    normalised identity keys: int_customer_record_keys (which records count, and the keys each
    record's own values give, derived once per content) and what depends on the other records (a
    provider's domain typed as a slip of two, read by the mailboxes the other records hold), the
    keys of values sealed in raw read in ops.sealed_keys.

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

with

records as (
    select * from {{ ref('int_customer_record_keys') }}
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

-- the mailboxes the records name without doubt (an address that is no slip of two domains)
held_mailboxes as materialized (
    select distinct {{ canonical_email('records.email_normalized', 'email_slips.domain') }} as mailbox
    from records
    left join email_slips
        on split_part(records.email_normalized, '@', 2) = email_slips.typo
    where records.email_normalized is not null
        and (email_slips.typo is null or email_slips.domain is not null)
),

-- an address whose domain is a slip of two of a provider's domains (`juan.perez@yahoo`): the one
-- of them whose mailbox another record holds, when only one is held. When both are (namesakes,
-- `juan.perez@yahoo.com` and `juan.perez@yahoo.es`) or none is, it stays as typed and links by
-- the other evidence only
email_slips_read as (
    select records.record_key, min(candidate.domain) as domain
    from records
    inner join email_slips
        on split_part(records.email_normalized, '@', 2) = email_slips.typo
        and email_slips.domain is null
    cross join lateral unnest(email_slips.domains) as candidate (domain)
    inner join held_mailboxes
        on held_mailboxes.mailbox = {{ canonical_email('records.email_normalized', 'candidate.domain') }}
    group by records.record_key
    having count(*) = 1
),

{#-
    A value sealed in raw (a field key configured: puente/field_crypto.py): its keys are those the
    loader derived from its clear value before sealing it, the text ones sealed too
    (ops.sealed_keys, puente/sealed_keys.py), so that equal values still meet.
-#}
sealed_keys as (
    select * from {{ source('ops', 'sealed_keys') }}
),

keyed as (
    select
        records.record_key,
        records.record_type,
        records.source_system,
        records.source_object,
        records.source_record_id,
        records.full_name,
        -- a company: the ERP says so, or the name carries a legal form (`... S.A.S.`)
        records.is_company or records.company_name_compared is distinct from records.name_compared as is_company,
        records.name_normalized,
        records.name_words,
        records.company_name_compared,
        records.email_normalized,
        {{ canonical_email('records.email_normalized', 'coalesce(email_slips.domain, email_slips_read.domain)') }} as email_canonical,
        coalesce(sealed_phone.phone_normalized, records.phone_normalized) as phone_normalized,
        coalesce(sealed_other_phone.phone_normalized, records.other_phone_normalized) as other_phone_normalized,
        coalesce(sealed_phone.phone_tail, records.phone_tail) as phone_tail,
        coalesce(sealed_other_phone.phone_tail, records.other_phone_tail) as other_phone_tail,
        coalesce(sealed_phone.phone_is_landline, records.phone_is_landline) as phone_is_landline,
        coalesce(sealed_other_phone.phone_is_landline, records.other_phone_is_landline) as other_phone_is_landline,
        records.name_compared,
        records.street,
        records.address_key,
        records.address_units,
        records.city,
        records.city_normalized,
        records.record_country as country_code,
        records.tax_id,
        coalesce(sealed_tax.tax_id_is_valid, records.tax_id_is_valid) as tax_id_is_valid,
        coalesce(sealed_tax.tax_id_normalized, records.tax_id_normalized) as tax_id_normalized,
        coalesce(sealed_tax.tax_id_corrected, records.tax_id_corrected) as tax_id_corrected,
        coalesce(sealed_tax.tax_id_swapped_bodies, records.tax_id_swapped_bodies) as tax_id_swapped_bodies,
        coalesce(sealed_tax.tax_id_body, records.tax_id_body) as tax_id_body,
        records.has_marketing_consent,
        records.marketing_consent_at,
        records.has_processing_authorisation,
        records.created_at,
        records.updated_at
    from records
    left join email_slips
        on split_part(records.email_normalized, '@', 2) = email_slips.typo
    left join email_slips_read on records.record_key = email_slips_read.record_key
    left join sealed_keys as sealed_phone
        on records.phone = sealed_phone.sealed and sealed_phone.kind = 'phone'
        and records.key_country = sealed_phone.country_code
    left join sealed_keys as sealed_other_phone
        on records.other_phone = sealed_other_phone.sealed and sealed_other_phone.kind = 'phone'
        and records.key_country = sealed_other_phone.country_code
    left join sealed_keys as sealed_tax
        on records.tax_id = sealed_tax.sealed and sealed_tax.kind = 'tax_id'
        and records.key_country = sealed_tax.country_code
)

select * from keyed
