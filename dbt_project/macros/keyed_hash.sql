{#
    HMAC-SHA256 of the text `value` under a key of this warehouse, as bytea: `key` is the alias of a
    joined row of ops.bi_pseudonym_key or ops.erasure_key, each holding its key's padded halves
    (puente.warehouse.ensure_schema). The BI views' pseudonyms (bi_pseudonym) and the erased records'
    hashes (erasure_of) use it; puente/erasure.py's keyed_hash_sql writes the same for the erasure.
#}
{% macro keyed_hash(key, value) -%}
sha256({{ key }}.outer_pad || sha256({{ key }}.inner_pad || convert_to({{ value }}, 'UTF8')))
{%- endmacro %}
