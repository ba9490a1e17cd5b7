{#
    Every record of a person or business that buys, from every system, one row each, with the
    keys derived from its own values. Which records count is each system's to say, in its staging
    model of contract `customer_records`, `stg_<system>__customer_records` (macro
    source_contract_models, generated from the registry by `python -m puente.sources.contracts`;
    the columns are those of `record_columns` below): the ERP's customers and the partners its
    orders point at, each shop's customers, the customer of an order whose customer has not
    landed, and guest orders keyed by the order, a marketplace's buyers. The CRM's people come
    from int_crm_contacts (contract `crm_people`): HubSpot contacts that are not archived (HubSpot
    archives the loser of a merge); in a business on Salesforce, its Contacts and the Leads not
    converted yet (a converted lead is its Contact), both of record type `salesforce_contact`
    (their ids differ in their prefix). Deleted source records are left out unless an order
    points at them.

    The keys derived from a record's own values: its normalised name, e-mail, address and city,
    its country, and its phones' and tax id's keys (macros phone_keys and tax_id_keys).
    int_customer_records_unioned reads them and adds what depends on the other records (a
    provider's domain typed as a slip of two is read by the mailboxes the other records hold).

    Deriving them is most of the identity models' per-record work (regular expressions on names,
    streets and e-mails, phones parsed, check digits computed): about 20 s per 200,000 records on
    two cores, every night, for records that mostly did not change. So this table reads its own
    previous build and derives again only the records whose inputs changed, or every record when
    the derivation did: `derivation_hash` is the record's inputs, the derivation's compiled SQL
    (vars and macros included) and the country_codes seed, hashed. It is still rebuilt whole each
    night (a record gone from its source leaves it). A first build, a full refresh (`dbt build
    --full-refresh`, the night's `rebuild_marts`) and a previous build without every column of this
    one (a new Puente) derive every record. An erasure empties it before rebuilding the models
    (puente/erasure.py): what it scrubbed in place is never kept.

    A value sealed in raw (a field key configured: puente/field_crypto.py) cannot be read here: its
    keys are not derived (null), and int_customer_records_unioned reads those the loader derived
    in ops.sealed_keys.
#}

{#- what the derivation adds to a record, beside its record_key -#}
{%- set derived_columns = [
    'name_normalized', 'email_normalized', 'name_compared', 'company_name_compared', 'name_words',
    'address_key', 'address_units', 'city_normalized', 'record_country', 'key_country',
    'phone_normalized', 'phone_tail', 'phone_is_landline',
    'other_phone_normalized', 'other_phone_tail', 'other_phone_is_landline',
    'tax_id_is_valid', 'tax_id_normalized', 'tax_id_corrected', 'tax_id_swapped_bodies', 'tax_id_body',
] -%}

{#- the previous build, when it holds every column this one derives and no full refresh was asked -#}
{%- set previous = load_relation(this) if execute and not flags.FULL_REFRESH else none -%}
{%- if previous is not none -%}
    {%- set previous_columns = adapter.get_columns_in_relation(previous) | map(attribute='name') | list -%}
    {%- if (['record_key', 'derivation_hash'] + derived_columns) | reject('in', previous_columns) | list -%}
        {%- set previous = none -%}
    {%- endif -%}
{%- endif -%}

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

country_codes_version as (
    select md5(string_agg(country_name || '=' || country_code, ',' order by country_name, country_code)) as version
    from country_codes
),

{#- what a record's keys are derived by, hashed into each record's derivation_hash -#}
{%- set derivation -%}
    -- the record's country: its code, a name that is a code, or a name the seed knows
    {%- set record_country -%}
        coalesce(
            changed.country_code,
            case when trim(changed.country) ~* '^[a-z]{2}$' then upper(trim(changed.country)) end,
            country_codes.country_code
        )
    {%- endset %}
normalized as (
    select
        changed.record_key,
        {{ normalize_name('changed.full_name') }} as name_normalized,
        {{ normalize_email('changed.email') }} as email_normalized,
        changed.phone,
        changed.other_phone,
        changed.tax_id,
        {{ normalize_person_name('changed.full_name') }} as name_compared,
        {{ normalize_company_name('changed.full_name') }} as company_name_compared,
        -- in the record's country: abroad a named street and a number (`Av. Corrientes 1234`)
        {{ normalize_address('changed.street', record_country) }} as address_key,
        {{ address_units('changed.street') }} as address_units,
        {{ normalize_city('changed.city') }} as city_normalized,
        {{ record_country }} as record_country,
        -- the country the keys of its phones and tax ids are read in (another than those the
        -- macros know reads as 'ZZ')
        {{ sealed_key_country("upper(coalesce(" ~ record_country ~ ", '" ~ var('default_country_code') ~ "'))") }} as key_country
    from changed
    left join country_codes
        on {{ normalize_name('changed.country') }} = country_codes.country_name
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
-#}
phone_values as (
    select distinct phone, key_country as phone_country
    from (
        select phone, key_country from normalized
        union all
        select other_phone, key_country from normalized
    ) as phones
    where phone is not null and not {{ is_sealed('phone') }}
),

phone_keyed as materialized (
    {{ phone_keys('phone_values') }}
),

tax_values as (
    select distinct tax_id, key_country as tax_country
    from normalized
    where tax_id is not null and not {{ is_sealed('tax_id') }}
),

tax_keyed as materialized (
    {{ tax_id_keys('tax_values') }}
),

derived as (
    select
        normalized.record_key,
        normalized.name_normalized,
        normalized.email_normalized,
        normalized.name_compared,
        normalized.company_name_compared,
        {{ name_words('normalized.name_compared', compared=true) }} as name_words,
        normalized.address_key,
        normalized.address_units,
        normalized.city_normalized,
        normalized.record_country,
        normalized.key_country,
        phone_keyed.phone_normalized,
        phone_keyed.phone_tail,
        phone_keyed.phone_is_landline,
        other_phone_keyed.phone_normalized as other_phone_normalized,
        other_phone_keyed.phone_tail as other_phone_tail,
        other_phone_keyed.phone_is_landline as other_phone_is_landline,
        tax_keyed.tax_id_is_valid,
        tax_keyed.tax_id_normalized,
        tax_keyed.tax_id_corrected,
        tax_keyed.tax_id_swapped_bodies,
        tax_keyed.tax_id_body
    from normalized
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
{%- endset %}

sourced as (
    select
        {{ record_key('unioned.record_type', 'unioned.source_record_id') }} as record_key,
        unioned.*,
        md5(jsonb_build_array(
            unioned.full_name, unioned.email, unioned.phone, unioned.other_phone, unioned.tax_id, unioned.street,
            unioned.city, unioned.country, unioned.country_code
        )::text || '{{ local_md5(derivation) }}' || country_codes_version.version) as derivation_hash
    from unioned
    cross join country_codes_version
),

{%- if previous is not none %}

-- the records whose keys the previous build derived from the same inputs, the same way
kept as (
    select sourced.*, {% for column in derived_columns %}previous.{{ column }}{{ ", " if not loop.last }}{% endfor %}
    from sourced
    inner join {{ previous }} as previous
        on sourced.record_key = previous.record_key
        and sourced.derivation_hash = previous.derivation_hash
),

changed as (
    select sourced.*
    from sourced
    where not exists (select 1 from kept where kept.record_key = sourced.record_key)
),
{%- else %}

changed as (
    select * from sourced
),
{%- endif %}

{{ derivation }}

{% if previous is not none -%}
select * from kept
union all
{% endif -%}
select changed.*, {% for column in derived_columns %}derived.{{ column }}{{ ", " if not loop.last }}{% endfor %}
from changed
inner join derived on changed.record_key = derived.record_key
