{#
    Casts that return null instead of failing the whole model when a source sends a value
    of the wrong shape (free-text HubSpot properties, schema drift). Used by staging only.
#}

{% macro safe_numeric(expression) -%}
    case
        when ({{ expression }}) ~ '^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$' then ({{ expression }})::numeric
    end
{%- endmacro %}

{% macro safe_boolean(expression) -%}
    case
        when lower(trim({{ expression }})) in ('true', 'false') then lower(trim({{ expression }}))::boolean
    end
{%- endmacro %}

{# ISO-8601 with a zone (`Z`, `-05:00`): HubSpot and Shopify datetimes. #}
{% macro safe_timestamptz(expression) -%}
    case
        when ({{ expression }}) ~ '^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}' then ({{ expression }})::timestamptz
    end
{%- endmacro %}
