{#
    The ERP company's country and the rules that follow from it. Its one owner is var
    `default_country_code` (dbt_project.yml): the country of the company Puente serves.
#}

{% macro company_country_code() -%}
    {{ return(var('default_country_code') | upper) }}
{%- endmacro %}

{#
    Colombia: an invoice is issued only once the DIAN accepted its electronic invoice (Odoo's
    l10n_co_dian: `l10n_co_dian_state = 'invoice_accepted'`, staged as `dian_state`), where the
    ERP sends it to the DIAN itself (`is_dian_tracked`; an ERP whose invoices go through another
    provider shows no DIAN answer, and its posted invoices count as today). SQL true for a
    posted invoice (a row of stg_odoo__invoices) that counts as issued, and for the DIAN's list
    (`einvoice_is_pending()`) its opposite; elsewhere every posted invoice is issued.
#}
{% macro invoice_is_issued() -%}
    {%- if company_country_code() == 'CO' -%}
        (not coalesce(is_dian_tracked, false) or coalesce(dian_state, '') = 'invoice_accepted')
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro einvoice_is_pending() -%}
    not {{ invoice_is_issued() }}
{%- endmacro %}

{#
    The systems of record of one column of a model, as its YAML declares them
    (`meta.system_of_record: hubspot > shopify > odoo`), owner first; [] while dbt parses.
#}
{% macro systems_of_record(model_name, column) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                   | selectattr('name', 'equalto', model_name) | first -%}
    {%- set chain = node.columns[column].meta.get('system_of_record', '') if column in node.columns else '' -%}
    {%- if not chain -%}
        {{ exceptions.raise_compiler_error(model_name ~ "." ~ column ~ " declares no meta.system_of_record") }}
    {%- endif -%}
    {{ return(chain.split('>') | map('trim') | list) }}
{%- endmacro %}
