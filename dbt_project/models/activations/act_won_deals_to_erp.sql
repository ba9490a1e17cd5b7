{#
    Deals won in the CRM that should be ERP orders and are not (the dealer's scenario): every
    deal that reached `closedwon` in the last var `deal_posting_days` days, with its products
    (HubSpot line items, Salesforce opportunity products: int_crm_deal_lines), and no order that
    is the deal's (int_deals_orders_matched), as a confirmed Odoo sale order that reserves the
    items, once. The customer and the lines are found as for web orders (act_web_orders_to_erp);
    the order's `origin` names the deal, so it is looked up there before it is ever created again.
    A deal of an erased person (its record scrubbed by an erasure and not changed in the CRM
    since) is held on the work list: the erasure removed what matched it to their orders and tied
    them to their ERP partner.
#}

{%- set as_of = as_of_date() %}

with

deals as (
    select
        matched.deal_id, matched.customer_id, matched.closed_at, deals.deal_name, deals.amount, deals.deal_key,
        deals.erp_origin, deals.crm_system,
        {{ erasure_of('deals.crm_system', 'deals.source_object', 'deals.deal_id', 'deals.loaded_at') }} as erased_by
    from {{ ref('int_deals_orders_matched') }} as matched
    inner join {{ ref('int_crm_deals') }} as deals
        on matched.deal_id = deals.deal_id
    where
        matched.order_id is null
        and (matched.closed_at at time zone '{{ var("business_timezone") }}')::date
            >= {{ as_of }} - {{ var('deal_posting_days') }}
),

items as (
    select * from {{ ref('int_crm_deal_lines') }}
    where not is_deleted
),

products as (
    select sku, odoo_product_id from {{ ref('dim_products') }}
    where odoo_product_id is not null
),

customers as (
    select * from {{ ref('dim_customers') }}
),

lines as (
    select
        items.deal_id,
        jsonb_agg(
            jsonb_build_object(
                'product_id', products.odoo_product_id,
                'product_uom_qty', items.quantity,
                'price_unit', items.unit_price,
                'discount', coalesce(items.discount_percentage, case
                    when items.unit_price > 0 then round(100 * coalesce(items.unit_discount, 0) / items.unit_price, 4)
                    else 0
                end)
            )
            order by items.line_item_id
        ) as order_lines,
        (array_agg(
            case
                when items.sku is null
                    then 'the deal''s product "' || coalesce(items.product_name, '?') || '" has no SKU in the CRM; '
                         || 'set it on the product (HubSpot''s product library, Salesforce''s Product Code) or '
                         || 'enter the order by hand'
                when products.odoo_product_id is null
                    then 'SKU ' || items.sku || ' does not exist in the ERP; create it there (Internal Reference '
                         || items.sku || ') or fix the SKU in the CRM'
                else 'the deal''s product "' || coalesce(items.product_name, items.sku) || '" has no '
                     || case when items.quantity is null then 'quantity' else 'price' end
                     || ' in the CRM; set it on the deal''s product line or enter the order by hand'
            end
            order by items.line_item_id
        ) filter (where items.sku is null or products.odoo_product_id is null
                        or items.quantity is null or items.unit_price is null))[1] as line_problem
    from items
    left join products
        on items.sku = products.sku
    group by items.deal_id
),

orders as (
    select
        deals.deal_id,
        deals.deal_key,
        deals.erp_origin,
        deals.crm_system,
        deals.deal_name,
        deals.amount,
        deals.customer_id,
        deals.erased_by,
        customers.full_name,
        customers.tax_id,
        customers.email,
        customers.phone,
        customers.city,
        customers.country_code,
        {{ erp_partner_id('customers.odoo_partner_ids') }} as odoo_partner_id,
        lines.order_lines,
        lines.line_problem
    from deals
    left join customers
        on deals.customer_id = customers.customer_id
    left join lines
        on deals.deal_id = lines.deal_id
),

final as (
    select
        deal_key as row_key,
        null::text as target_id,
        erp_origin as external_key,
        jsonb_build_object(
            'partner', {{ erp_partner('') }},
            'origin', erp_origin,
            'order_line', coalesce(order_lines, '[]'::jsonb),
            'confirm', true,
            'invoice', false
        ) as payload,
        jsonb_build_object('deal', deal_id) as compare,
        null::timestamptz as observed_at,
        case
            when erased_by is not null
                then {{ erased_problem('erased_by', 'deal') }}
            when customer_id is null
                then 'the deal has no contact Puente knows as a customer; associate it with a contact in '
                     || case crm_system when 'salesforce' then 'Salesforce (the opportunity''s contact)' else 'HubSpot' end
            when order_lines is null
                then 'the deal has no products: add them in '
                     || case crm_system when 'salesforce' then 'Salesforce (opportunity products)' else 'HubSpot (line items)' end
                     || ' or enter the order by hand'
            when line_problem is not null
                then line_problem
            else {{ erp_partner_problem() }}
        end as invalid_reason,
        customer_id,
        jsonb_strip_nulls(jsonb_build_object('what', 'won deal ' || coalesce(deal_name, deal_id),
                                             'customer', full_name, 'amount', amount)) as context
    from orders
)

select * from final
