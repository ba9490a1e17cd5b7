{#
    What a customer record brings to pairing (int_customer_pairs_scored): the values it can be found
    by, and a hash of every field the comparisons read. One place for the pairs model, which reads
    them to tell which records a night changed, and for int_customer_pair_inputs, which keeps them
    as the pairs' build saw them.
#}

{#- the values a record can be found by (kind, value, whether the value is a local number's tail),
    as rows of a `values` list over the record's columns -#}
{% macro pairing_identifier_values() -%}
    ('email', email_canonical, false),
    ('phone', phone_normalized, false),
    ('phone', other_phone_normalized, false),
    -- a tail links only to a number that could not be read in full (a local number): two
    -- full numbers are the same or differ, whatever their last seven digits
    ('phone_tail', phone_tail, phone_normalized is null),
    ('phone_tail', other_phone_tail, other_phone_normalized is null),
    ('tax_id', tax_id_body, false),
    ('address', address_key || '|' || city_normalized, false)
{%- endmacro %}

{#- a person's given name with each other word of the name, in the person's city
    (`juan|perez|bogota`, `juan|gomez|bogota` for Juan Pérez Gómez of Bogotá): `word` is a word of
    name_words[2:], unnested beside the record -#}
{% macro pairing_name_key(record, word) -%}
    case
        when not {{ record }}.is_company and {{ record }}.city_normalized is not null
            and length({{ record }}.name_words[1]) > 1 and length({{ word }}) > 1
            then {{ record }}.name_words[1] || '|' || {{ word }} || '|' || {{ record }}.city_normalized
    end
{%- endmacro %}

{#- the hash of every field of a record (int_customer_records_unioned's columns) that a comparison
    reads -#}
{% macro pairing_input_hash(record) -%}
    md5(row(
        {{ record }}.is_company, {{ record }}.company_name_compared, {{ record }}.name_words, {{ record }}.name_compared,
        {{ record }}.email_canonical, {{ record }}.email_normalized,
        {{ record }}.phone_normalized, {{ record }}.phone_is_landline, {{ record }}.phone_tail,
        {{ record }}.other_phone_normalized, {{ record }}.other_phone_is_landline, {{ record }}.other_phone_tail,
        {{ record }}.tax_id_body, {{ record }}.tax_id_normalized, {{ record }}.tax_id_is_valid, {{ record }}.tax_id_swapped_bodies,
        {{ record }}.city_normalized, {{ record }}.address_key, {{ record }}.address_units
    )::text)
{%- endmacro %}

{#- who holds a record, for counting a value's holders: a company by its name, a person by the
    first word of theirs (one person's records in several channels count once, however many) -#}
{% macro pairing_holder(record) -%}
    coalesce(case when {{ record }}.is_company then {{ record }}.company_name_compared else {{ record }}.name_words[1] end, {{ record }}.record_key)
{%- endmacro %}

{#- each value a record of `relation` can be found by, a row each: record_key, key (`kind:value`; a
    name key as `name:<key>`) and the record's holder (macro pairing_holder) -#}
{% macro pairing_key_rows(relation) -%}
    select records.record_key, identifiers.kind || ':' || identifiers.value as key, {{ pairing_holder('records') }} as holder
    from {{ relation }} as records
    cross join lateral (values {{ pairing_identifier_values() }}) as identifiers (kind, value, is_local)
    where identifiers.value is not null
    union all
    select records.record_key, 'tax_id:' || swapped_body, {{ pairing_holder('records') }}
    from {{ relation }} as records
    cross join lateral unnest(records.tax_id_swapped_bodies) as swapped_body
    union all
    select records.record_key, 'name:' || {{ pairing_name_key('records', 'word') }}, {{ pairing_holder('records') }}
    from {{ relation }} as records
    cross join lateral unnest(records.name_words[2:]) as word
    where {{ pairing_name_key('records', 'word') }} is not null
{%- endmacro %}
