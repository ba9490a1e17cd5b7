{#
    Survivorship for the customer golden record, inside a `group by customer_id` over
    int_customers_matched: the value of `column` from its system of record, and which record
    it came from. The systems in order of authority (the owner first, then fallbacks) are those
    dim_customers' YAML declares for `<name>` (`meta.system_of_record`, read by
    `systems_of_record`); within a system the most recently changed record with a value wins:
    changed by someone other than Puente (`content_changed_at`, int_customer_record_changes), as
    the record's last-modified time also moves with Puente's own writes (scores on two
    duplicate CRM contacts at one instant must not hand the field to the other contact).
    Emits two columns: `<name>` (as text) and `<name>_source` (the record key, e.g.
    `hubspot_contact:901`), both read from one ordered aggregate of the pair (PostgreSQL computes
    identical aggregates once: one sort per customer and field, where a value and a source
    aggregated apart took two; dim_customers' query 2.7 s -> 2.2 s at 100,000 customers).
    `unusable`, when given, is a condition on the record (SQL) under which its value gives way to
    any other record's, whatever their systems' authority (an e-mail address whose domain is a slip
    of a provider's, which no message reaches); it still stands when no other record has a value.
#}
{% macro owned_field(column, name=none, unusable=none) -%}
    {%- set name = name or column -%}
    {%- set owners = systems_of_record('dim_customers', name) -%}
    {%- set authority -%}
        array_position(array['{{ owners | join("', '") }}'], source_system)
    {%- endset -%}
    {%- set survivor_order -%}
        order by {% if unusable %}coalesce({{ unusable }}, false), {% endif %}{{ authority }}, content_changed_at desc nulls last, record_key
    {%- endset -%}
    {%- set has_value -%}
        filter (where {{ column }} is not null and {{ authority }} is not null)
    {%- endset -%}
    {%- set survivor -%}
        (array_agg(array[{{ column }}::text, record_key] {{ survivor_order }}) {{ has_value }})
    {%- endset -%}
    {{ survivor }}[1][1] as {{ name }},
    {{ survivor }}[1][2] as {{ name }}_source
{%- endmacro %}

{#
    The golden record's survivorship (dim_customers), inside a `group by customer_id` over rows of
    int_customers_matched that carry `is_email_slip` (macro email_slip): each field and its
    `<field>_source`. customer_field_conflicts computes the same to say which value was kept, so
    the rules are written once, here, and a change of them changes both models' code (each then
    computes all its kept rows again: macros/kept_builds.sql).
#}
{% macro golden_fields() -%}
    {{ owned_field('full_name') }},
    {{ owned_field('tax_id_normalized', name='tax_id') }},
    {{ owned_field('email_normalized', name='email', unusable='is_email_slip') }},
    {{ owned_field('phone_normalized', name='phone') }},
    {{ owned_field('city') }},
    {{ owned_field('country_code') }}
{%- endmacro %}

{#- an e-mail address whose domain is a slip of a big provider's (`gamil.com`, `hotmail` without
    `.com`): identity reads it as the provider's, but no message reaches it -#}
{% macro email_slip(column) -%}
    split_part({{ column }}, '@', 2) in (select typo from {{ email_domain_typos() }} as slips (typo, domain))
{%- endmacro %}
