{#
    The identity keys of phones and tax ids, each derived once per distinct value and country.

    One owner for two readers: int_customer_records_unioned derives them from the values raw holds
    in clear, and the loader (puente/sealed_keys.py), when a field key seals phones and tax ids
    in raw, derives them from the clear values it is given before they are sealed (the query it runs
    is this file's macro sealed_identity_keys, compiled into puente/sealed_keys.sql by
    `python -m puente.sealed_keys`), seals the text ones and keeps them in raw.sealed_keys.
#}

{#
    A phone's keys in its record's country: E.164 (normalize_phone), the last seven digits as
    typed (phone_tail) and whether the number is a landline (is_landline_phone). `relation`: a
    relation or CTE with columns `phone` and `phone_country`.
#}
{% macro phone_keys(relation) -%}
    select
        phone,
        phone_country,
        phone_normalized,
        {{ phone_tail('phone') }} as phone_tail,
        {{ is_landline_phone('phone_normalized') }} as phone_is_landline
    from (
        select phone, phone_country, {{ normalize_phone('phone', 'phone_country') }} as phone_normalized
        from {{ relation }}
    ) as normalized
{%- endmacro %}

{#
    A tax id's keys in its record's country. `relation`: columns `tax_id` and `tax_country`.
      - tax_id_is_valid, tax_id_kind: tax_id_is_valid, tax_id_kind;
      - tax_id_normalized: the matching key, null when the check digit fails (a doubtful value
        links nobody on its own);
      - tax_id_corrected: a doubtful value written with the digit its body calls for, what the
        operator is shown (marts.data_issues);
      - tax_id_swapped_bodies: the body with two neighbouring digits swapped, when the check
        digit typed is that body's too (tax_id_transpositions): for a doubtful value the slip may
        have been in the body; for a valid one, it is a slip the check digit cannot catch (a NIT's
        DV 1 stands for the remainders 1 and 10; macro tax_id_transpositions), so a valid id one
        such swap from another record's is not read as a second taxpayer's;
      - tax_id_body: the digits without the check digit(s), valid or not: a doubtful id whose body
        is another record's still says something about the pair (int_customer_pairs_scored).
#}
{% macro tax_id_keys(relation) -%}
    select
        tax_id,
        tax_country,
        tax_id_is_valid,
        tax_id_kind,
        tax_id_normalized,
        tax_id_corrected,
        -- a dozen swaps each at most, of a doubtful id, or of a valid one whose check digit(s) can
        -- stand for two sums (macro tax_id_transpositions): a NIT's DV 1, an RFC's, CPF's or
        -- CNPJ's; no swap keeps a valid CUIT or RUT, or a NIT's other DVs, valid
        case when tax_id_is_valid = false
            or (tax_id_is_valid and (tax_id_kind in ('rfc', 'cpf', 'cnpj')
                or (tax_id_kind = 'nit' and right(regexp_replace(tax_id, '\D', '', 'g'), 1) = '1')))
            then {{ tax_id_transpositions('tax_id', 'tax_country', kind='tax_id_kind') }}
        end as tax_id_swapped_bodies,
        case
            when tax_id_is_valid = false and tax_id_kind = 'rfc' then left(tax_id_corrected, -1)
            -- (a RUT's body without leading zeros, as its valid form's)
            when tax_id_is_valid = false and tax_id_kind = 'rut' then ltrim(split_part(tax_id_corrected, '-', 1), '0')
            when tax_id_is_valid = false then regexp_replace(left(
                tax_id_corrected,
                length(tax_id_corrected) - case when tax_id_kind in ('cpf', 'cnpj') then 2 else 1 end
            ), '\D', '', 'g')
            when tax_id_kind = 'rfc' then left(tax_id_normalized, -1)
            when tax_id_kind = 'cuit' then left(tax_id_normalized, 10)
            when tax_id_kind = 'rut' then split_part(tax_id_normalized, '-', 1)
            when tax_id_kind = 'cpf' then left(tax_id_normalized, 9)
            when tax_id_kind = 'cnpj' then left(tax_id_normalized, 12)
            else tax_id_normalized
        end as tax_id_body
    from (
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
        from (
            select
                tax_id,
                tax_country,
                {{ tax_id_is_valid('tax_id', 'tax_country') }} as tax_id_is_valid,
                {{ tax_id_kind('tax_id', 'tax_country') }} as tax_id_kind
            from {{ relation }}
            -- (each value checked once: the checks are many regular expressions, which PostgreSQL
            -- would otherwise repeat wherever a later expression refers to their answer)
            offset 0
        ) as checked
        offset 0
    ) as keyed
{%- endmacro %}

{# A tax id typed into a free-text note (a Shopify customer's): `NIT 900123456-7`, `CC 1020304050`. #}
{% macro tax_id_in_note(expression) -%}
    (regexp_match({{ expression }}, '\m((nit|c\.?\s?c|c\.?\s?e)\.?[\s:#]*\d[\d.\s]*\d(\s*-\s*\d)?)', 'i'))[1]
{%- endmacro %}

{#
    The countries the keys differ in: those the macros read national phones and tax ids of
    (normalize_phone, tax_id_kind). Any other country's keys are those of 'ZZ'.
#}
{% macro sealed_key_country(country_code) -%}
    (case when {{ country_code }} in ('{{ var("identity_key_countries") | join("', '") }}') then {{ country_code }} else 'ZZ' end)
{%- endmacro %}

{#
    What the loader derives from the clear values of a page before sealing them (puente/sealed_keys.py):
    one row per value and country (var identity_key_countries, and 'ZZ' for any other). `relation`:
    columns `value` and `kind`, what the field holds (PersonalData.sensitive_kinds): a `phone` gets
    a phone's keys, a `tax_id` a tax id's, a `note` the tax id typed into it (tax_id_in_note), which
    is derived as a tax id of its own.
#}
{% macro sealed_identity_keys(relation) -%}
    -- (each step materialized: inlined, the keys' expressions would be evaluated again for every
    -- row the joins below compare them with)
    with typed as materialized (
        select value, kind from {{ relation }}
        union
        select {{ tax_id_in_note('value') }}, 'tax_id' from {{ relation }}
        where kind = 'note' and {{ tax_id_in_note('value') }} is not null
    ),

    countries (country_code) as (
        select unnest(array['{{ var("identity_key_countries") | join("', '") }}', 'ZZ'])
    ),

    phones as materialized (
        {{ phone_keys("(select value as phone, country_code as phone_country from typed cross join countries where kind = 'phone')") }}
    ),

    tax_ids as materialized (
        {{ tax_id_keys("(select value as tax_id, country_code as tax_country from typed cross join countries where kind = 'tax_id')") }}
    )

    select
        typed.value,
        typed.kind,
        countries.country_code,
        phones.phone_normalized,
        phones.phone_tail,
        phones.phone_is_landline,
        tax_ids.tax_id_kind,
        tax_ids.tax_id_is_valid,
        tax_ids.tax_id_normalized,
        tax_ids.tax_id_corrected,
        tax_ids.tax_id_swapped_bodies,
        tax_ids.tax_id_body,
        case when typed.kind = 'note' then {{ tax_id_in_note('typed.value') }} end as note_tax_id,
        -- what the ERP activations read of a golden record's tax id (macro erp_partner)
        {{ is_nit_body('tax_ids.tax_id_normalized') }} as tax_id_is_nit_body,
        {{ erp_vat('tax_ids.tax_id_normalized') }} as tax_id_erp_vat
    from typed
    cross join countries
    left join phones on typed.kind = 'phone' and typed.value = phones.phone and countries.country_code = phones.phone_country
    left join tax_ids on typed.kind = 'tax_id' and typed.value = tax_ids.tax_id and countries.country_code = tax_ids.tax_country
    -- (a note's tax id is the same in every country: read from its 'ZZ' row)
    where typed.kind <> 'note' or countries.country_code = 'ZZ'
{%- endmacro %}

{# Whether a value is sealed (puente/field_crypto.py: `enc:v1:<key id>:<ciphertext>`). #}
{% macro is_sealed(expression) -%}
    ({{ expression }} like 'enc:v1:%')
{%- endmacro %}
