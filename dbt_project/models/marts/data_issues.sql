{#
    Every value staging could not type, one row per record and field, for the operator: the
    value became null, or, when it was one every later model needs (the record's key or
    amount, ...: `required` in the staging models), the whole record was quarantined (kept out
    of every later model). Built from the `data_issues` column of the
    staging models (macros/casting.sql), so it always describes the records as they are now:
    a record fixed at the source and landed again leaves this table on the next night.
    Deleted records are left out.

    Also every doubtful tax id of a customer record (int_customer_records_unioned: its check
    digit fails), with the value its body calls for: the record keeps it, but identity
    resolution uses it as weaker evidence only, never as a key.
#}

{#- (model, source system, source object as landed in raw, id column, position of the item in its array) -#}
{%- set staged = [
    ('base_odoo__partners', 'odoo', 'res.partner', 'source_id', none),
    ('base_odoo__products', 'odoo', 'product.product', 'source_id', none),
    ('base_odoo__sale_orders', 'odoo', 'sale.order', 'source_id', none),
    ('base_odoo__sale_order_lines', 'odoo', 'sale.order.line', 'source_id', none),
    ('base_odoo__invoices', 'odoo', 'account.move', 'source_id', none),
    ('base_odoo__stock_quants', 'odoo', 'stock.quant', 'source_id', none),
    ('stg_hubspot__contacts', 'hubspot', 'contacts', 'contact_id', none),
    ('stg_hubspot__companies', 'hubspot', 'companies', 'company_id', none),
    ('stg_hubspot__deals', 'hubspot', 'deals', 'deal_id', none),
    ('stg_hubspot__tickets', 'hubspot', 'tickets', 'ticket_id', none),
    ('base_shopify__customers', 'shopify', 'customers', 'source_id', none),
    ('base_shopify__orders', 'shopify', 'orders', 'source_id', none),
    ('base_shopify__order_lines', 'shopify', 'orders', 'source_id', 'line_number'),
    ('base_shopify__products', 'shopify', 'products', 'source_id', none),
    ('base_shopify__product_variants', 'shopify', 'products', 'source_id', 'variant_number'),
    ('base_woocommerce__customers', 'woocommerce', 'customers', 'source_id', none),
    ('base_woocommerce__orders', 'woocommerce', 'orders', 'source_id', none),
    ('base_woocommerce__order_lines', 'woocommerce', 'orders', 'source_id', 'line_number'),
    ('base_woocommerce__products', 'woocommerce', 'products', 'source_id', none),
    ('base_tiendanube__customers', 'tiendanube', 'customers', 'source_id', none),
    ('base_tiendanube__orders', 'tiendanube', 'orders', 'source_id', none),
    ('base_tiendanube__order_lines', 'tiendanube', 'orders', 'source_id', 'line_number'),
    ('base_tiendanube__products', 'tiendanube', 'products', 'source_id', 'variant_number'),
    ('base_mercadopago__payments', 'mercadopago', 'payments', 'source_id', none),
    ('base_mercadolibre__orders', 'mercadolibre', 'orders', 'source_id', none),
    ('base_mercadolibre__order_lines', 'mercadolibre', 'orders', 'source_id', 'line_number'),
    ('base_stripe__charges', 'stripe', 'charges', 'source_id', none),
    ('base_stripe__payment_intents', 'stripe', 'payment_intents', 'source_id', none),
    ('base_stripe__refunds', 'stripe', 'refunds', 'source_id', none),
    ('base_stripe__balance_transactions', 'stripe', 'balance_transactions', 'source_id', none),
    ('base_stripe__disputes', 'stripe', 'disputes', 'source_id', none),
    ('stg_salesforce__accounts', 'salesforce', 'accounts', 'account_id', none),
    ('stg_salesforce__contacts', 'salesforce', 'contacts', 'contact_id', none),
    ('stg_salesforce__leads', 'salesforce', 'leads', 'lead_id', none),
    ('stg_salesforce__opportunities', 'salesforce', 'opportunities', 'opportunity_id', none),
    ('stg_salesforce__opportunity_line_items', 'salesforce', 'opportunity_line_items', 'line_item_id', none),
] -%}

with

issues as (
    {%- for model, source_system, source_object, id_column, position in staged %}
    select
        '{{ source_system }}' as source_system,
        '{{ source_object }}' as source_object,
        {{ id_column }} as record_id,
        {%- if position %}
        replace(issue ->> 'field', '[]', '[' || {{ position }} || ']') as field,
        {%- else %}
        issue ->> 'field' as field,
        {%- endif %}
        issue ->> 'value' as raw_value,
        issue ->> 'reason' as reason,
        (issue ->> 'quarantines')::boolean as quarantines_record,
        {{ is_quarantined('data_issues') }} as is_record_quarantined,
        '{{ model }}' as staging_model,
        loaded_at
    from {{ ref(model) }}
    cross join lateral unnest(data_issues) as issues (issue)
    where
        data_issues is not null and not is_deleted
        {%- if position %}
        -- (the record's own fields are reported by the record's model)
        and issue ->> 'field' like '%[]%'
        {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

doubtful_tax_ids as (
    select
        source_system,
        case record_type when 'odoo_partner' then 'res.partner' when 'hubspot_contact' then 'contacts' else 'customers' end as source_object,
        source_record_id as record_id,
        case source_system when 'odoo' then 'vat' when 'hubspot' then 'properties.tax_id' else 'note' end as field,
        tax_id as raw_value,
        'tax id check digit fails' || coalesce(' (' || tax_id_corrected || ' would be valid)', '') as reason,
        'not used as a key to match customers (weaker evidence only)' as consequence,
        false as is_record_quarantined,
        'int_customer_records_unioned' as staging_model,
        null::timestamptz as loaded_at
    from {{ ref('int_customer_records_unioned') }}
    where tax_id_is_valid = false and record_type <> 'shopify_guest_order'
),

final as (
    select
        md5(concat_ws('|', source_system, source_object, record_id, field)) as data_issue_id,
        source_system,
        source_object,
        record_id,
        field,
        raw_value,
        reason,
        case
            when quarantines_record then 'record quarantined: kept out of the marts'
            else 'value set to null'
        end as consequence,
        is_record_quarantined,
        staging_model,
        loaded_at
    from issues
    union all
    select
        md5(concat_ws('|', source_system, source_object, record_id, field)) as data_issue_id,
        *
    from doubtful_tax_ids
)

select * from final
