{# A HubSpot CRM v3 property: every value is a string or null; blank means missing. #}
{% macro hubspot_property(name) -%}
    nullif(trim(record -> 'properties' ->> '{{ name }}'), '')
{%- endmacro %}
