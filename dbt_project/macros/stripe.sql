{#
    Stripe's money and moments (puente/sources/stripe/settings.py cites the docs).

    Amounts are integers in the currency's minor unit. Most currencies have two decimals (COP
    too: Stripe's API counts the Colombian peso in cents, so COP 119.000 is 11900000); the
    zero-decimal ones (CLP, JPY, KRW, PYG, …) are whole units and the three-decimal ones (BHD,
    JOD, KWD, OMR, TND) thousandths. `stripe_money` gives the amount in the currency's units, with
    the currency's decimals (exact: a whole number of minor units has no more).
#}
{% macro stripe_money(amount, currency) -%}
    {%- set decimals -%}
        case
            when lower({{ currency }}) in ('bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx',
                                           'vnd', 'vuv', 'xaf', 'xof', 'xpf') then 0
            when lower({{ currency }}) in ('bhd', 'jod', 'kwd', 'omr', 'tnd') then 3
            else 2
        end
    {%- endset -%}
    round(({{ amount }}) / 10 ^ ({{ decimals }})::numeric, {{ decimals }})
{%- endmacro %}

{# An integer amount in minor units (`11900000`, `-5000`); `field` names it in data_issues. #}
{% macro safe_minor_units(expression, fields=none, field=none, required=false) -%}
    {{ typed_value(fields, field, expression,
                   "(translate(ltrim(" ~ expression ~ ", '-'), '0123456789', '') = '' and length(" ~ expression ~ ") between 1 and 18)",
                   "(" ~ expression ~ ")::numeric", 'not an integer amount', required) }}
{%- endmacro %}

{# A Unix time in seconds (Stripe's `created`, `available_on`). #}
{% macro safe_unix_time(expression, fields=none, field=none, required=false) -%}
    {{ typed_value(fields, field, expression,
                   "(translate(" ~ expression ~ ", '0123456789', '') = '' and length(" ~ expression ~ ") between 1 and 11)",
                   "to_timestamp((" ~ expression ~ ")::bigint)", 'not a Unix time in seconds', required) }}
{%- endmacro %}

{# A Stripe id (`ch_3P…`): a prefix, an underscore, letters and digits. #}
{% macro safe_stripe_id(expression, fields=none, field=none, required=false) -%}
    {{ typed_value(fields, field, expression, "(" ~ expression ~ " ~ '^[a-z]+_[A-Za-z0-9_]+$')",
                   expression, 'not a Stripe id', required) }}
{%- endmacro %}
