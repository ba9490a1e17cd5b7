{#
    Typing in staging: every cast checks that a value is a real one of its type (a date that
    exists, a number, an id) and gives null when it is not, so one bad value never fails a
    model. A value that is there but cannot be typed is also recorded. A model reads its record
    through a field reader,

        {%- set fields = typed_fields() -%}               -- at the top: reads `record`
        {{ safe_numeric(field_value(fields, 'total_price'), fields, 'total_price', required=true) }} as amount_total,
        ...
        {{ data_issues(fields) }} as data_issues         -- last column: jsonb[] of {field, value, reason, quarantines}
    from source
    {{ read_fields(fields) }}                           -- the keys read, parsed once per row

    `field_value` names a key the reader extracts with one jsonb_to_record per row (a raw
    record is parsed once, not once per use: a Shopify order is stored compressed, and every
    `record ->> key` decompresses it again); each cast appends its check to the reader.
    A `required` value (the record's key, its amount) that is missing or unreadable quarantines
    the record (`is_quarantined(data_issues)`): the base_* staging models keep every record, the
    stg_* views over them only those not quarantined, and marts.data_issues lists every issue
    for the operator. A missing value (null, blank, Odoo's `false`) is not an issue unless
    `required`.

    Validity is PostgreSQL's own input function run without raising (pg_input_is_valid,
    PostgreSQL 16+), so "2026-02-30" and "0000-00-00" are refused without an exception block (a
    plpgsql function with one costs a subtransaction per value). A shape check comes first, so
    the words PostgreSQL's date input also takes ("now", "today", "epoch", "infinity"),
    DateStyle-dependent forms ("01/02/2026"), hex and `1_000` numbers, NaN and Infinity are
    refused too. The shape checks are LIKE patterns and translate(), not regular expressions,
    which cost several times more per value (bench figures in dbt_project/README.md).
#}

{#
    A reader of the keys of one jsonb expression (`column`), extracted as `alias`."key". A raw
    table's `record` is always a JSON object (puente.load lands nothing else); any other
    `column` (an order's line item) may not be, and then reads as `{}`.
#}
{% macro typed_fields(column='record', alias='fields') -%}
    {{ return({'column': column, 'alias': alias, 'keys': {}, 'checks': []}) }}
{%- endmacro %}

{# The value of `key` as text (trimmed, null when blank), or with `json` as jsonb. #}
{% macro field_value(fields, key, json=false) -%}
    {%- set type = 'jsonb' if json else 'text' -%}
    {%- if fields['keys'].get(key, type) != type -%}
        {{ exceptions.raise_compiler_error("key " ~ key ~ " is read both as text and as jsonb") }}
    {%- endif -%}
    {%- do fields['keys'].update({key: type}) -%}
    {%- if json -%}
        {{ fields.alias }}."{{ key }}"
    {%- else -%}
        nullif(trim({{ fields.alias }}."{{ key }}"), '')
    {%- endif -%}
{%- endmacro %}

{# The FROM clause part that extracts the keys read (after the select list that names them). #}
{% macro read_fields(fields) -%}
    {%- if fields['keys'] %}
    {%- set column = fields.column if fields.column in ('record', 'source.record') else
        "case when jsonb_typeof(" ~ fields.column ~ ") = 'object' then " ~ fields.column ~ " else '{}' end" %}
    cross join lateral jsonb_to_record({{ column }}) as {{ fields.alias }} (
        {%- for key, type in fields['keys'].items() %}"{{ key }}" {{ type }}{{ ', ' if not loop.last }}{% endfor -%}
    )
    {%- endif %}
{%- endmacro %}

{% macro typed_value(fields, field, raw, valid, cast, reason, required=false) -%}
    {%- if fields is not none -%}
        {%- do fields['checks'].append({'field': field, 'raw': raw, 'valid': valid, 'reason': reason, 'required': required}) -%}
    {%- endif -%}
    case when {{ valid }} then {{ cast }} end
{%- endmacro %}

{# The jsonb[] of the issues found in one row, null when there are none. #}
{% macro data_issues(fields) -%}
    nullif(array_remove(array[
        {%- for check in fields['checks'] %}
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

{# True when one of the issues in `data_issues` (a column) quarantines the record. #}
{% macro is_quarantined(data_issues) -%}
    coalesce('{"quarantines": true}'::jsonb <@ any ({{ data_issues }}), false)
{%- endmacro %}


{# Casts of a text expression; `field` names it in data_issues. #}

{# A plain decimal number (`129900.00`, `-0.5`). #}
{% macro safe_numeric(expression, fields=none, field=none, required=false) -%}
    {{ typed_value(fields, field, expression,
                   "(translate(" ~ expression ~ ", '0123456789.+- ', '') = '' and pg_input_is_valid(" ~ expression ~ ", 'numeric'))",
                   "(" ~ expression ~ ")::numeric", 'not a number', required) }}
{%- endmacro %}

{#
    An integer id: digits, or an integral number written with a fraction (`11.0`). With
    `shopify_gid`, also a Shopify GraphQL global id (`gid://shopify/Order/1`, what the GraphQL
    Admin API and the REST resources' `admin_graphql_api_id` carry), read as its numeric tail:
    the same record. Plain digits take the cheap path; the others a regular expression.
#}
{% macro safe_id(expression, fields=none, field=none, required=false, shopify_gid=false) -%}
    {%- set digits = "translate(" ~ expression ~ ", '0123456789', '') = '' and length(" ~ expression ~ ") between 1 and 18" -%}
    {%- set integral = "(" ~ expression ~ ") ~ '^\s*[+-]?\d{1,18}(\.0*)?\s*$'" -%}
    {%- set gid = "(" ~ expression ~ ") ~ '^gid://shopify/[A-Za-z]+/\d{1,18}$'" if shopify_gid else "false" -%}
    {%- set cast -%}
        case
            when {{ digits }} then ({{ expression }})::bigint
            when {{ integral }} then ({{ expression }})::numeric::bigint
            else substring({{ expression }} from '(\d+)$')::bigint
        end
    {%- endset -%}
    {{ typed_value(fields, field, expression, "(" ~ digits ~ " or " ~ integral ~ " or " ~ gid ~ ")", cast,
                   'not a numeric id', required) }}
{%- endmacro %}

{% macro safe_boolean(expression, fields=none, field=none) -%}
    {{ typed_value(fields, field, expression,
                   "lower(trim(" ~ expression ~ ")) in ('true', 'false')",
                   "lower(trim(" ~ expression ~ "))::boolean", 'not true or false') }}
{%- endmacro %}

{# ISO 8601 with a zone (`Z`, `-05:00`): HubSpot and Shopify datetimes. #}
{% macro safe_timestamptz(expression, fields=none, field=none, required=false) -%}
    {%- set valid -%}
        (({{ expression }} like '____-__-__T__:__%' or {{ expression }} like '____-__-__ __:__%')
         and ({{ expression }} like '%Z' or {{ expression }} like '%+__:__' or {{ expression }} like '%-__:__')
         and pg_input_is_valid({{ expression }}, 'timestamptz'))
    {%- endset -%}
    {{ typed_value(fields, field, expression, valid, "(" ~ expression ~ ")::timestamptz",
                   'not a real date and time (ISO 8601 with a zone)', required) }}
{%- endmacro %}

{% macro safe_date(expression, fields=none, field=none) -%}
    {{ typed_value(fields, field, expression,
                   "(" ~ expression ~ " like '____-__-__' and pg_input_is_valid(" ~ expression ~ ", 'date'))",
                   "(" ~ expression ~ ")::date", 'not a real date (YYYY-MM-DD)') }}
{%- endmacro %}

{# A naive datetime taken as UTC (Odoo's `2026-11-20 15:31:02`). #}
{% macro safe_utc_timestamp(expression, fields=none, field=none, required=false) -%}
    {{ typed_value(fields, field, expression,
                   "(" ~ expression ~ " like '____-__-__ __:__:__' and pg_input_is_valid(" ~ expression ~ ", 'timestamp'))",
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

{# A WordPress `*_gmt` datetime: ISO 8601 without a zone, in UTC (WooCommerce's `2026-11-20T15:31:02`). #}
{% macro safe_gmt_timestamp(expression, fields=none, field=none, required=false) -%}
    {{ typed_value(fields, field, expression,
                   "(" ~ expression ~ " like '____-__-__T__:__:__' and pg_input_is_valid(" ~ expression ~ ", 'timestamp'))",
                   "(" ~ expression ~ ")::timestamp at time zone 'utc'",
                   'not a real date and time (YYYY-MM-DDTHH:MM:SS, UTC)', required) }}
{%- endmacro %}


{#
    True when staging quarantined an item of the record whose raw id is `source_id`, in the base
    model of its items (`base_<shop>__order_lines`: an item's `source_id` is its record's): the
    record reaches the marts without that item.
#}
{% macro has_quarantined_items(items_model, source_id) -%}
    coalesce({{ source_id }} in (
        select items.source_id from {{ ref(items_model) }} as items
        where {{ is_quarantined('items.data_issues') }}
    ), false)
{%- endmacro %}
