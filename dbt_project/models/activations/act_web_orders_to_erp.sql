{#
    Web orders that should be in the ERP and are not: every live order of any web shop
    (int_web_orders_unioned: Shopify, WooCommerce) placed in the last var
    `web_order_posting_days` days that no ERP sale order carries yet (fct_orders links a sale
    order to a shop order by `client_order_ref` when its customer or total agrees), as the Odoo
    sale order the business would have typed in, its `client_order_ref` the shop order's
    reference (the Shopify order's name, `#1042`; `WC-<number>` for a WooCommerce order, whose
    numbers would collide with the other shop's) and its origin the shop and that reference:
      - the customer: the ERP partner Puente's identity resolution found for the buyer, or a new
        partner made from the golden record (name and tax id from their owners, contact details
        from the CRM or the shop), with Puente's reference `puente:<customer_id>` so that it is
        never created twice;
      - one line per shop line, the product found by SKU, at the price and discount the shop
        charged; the ERP applies each product's own taxes (the shop's prices are before tax),
        and shipping is a line of the product var `shipping_product_sku` at the shop's price;
      - confirmed, so the ERP reserves the stock; paid orders (Shopify `financial_status` paid,
        WooCommerce `processing` or `completed` with a payment date; a bank transfer `on-hold` is
        not paid yet) are invoiced at once with the ERP's own invoicing wizard when var
        `invoice_paid_web_orders` is on.
    A cart of several shop orders (a Mercado Libre pack: one order per listing, all carrying the
    reference `ML-PACK-<pack id>`) is one sale order: its `client_order_ref` that reference, the
    lines of every order of the cart, the shipping once (staging counts it on the cart's first
    order), row key `<shop>_cart:<reference>`. It is posted once every order of the cart has landed
    (`is_cart_incomplete` false): posting part of a cart would leave the rest to a second sale
    order under the same reference. A cart still incomplete `web_order_cart_wait_days` (1) after
    its orders were placed (its pack lists an order Puente never receives, another seller's maybe)
    goes to the work list.
    Once posted, every order of the cart links to the sale order by the reference (fct_orders),
    so none is posted again, whichever night its orders landed. A lone order keeps its own name.
    Older orders are left to a person (order_to_cash_gaps lists them): posting a sale of last
    year into this month's books is an accountant's decision. An order that cannot be posted
    says why in `invalid_reason` (the work list); so does an order whose reference live sale orders
    that are not it already carry (fct_orders' `conflicting_sale_order_names`: another customer's
    purchase-order number, or the order retyped with a wrong customer and total; a person tells
    which); so does an order of an erased person (its record scrubbed by an erasure and not
    changed in the shop since), held: its customer is the person's
    anonymous remainder, no longer tied to their ERP partner (macro erased_problem). Cancelled
    shop orders are never posted; those cancelled after posting are act_web_order_cancellations'
    business.
#}

{%- set as_of = as_of_date() %}

with

web_orders as (
    select * from {{ ref('fct_orders') }}
    where
        channel = 'web'
        and odoo_sale_order_id is null
        and not is_cancelled
        and order_date >= {{ as_of }} - {{ var('web_order_posting_days') }}
),

shop_orders as (
    select * from {{ ref('int_web_orders_unioned') }}
),

-- what is posted: a shop order, or the live orders of a cart (those sharing a reference) together
postings as (
    select
        grouped.*,
        case when is_lone_order then lone_row_key else shop_system || '_cart:' || order_reference end as row_key,
        case when is_lone_order then lone_order_name else order_reference end as order_name
    from (
        select
            shop_orders.shop_system,
            shop_orders.order_reference,
            count(*) as order_count,
            (array_agg(web_orders.order_id order by shop_orders.shop_order_id))[1] as order_id,
            array_agg(web_orders.order_id) as order_ids,
            -- a cart: orders whose reference is not their own name (`ML-PACK-<pack id>`), even when a
            -- single one of them is left to post (the others cancelled)
            count(*) = 1 and ltrim(min(web_orders.order_name), '#') = shop_orders.order_reference as is_lone_order,
            min(shop_orders.shop_system || '_order:' || shop_orders.shop_order_id) as lone_row_key,
            min(web_orders.order_name) as lone_order_name,
            bool_or(shop_orders.is_cart_incomplete) as is_cart_incomplete,
            bool_or(shop_orders.has_unread_lines) as has_unread_lines,
            min(web_orders.conflicting_sale_order_names) as conflicting_sale_order_names,
            -- every shop lands its orders as its raw object `orders` (puente/sources/<shop>/settings.py)
            min({{ erasure_of('shop_orders.shop_system', "'orders'", 'shop_orders.shop_order_id::text',
                              'shop_orders.loaded_at') }}) as erased_by,
            min(web_orders.order_date) as order_date
        from web_orders
        inner join shop_orders
            on web_orders.order_id = shop_orders.order_id
        group by shop_orders.shop_system, shop_orders.order_reference
    ) as grouped
),

shop_lines as (
    select * from {{ ref('int_web_order_lines_unioned') }}
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
        postings.row_key,
        jsonb_agg(
            jsonb_build_object(
                'product_id', products.odoo_product_id,
                'product_uom_qty', shop_lines.quantity,
                'price_unit', shop_lines.unit_price,
                'discount', case
                    when shop_lines.unit_price * shop_lines.quantity > 0
                        then round(100 * coalesce(shop_lines.discount_amount, 0)
                                   / (shop_lines.unit_price * shop_lines.quantity), 4)
                    else 0
                end
            )
            order by shop_orders.shop_order_id, shop_lines.shop_order_line_id
        ) as order_lines,
        -- the first line the ERP cannot take, in words
        (array_agg(
            case
                when shop_lines.sku is null
                    then 'the shop line "' || coalesce(shop_lines.product_name, '?') || '" has no SKU; '
                         || 'give the product a SKU in ' || shop_orders.shop_title || ' or enter the order by hand'
                when products.odoo_product_id is null
                    then 'SKU ' || shop_lines.sku || ' does not exist in the ERP; create it there (Internal '
                         || 'Reference ' || shop_lines.sku || ') or fix the SKU in ' || shop_orders.shop_title
            end
            order by shop_orders.shop_order_id, shop_lines.shop_order_line_id
        ) filter (where shop_lines.sku is null or products.odoo_product_id is null))[1] as line_problem
    from postings
    cross join unnest(postings.order_ids) as posted (order_id)
    inner join shop_lines
        on posted.order_id = shop_lines.order_id
    inner join shop_orders
        on shop_lines.order_id = shop_orders.order_id
    left join products
        on shop_lines.sku = products.sku
    group by postings.row_key
),

-- the cart's amounts, its shipping counted once (on the cart's first order)
amounts as (
    select
        postings.row_key,
        sum(web_orders.amount_total) as amount_total,
        sum(shop_orders.shipping_amount) as shipping_amount,
        bool_and(shop_orders.is_paid) as is_paid
    from postings
    cross join unnest(postings.order_ids) as posted (order_id)
    inner join web_orders
        on posted.order_id = web_orders.order_id
    inner join shop_orders
        on posted.order_id = shop_orders.order_id
    group by postings.row_key
),

shipping as (
    select odoo_product_id from products where sku = '{{ var("shipping_product_sku") }}'
),

orders as (
    select
        postings.row_key,
        postings.order_name,
        postings.order_count,
        postings.is_cart_incomplete,
        postings.conflicting_sale_order_names,
        postings.has_unread_lines,
        postings.erased_by,
        postings.order_date,
        web_orders.customer_id,
        amounts.amount_total,
        shop_orders.shop_system,
        shop_orders.shop_title,
        shop_orders.shop_order_id,
        amounts.is_paid,
        amounts.shipping_amount,
        customers.full_name,
        customers.tax_id,
        customers.email,
        customers.phone,
        customers.city,
        customers.country_code,
        {{ erp_partner_id('customers.odoo_partner_ids') }} as odoo_partner_id,
        lines.order_lines,
        lines.line_problem
    from postings
    inner join web_orders
        on postings.order_id = web_orders.order_id
    inner join shop_orders
        on postings.order_id = shop_orders.order_id
    inner join amounts
        on postings.row_key = amounts.row_key
    left join customers
        on web_orders.customer_id = customers.customer_id
    left join lines
        on postings.row_key = lines.row_key
    -- a cart whose other orders are still on their way waits for them (var web_order_cart_wait_days)
    where not (postings.is_cart_incomplete and postings.order_date >= {{ as_of }} - {{ var('web_order_cart_wait_days') }})
),

final as (
    select
        orders.row_key,
        null::text as target_id,
        orders.order_name as external_key,
        jsonb_build_object(
            'partner', {{ erp_partner('orders') }},
            'client_order_ref', orders.order_name,
            'origin', orders.shop_title || ' ' || orders.order_name,
            'order_line', coalesce(orders.order_lines, '[]'::jsonb) || case
                when coalesce(orders.shipping_amount, 0) > 0 and (select odoo_product_id from shipping) is not null
                    then jsonb_build_array(jsonb_build_object(
                        'product_id', (select odoo_product_id from shipping),
                        'product_uom_qty', 1,
                        'price_unit', orders.shipping_amount,
                        'name', 'Shipping of ' || orders.order_name))
                else '[]'::jsonb
            end,
            'confirm', true,
            'invoice', {{ 'true' if var('invoice_paid_web_orders') else 'false' }} and orders.is_paid
        ) as payload,
        -- created once, never rewritten: the ERP's order is the staff's from then on
        jsonb_build_object('order', orders.order_name) as compare,
        null::timestamptz as observed_at,
        case
            when orders.erased_by is not null
                then {{ erased_problem('orders.erased_by', 'order') }}
            when orders.conflicting_sale_order_names is not null
                then 'ERP order ' || orders.conflicting_sale_order_names || ' already carries the reference ' || orders.order_name
                     || ', but neither its customer nor its total is this order''s; Puente does not post a second '
                     || 'order under it. If it is this order, retyped with a mistake, correct its customer or total '
                     || 'in the ERP; if it is another customer''s (a purchase-order number typed as Customer '
                     || 'Reference), enter this order by hand'
            when orders.is_cart_incomplete
                then 'the cart ' || orders.order_name || ' lists orders that never reached Puente (another '
                     || 'seller''s, or not yet served by ' || orders.shop_title || '); enter it by hand'
            when orders.customer_id is null
                then 'the order has no customer Puente could identify; enter it by hand'
            when orders.has_unread_lines
                then 'a line of the order could not be read from ' || orders.shop_title || ' (marts.data_issues says '
                     || 'which value); Puente does not post the order without it: correct it there or enter the '
                     || 'order by hand'
            when orders.order_lines is null
                then 'the order has no lines in the shop'
            when orders.line_problem is not null
                then orders.line_problem
            when coalesce(orders.shipping_amount, 0) > 0 and (select odoo_product_id from shipping) is null
                then 'the shipping product {{ var("shipping_product_sku") }} does not exist in the ERP; create '
                     || 'it there or set var shipping_product_sku to the ERP''s shipping product'
            else {{ erp_partner_problem('orders') }}
        end as invalid_reason,
        orders.customer_id,
        jsonb_strip_nulls(jsonb_build_object(
            'what', case
                when orders.order_count > 1
                    then 'cart ' || orders.order_name || ' (' || orders.order_count || ' ' || orders.shop_title || ' orders)'
                else 'web order ' || orders.order_name
            end,
            'customer', orders.full_name,
            'amount_total', orders.amount_total
        )) as context
    from orders
)

select * from final
