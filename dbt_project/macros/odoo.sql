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

{#
    What the DIAN said about an invoice (Colombia, l10n_co_dian): the `message_json` of its latest
    DIAN document (`l10n_co_dian_document_ids`, embedded by the connector; newest by `datetime`,
    then id, Odoo's order), as one line: the answer's status, then each error ("Regla: FAK24,
    Rechazo: …") after a colon, separated by "; ". Null when the record has no readable document.
#}
{% macro odoo_dian_message() -%}
    (
        select nullif(concat_ws(': ',
                   case when jsonb_typeof(doc -> 'message_json' -> 'status') = 'string'
                        then nullif(trim(doc -> 'message_json' ->> 'status'), '') end,
                   (select nullif(string_agg(trim(error ->> 0), '; ' order by position), '')
                    from jsonb_array_elements(
                        case when jsonb_typeof(doc -> 'message_json' -> 'errors') = 'array'
                             then doc -> 'message_json' -> 'errors' else '[]'::jsonb end
                    ) with ordinality as errors (error, position)
                    where jsonb_typeof(error) = 'string' and trim(error ->> 0) <> '')), '')
        from jsonb_array_elements(
            case when jsonb_typeof(record -> 'l10n_co_dian_document_ids') = 'array'
                 then record -> 'l10n_co_dian_document_ids' else '[]'::jsonb end
        ) as documents (doc)
        where jsonb_typeof(doc) = 'object'
        order by case when jsonb_typeof(doc -> 'datetime') = 'string' then doc ->> 'datetime' end desc nulls last,
                 case when jsonb_typeof(doc -> 'id') = 'number' then (doc ->> 'id')::numeric end desc nulls last
        limit 1
    )
{%- endmacro %}


{#
    Whether a sale order carrying a web order's reference in `client_order_ref` is that order by
    the order's own evidence: its origin names the reference (Puente writes `<shop> <reference>`),
    or its total is the shop's (all the shop orders sharing the reference: a cart's together) to
    within half a percent. The Customer Reference is free text: staff type a B2B customer's
    purchase-order number there, and `1042` for another customer's quotation is not Shopify
    order `#1042`. A person retyping an order mistypes a quantity now and then, so fct_orders also
    takes a sale order whose partner is the web order's customer; identity cannot (that is what it
    decides), so a retyped order that agrees in neither is not its evidence.
#}
{% macro is_web_order_sale_order(sale_order, reference, shop_amount) -%}
    (
        ltrim(substring({{ sale_order }}.origin from '[^ ]+$'), '#') = {{ reference }}
        or {{ totals_agree(sale_order ~ '.amount_total', shop_amount) }}
    )
{%- endmacro %}


{#
    Whether an ERP sale order's total agrees with its shop's: to within half a percent (and a cent),
    as the ERP's own tax rounding per line leaves them; a web order Puente posted agrees exactly.
#}
{% macro totals_agree(erp_amount, shop_amount) -%}
    (abs({{ erp_amount }} - {{ shop_amount }}) <= 0.005 * abs({{ shop_amount }}) + 0.01)
{%- endmacro %}
