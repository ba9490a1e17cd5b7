{#
    Reading an Odoo `search_read` record (the `record` jsonb column of raw.odoo_*):
    a missing value is `false`, never null; many2one fields are `[id, "display name"]`;
    datetimes are UTC strings without a zone (`2026-11-20 15:31:02`); dates are `YYYY-MM-DD`.
#}

{% macro odoo_text(field) -%}
    case when jsonb_typeof(record -> '{{ field }}') = 'string' then nullif(trim(record ->> '{{ field }}'), '') end
{%- endmacro %}

{% macro odoo_number(field) -%}
    case when jsonb_typeof(record -> '{{ field }}') = 'number' then (record ->> '{{ field }}')::numeric end
{%- endmacro %}

{% macro odoo_boolean(field) -%}
    case when jsonb_typeof(record -> '{{ field }}') = 'boolean' then (record ->> '{{ field }}')::boolean end
{%- endmacro %}

{% macro odoo_many2one_id(field) -%}
    case when jsonb_typeof(record -> '{{ field }}') = 'array' then (record -> '{{ field }}' ->> 0)::bigint end
{%- endmacro %}

{% macro odoo_many2one_name(field) -%}
    case when jsonb_typeof(record -> '{{ field }}') = 'array' then nullif(trim(record -> '{{ field }}' ->> 1), '') end
{%- endmacro %}

{% macro odoo_datetime(field) -%}
    case
        when {{ odoo_text(field) }} ~ '^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}'
            then ({{ odoo_text(field) }})::timestamp at time zone 'utc'
    end
{%- endmacro %}

{% macro odoo_date(field) -%}
    case when {{ odoo_text(field) }} ~ '^\d{4}-\d{2}-\d{2}$' then ({{ odoo_text(field) }})::date end
{%- endmacro %}
