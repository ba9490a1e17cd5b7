{#
    The kinds of customer record the golden record merges, per system (record_type of
    int_customer_records_unioned), are the registry's: macro customer_record_types() in
    macros/generated/sources.sql (`python -m puente.sources.contracts`, from each source's
    `customer_record_kind`). dim_customers has an id array for each (`<record_type>_ids`), and the
    marts and views that read those arrays loop over them. Guest shop orders are no record kind of
    their own: they count in `source_record_count` only.
#}

{# The dim_customers id array of each system: {'odoo': 'odoo_partner_ids', …}. #}
{% macro customer_id_columns() -%}
    {%- set columns = {} -%}
    {%- for system, record_type in customer_record_types().items() -%}
        {%- do columns.update({system: record_type ~ '_ids'}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
