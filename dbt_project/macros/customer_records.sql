{#
    The kinds of customer record the golden record merges, per system (record_type of
    int_customer_records_unioned), in one place: dim_customers has an id array for each
    (`<record_type>_ids`), and the marts and views that read those arrays loop over this.
    Guest shop orders are no record kind of their own: they count in `source_record_count` only.
#}
{% macro customer_record_types() -%}
    {{ return({'odoo': 'odoo_partner', 'hubspot': 'hubspot_contact', 'shopify': 'shopify_customer',
               'woocommerce': 'woocommerce_customer', 'tiendanube': 'tiendanube_customer',
               'mercadolibre': 'mercadolibre_buyer', 'salesforce': 'salesforce_contact'}) }}
{%- endmacro %}

{# The dim_customers id array of each system: {'odoo': 'odoo_partner_ids', …}. #}
{% macro customer_id_columns() -%}
    {%- set columns = {} -%}
    {%- for system, record_type in customer_record_types().items() -%}
        {%- do columns.update({system: record_type ~ '_ids'}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
