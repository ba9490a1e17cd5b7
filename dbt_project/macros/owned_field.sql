{#
    Survivorship for the customer golden record, inside a `group by customer_id` over
    int_customers_matched: the value of `column` from its system of record, and which record
    it came from. The systems in order of authority (the owner first, then fallbacks) are those
    dim_customers' YAML declares for `<name>` (`meta.system_of_record`, read by
    `systems_of_record`); within a system the most recently changed record with a value wins:
    changed by someone other than Puente (`content_changed_at`, int_customer_record_changes), as
    the record's last-modified time also moves with Puente's own writes (scores on two
    duplicate CRM contacts at one instant must not hand the field to the other contact).
    Emits two columns: `<name>` and `<name>_source` (the record key, e.g. `hubspot_contact:901`).
#}
{% macro owned_field(column, name=none) -%}
    {%- set name = name or column -%}
    {%- set owners = systems_of_record('dim_customers', name) -%}
    {%- set authority -%}
        array_position(array['{{ owners | join("', '") }}'], source_system)
    {%- endset -%}
    {%- set survivor_order -%}
        order by {{ authority }}, content_changed_at desc nulls last, record_key
    {%- endset -%}
    {%- set has_value -%}
        filter (where {{ column }} is not null and {{ authority }} is not null)
    {%- endset -%}
    (array_agg({{ column }} {{ survivor_order }}) {{ has_value }})[1] as {{ name }},
    (array_agg(record_key {{ survivor_order }}) {{ has_value }})[1] as {{ name }}_source
{%- endmacro %}
