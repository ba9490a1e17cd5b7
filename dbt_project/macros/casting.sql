{#
    Typing in staging: every cast checks that a value is a real one of its type (a date that
    exists, a number, an id) and gives null when it is not, so one bad value never fails a
    model. A value that is there but cannot be typed is also recorded: each cast takes the
    model's `checks` list (`{% set checks = [] %}` at the top of the model) and appends what
    it read, and at the end of the select

        {{ data_issues(checks) }} as data_issues,      -- jsonb[] of {field, value, reason, quarantines}, or null
        {{ is_quarantined(checks) }} as is_quarantined -- a `required` value (key, amount) is missing or unreadable

    The base_* staging models keep every record with these two columns; their stg_* views keep
    only the records that are not quarantined; marts.data_issues lists every issue for the
    operator. A missing value (null, blank, Odoo's `false`) is not an issue unless `required`.

    Validity is pg_input_is_valid (PostgreSQL 16+): the type's own input function, run without
    raising, so "2026-02-30" and "0000-00-00" are refused without an exception block (a
    plpgsql function with one costs a subtransaction per value). A shape check comes first, so
    the words PostgreSQL's date input also takes ("now", "today", "epoch", "infinity") and
    DateStyle-dependent forms ("01/02/2026") are refused too, and so are hex or `1_000` numbers.
#}

{% macro typed_value(checks, field, raw, valid, cast, reason, required=false) -%}
    {%- if checks is not none -%}
        {%- do checks.append({'field': field, 'raw': raw, 'valid': valid, 'reason': reason, 'required': required}) -%}
    {%- endif -%}
    case when {{ valid }} then {{ cast }} end
{%- endmacro %}

{# The jsonb[] of the issues found in one row, null when there are none. #}
{% macro data_issues(checks) -%}
    nullif(array_remove(array[
        {%- for check in checks %}
        case
            {%- if check.required %}
            when ({{ check.raw }}) is null
                then {{ _issue(check, 'null', 'missing') }}
            {%- endif %}
            when ({{ check.raw }}) is not null and not coalesce({{ check.valid }}, false)
                then {{ _issue(check, 'left(' ~ check.raw ~ ', 200)', check.reason) }}
        end{{ ',' if not loop.last }}
        {%- endfor %}
    ]::jsonb[], null), '{}')
{%- endmacro %}

{% macro _issue(check, value, reason) -%}
    jsonb_build_object('field', '{{ check.field }}', 'value', {{ value }}, 'reason', '{{ reason }}',
                       'quarantines', {{ 'true' if check.required else 'false' }})
{%- endmacro %}

{# True when a `required` value (the record's key, its amount) is missing or unreadable. #}
{% macro is_quarantined(checks) -%}
    {%- set required = checks | selectattr('required') | list -%}
    {%- if required -%}
        not (
            {%- for check in required %}
            coalesce({{ check.valid }}, false){{ ' and' if not loop.last }}
            {%- endfor %}
        )
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}


{# Casts of a text expression (`field` names it in data_issues). #}

{% macro safe_numeric(expression, checks=none, field=none, required=false) -%}
    {{ typed_value(checks, field, expression,
                   "(" ~ expression ~ ") ~ '^\s*[+-]?(\d{1,60}(\.\d{0,40})?|\.\d{1,40})\s*$'",
                   "(" ~ expression ~ ")::numeric", 'not a number', required) }}
{%- endmacro %}

{#
    An integer id: digits, or an integral number written with a fraction (`11.0`). With
    `shopify_gid`, also a Shopify GraphQL global id (`gid://shopify/Order/1`, what the GraphQL
    Admin API and the REST resources' `admin_graphql_api_id` carry), read as its numeric tail:
    the same record.
#}
{% macro safe_id(expression, checks=none, field=none, required=false, shopify_gid=false) -%}
    {%- set integral = "(" ~ expression ~ ") ~ '^\s*[+-]?\d{1,18}(\.0*)?\s*$'" -%}
    {%- if shopify_gid -%}
        {%- set valid = "(" ~ integral ~ " or (" ~ expression ~ ") ~ '^gid://shopify/[A-Za-z]+/\d{1,18}$')" -%}
        {%- set cast = "substring(" ~ expression ~ " from '([+-]?\d+)(\.0*)?\s*$')::bigint" -%}
    {%- else -%}
        {%- set valid, cast = integral, "(" ~ expression ~ ")::numeric::bigint" -%}
    {%- endif -%}
    {{ typed_value(checks, field, expression, valid, cast, 'not a numeric id', required) }}
{%- endmacro %}

{% macro safe_boolean(expression, checks=none, field=none) -%}
    {{ typed_value(checks, field, expression,
                   "lower(trim(" ~ expression ~ ")) in ('true', 'false')",
                   "lower(trim(" ~ expression ~ "))::boolean", 'not true or false') }}
{%- endmacro %}

{# ISO 8601 with a zone (`Z`, `-05:00`): HubSpot and Shopify datetimes. #}
{% macro safe_timestamptz(expression, checks=none, field=none, required=false) -%}
    {{ typed_value(checks, field, expression,
                   "((" ~ expression ~ ") ~ '^\s*\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*(Z|[+-]\d{2}(:?\d{2})?)\s*$'"
                   ~ " and pg_input_is_valid(" ~ expression ~ ", 'timestamptz'))",
                   "(" ~ expression ~ ")::timestamptz",
                   'not a real date and time (ISO 8601 with a zone)', required) }}
{%- endmacro %}

{% macro safe_date(expression, checks=none, field=none) -%}
    {{ typed_value(checks, field, expression,
                   "((" ~ expression ~ ") ~ '^\d{4}-\d{2}-\d{2}$' and pg_input_is_valid(" ~ expression ~ ", 'date'))",
                   "(" ~ expression ~ ")::date", 'not a real date (YYYY-MM-DD)') }}
{%- endmacro %}

{# A naive datetime taken as UTC (Odoo's `2026-11-20 15:31:02`). #}
{% macro safe_utc_timestamp(expression, checks=none, field=none, required=false) -%}
    {{ typed_value(checks, field, expression,
                   "((" ~ expression ~ ") ~ '^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$'"
                   ~ " and pg_input_is_valid(" ~ expression ~ ", 'timestamp'))",
                   "(" ~ expression ~ ")::timestamp at time zone 'utc'",
                   'not a real date and time (YYYY-MM-DD HH:MM:SS, UTC)', required) }}
{%- endmacro %}

{# An on-run-start check: stop at once, saying why, on a PostgreSQL older than `version_num`. #}
{% macro require_postgres(version_num, why) -%}
do $$
begin
    if current_setting('server_version_num')::int < {{ version_num }} then
        raise exception 'Puente needs PostgreSQL {{ version_num // 10000 }} or newer: {{ why }}. This server runs %.',
            current_setting('server_version');
    end if;
end
$$
{%- endmacro %}
