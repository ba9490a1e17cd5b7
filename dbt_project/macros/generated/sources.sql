{# Written by `python -m puente.sources.contracts` from the registry (puente/sources/registry.py)
   and the staging folders: do not edit, run it again. #}

{# The staging models that provide each contract (stg_<system>__<contract>), in registry order. #}
{% macro source_contract_models(contract) -%}
    {{ return({
        'customer_records': ['stg_odoo__customer_records', 'stg_shopify__customer_records', 'stg_woocommerce__customer_records', 'stg_tiendanube__customer_records', 'stg_mercadolibre__customer_records'],
        'crm_people': ['stg_hubspot__crm_people', 'stg_salesforce__crm_people'],
        'web_orders': ['stg_shopify__web_orders', 'stg_woocommerce__web_orders', 'stg_tiendanube__web_orders', 'stg_mercadolibre__web_orders'],
        'web_order_lines': ['stg_shopify__web_order_lines', 'stg_woocommerce__web_order_lines', 'stg_tiendanube__web_order_lines', 'stg_mercadolibre__web_order_lines'],
        'service_tickets': ['stg_hubspot__service_tickets', 'stg_salesforce__service_tickets'],
        'crm_deals': ['stg_hubspot__crm_deals', 'stg_salesforce__crm_deals'],
        'crm_deal_lines': ['stg_hubspot__crm_deal_lines', 'stg_salesforce__crm_deal_lines'],
        'provider_payments': ['stg_mercadopago__provider_payments', 'stg_mercadolibre__provider_payments', 'stg_stripe__provider_payments']
    }[contract]) }}
{%- endmacro %}

{# The systems that provide each contract: what its source_system holds. #}
{% macro source_contract_systems(contract) -%}
    {{ return({
        'customer_records': ['odoo', 'shopify', 'woocommerce', 'tiendanube', 'mercadolibre'],
        'crm_people': ['hubspot', 'salesforce'],
        'web_orders': ['shopify', 'woocommerce', 'tiendanube', 'mercadolibre'],
        'web_order_lines': ['shopify', 'woocommerce', 'tiendanube', 'mercadolibre'],
        'service_tickets': ['hubspot', 'salesforce'],
        'crm_deals': ['hubspot', 'salesforce'],
        'crm_deal_lines': ['hubspot', 'salesforce'],
        'provider_payments': ['mercadopago', 'mercadolibre', 'stripe']
    }[contract]) }}
{%- endmacro %}

{# The registry's systems of each kind (erp, crm, shop, marketplace, payments). #}
{% macro source_systems_of_kind(kind) -%}
    {{ return({
        'erp': ['odoo'],
        'crm': ['hubspot', 'salesforce'],
        'shop': ['shopify', 'woocommerce', 'tiendanube'],
        'marketplace': ['mercadolibre'],
        'payments': ['mercadopago', 'stripe']
    }[kind]) }}
{%- endmacro %}

{# Each system's kind of customer record (record_type of int_customer_records_unioned): dim_customers keeps an id array of each. #}
{% macro customer_record_types() -%}
    {{ return({'odoo': 'odoo_partner', 'hubspot': 'hubspot_contact', 'salesforce': 'salesforce_contact', 'shopify': 'shopify_customer', 'woocommerce': 'woocommerce_customer', 'tiendanube': 'tiendanube_customer', 'mercadolibre': 'mercadolibre_buyer'}) }}
{%- endmacro %}

{# Every record_type of int_customer_records_unioned (the systems' kinds, and the guest orders keyed by the order). #}
{% macro customer_record_kinds() -%}
    {{ return(['odoo_partner', 'hubspot_contact', 'salesforce_contact', 'shopify_customer', 'shopify_guest_order', 'woocommerce_customer', 'woocommerce_guest_order', 'tiendanube_customer', 'mercadolibre_buyer']) }}
{%- endmacro %}

{# Each system's objects that hold a customer record's tax id and the field a person finds it in (PersonalData.tax_id in puente/sources/<system>/settings.py): what data_issues names for a doubtful tax id. #}
{% macro customer_tax_id_fields() -%}
    {{ return({
        'odoo': {'res.partner': 'vat'},
        'hubspot': {'contacts': 'properties.tax_id'},
        'salesforce': {'contacts': 'Tax_Id__c', 'leads': 'Tax_Id__c'},
        'shopify': {'customers': 'note'},
        'tiendanube': {'customers': 'identification', 'orders': 'contact_identification'},
        'mercadolibre': {'orders': 'billing_info.doc_number'}
    }) }}
{%- endmacro %}

{# (model, system, raw object, id column, item position column) of each staging model that reports data issues (meta.data_issues in its _<system>__models.yml). #}
{% macro data_issue_models() -%}
    {{ return([
        ['base_odoo__partners', 'odoo', 'res.partner', 'source_id', none],
        ['base_odoo__products', 'odoo', 'product.product', 'source_id', none],
        ['base_odoo__sale_orders', 'odoo', 'sale.order', 'source_id', none],
        ['base_odoo__sale_order_lines', 'odoo', 'sale.order.line', 'source_id', none],
        ['base_odoo__invoices', 'odoo', 'account.move', 'source_id', none],
        ['base_odoo__stock_quants', 'odoo', 'stock.quant', 'source_id', none],
        ['stg_hubspot__contacts', 'hubspot', 'contacts', 'contact_id', none],
        ['stg_hubspot__companies', 'hubspot', 'companies', 'company_id', none],
        ['stg_hubspot__deals', 'hubspot', 'deals', 'deal_id', none],
        ['stg_hubspot__tickets', 'hubspot', 'tickets', 'ticket_id', none],
        ['stg_salesforce__accounts', 'salesforce', 'accounts', 'account_id', none],
        ['stg_salesforce__contacts', 'salesforce', 'contacts', 'contact_id', none],
        ['stg_salesforce__leads', 'salesforce', 'leads', 'lead_id', none],
        ['stg_salesforce__opportunities', 'salesforce', 'opportunities', 'opportunity_id', none],
        ['stg_salesforce__opportunity_line_items', 'salesforce', 'opportunity_line_items', 'line_item_id', none],
        ['base_shopify__customers', 'shopify', 'customers', 'source_id', none],
        ['base_shopify__orders', 'shopify', 'orders', 'source_id', none],
        ['base_shopify__order_lines', 'shopify', 'orders', 'source_id', 'line_number'],
        ['base_shopify__products', 'shopify', 'products', 'source_id', none],
        ['base_shopify__product_variants', 'shopify', 'products', 'source_id', 'variant_number'],
        ['base_woocommerce__customers', 'woocommerce', 'customers', 'source_id', none],
        ['base_woocommerce__orders', 'woocommerce', 'orders', 'source_id', none],
        ['base_woocommerce__order_lines', 'woocommerce', 'orders', 'source_id', 'line_number'],
        ['base_woocommerce__products', 'woocommerce', 'products', 'source_id', none],
        ['base_tiendanube__customers', 'tiendanube', 'customers', 'source_id', none],
        ['base_tiendanube__orders', 'tiendanube', 'orders', 'source_id', none],
        ['base_tiendanube__order_lines', 'tiendanube', 'orders', 'source_id', 'line_number'],
        ['base_tiendanube__products', 'tiendanube', 'products', 'source_id', 'variant_number'],
        ['base_mercadopago__payments', 'mercadopago', 'payments', 'source_id', none],
        ['base_mercadolibre__payments', 'mercadolibre', 'orders', 'source_id', 'payment_number'],
        ['base_mercadolibre__orders', 'mercadolibre', 'orders', 'source_id', none],
        ['base_mercadolibre__order_lines', 'mercadolibre', 'orders', 'source_id', 'line_number'],
        ['base_stripe__charges', 'stripe', 'charges', 'source_id', none],
        ['base_stripe__payment_intents', 'stripe', 'payment_intents', 'source_id', none],
        ['base_stripe__refunds', 'stripe', 'refunds', 'source_id', none],
        ['base_stripe__balance_transactions', 'stripe', 'balance_transactions', 'source_id', none],
        ['base_stripe__disputes', 'stripe', 'disputes', 'source_id', none]
    ]) }}
{%- endmacro %}
