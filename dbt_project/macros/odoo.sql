{#
    Reading an Odoo `search_read` record (the `record` jsonb column of raw.odoo_*):
    a missing value is `false`, never null; many2one fields are `[id, "display name"]`;
    datetimes are UTC strings without a zone (`2026-11-20 15:31:02`); dates are `YYYY-MM-DD`.
    The typed readers take the model's `checks` (macros/casting.sql): a value that is there
    but is not of its type becomes null and a data issue.
#}

{# The value as text; null when it is missing (`false`, null, blank). #}
{% macro odoo_raw(field) -%}
    nullif(trim(case when record -> '{{ field }}' <> 'false'::jsonb then record ->> '{{ field }}' end), '')
{%- endmacro %}

{% macro odoo_text(field) -%}
    case when jsonb_typeof(record -> '{{ field }}') = 'string' then nullif(trim(record ->> '{{ field }}'), '') end
{%- endmacro %}

{# A JSON number, or a string holding one. #}
{% macro odoo_number(field, checks=none, required=false) -%}
    {{ safe_numeric(odoo_raw(field), checks, field, required) }}
{%- endmacro %}

{% macro odoo_boolean(field, checks=none) -%}
    {{ typed_value(checks, field, "record ->> '" ~ field ~ "'",
                   "jsonb_typeof(record -> '" ~ field ~ "') = 'boolean'",
                   "(record ->> '" ~ field ~ "')::boolean", 'not true or false') }}
{%- endmacro %}

{# The id of a many2one (`[id, "name"]`; a bare id is taken too). #}
{% macro odoo_many2one_id(field, checks=none, required=false) -%}
    {%- set raw -%}
        case when jsonb_typeof(record -> '{{ field }}') = 'array' then record -> '{{ field }}' ->> 0 else {{ odoo_raw(field) }} end
    {%- endset -%}
    {{ safe_id(raw, checks, field, required) }}
{%- endmacro %}

{% macro odoo_many2one_name(field) -%}
    case when jsonb_typeof(record -> '{{ field }}') = 'array' then nullif(trim(record -> '{{ field }}' ->> 1), '') end
{%- endmacro %}

{% macro odoo_datetime(field, checks=none, required=false) -%}
    {{ safe_utc_timestamp(odoo_raw(field), checks, field, required) }}
{%- endmacro %}

{% macro odoo_date(field, checks=none) -%}
    {{ safe_date(odoo_raw(field), checks, field) }}
{%- endmacro %}
