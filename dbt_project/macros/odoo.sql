{#
    Reading an Odoo `search_read` record (the `record` jsonb column of raw.odoo_*):
    a missing value is `false`, never null; many2one fields are `[id, "display name"]`;
    datetimes are UTC strings without a zone (`2026-11-20 15:31:02`); dates are `YYYY-MM-DD`.
    The typed readers take the model's field reader (`typed_fields()`, macros/casting.sql): a
    value that is there but is not of its type becomes null and a data issue.
#}

{# The value as text; null when it is missing (`false`, null, blank). #}
{% macro odoo_raw(fields, field) -%}
    nullif({{ field_value(fields, field) }}, 'false')
{%- endmacro %}

{% macro odoo_text(field) -%}
    case when jsonb_typeof(record -> '{{ field }}') = 'string' then nullif(trim(record ->> '{{ field }}'), '') end
{%- endmacro %}

{# A JSON number, or a string holding one. #}
{% macro odoo_number(fields, field, required=false) -%}
    {{ safe_numeric(odoo_raw(fields, field), fields, field, required) }}
{%- endmacro %}

{% macro odoo_boolean(fields, field) -%}
    {{ safe_boolean(field_value(fields, field), fields, field) }}
{%- endmacro %}

{# The id of a many2one (`[id, "name"]`; anything else that is not `false` is an unreadable id). #}
{% macro odoo_many2one_id(fields, field, required=false) -%}
    {%- set value = field_value(fields, field, json=true) -%}
    {{ safe_id("coalesce(" ~ value ~ " ->> 0, nullif(nullif(trim(" ~ value ~ " #>> '{}'), ''), 'false'))",
               fields, field, required) }}
{%- endmacro %}

{% macro odoo_many2one_name(field) -%}
    case when jsonb_typeof(record -> '{{ field }}') = 'array' then nullif(trim(record -> '{{ field }}' ->> 1), '') end
{%- endmacro %}

{% macro odoo_datetime(fields, field, required=false) -%}
    {{ safe_utc_timestamp(odoo_raw(fields, field), fields, field, required) }}
{%- endmacro %}

{% macro odoo_date(fields, field) -%}
    {{ safe_date(odoo_raw(fields, field), fields, field) }}
{%- endmacro %}
