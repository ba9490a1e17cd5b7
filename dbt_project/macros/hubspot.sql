{# A HubSpot CRM v3 property: every value is a string or null; blank means missing. #}
{% macro hubspot_property(name) -%}
    nullif(trim(record -> 'properties' ->> '{{ name }}'), '')
{%- endmacro %}

{# Whether a multiple-checkbox property's value (options joined by semicolons) includes `option`. #}
{% macro checkbox_has(value, option) -%}
    coalesce('{{ option }}' = any(
        array(select trim(part) from unnest(string_to_array({{ value }}, ';')) as part)
    ), false)
{%- endmacro %}
