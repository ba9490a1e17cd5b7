{{ config(
    materialized='incremental',
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    pre_hook="{{ ensure_indexes(['order_id', 'odoo_sale_order_id']) }}",
    post_hook=["{{ remove_vanished_orders() }}", "{{ ensure_indexes(['refreshed_at', 'order_id', 'odoo_sale_order_id']) }}"],
) }}

{#
    One row per real order.
      - An order of any web shop (int_web_orders_unioned: Shopify, WooCommerce, Tienda Nube) and the ERP sale
        order entered from it (`client_order_ref` = the shop order's reference: the Shopify
        order's name, `WC-<number>` for WooCommerce, compared without a leading `#`) are one
        order, channel `web`, `source_system` the shop: the shop owns it (date, amount,
        currency, status, customer); the ERP adds the sale order and its invoicing. A sale order
        carrying the reference is that order when its origin or its total says so (macro
        is_web_order_sale_order) or its partner is the web order's customer: the reference is free
        text, and another customer's purchase-order number typed there is not the web order (it
        stays an ERP order of its own, is named in `conflicting_sale_order_names`, and the web order
        is not posted beside it: act_web_orders_to_erp and order_to_cash_gaps list it).
        When several sale orders are the web order, the live, latest one is the link and the
        others stay ERP orders of their own.
      - Any other confirmed sale order (phone or counter sale) is an order, channel `erp`;
        quotations (`draft`, `sent`) are not orders yet.
    Invoicing comes from customer invoices (`out_invoice`, not cancelled) whose
    `invoice_origin` names the sale order; one invoice may name several (`S00041, S00042`).

    Incremental: a night recomputes only the orders something touched since the last run
    (`refreshed_at`, minus var `incremental_lookback_hours`): shop orders and sale orders
    landed since (each touches every order sharing its reference, now or on the previous
    night), sale orders an invoice named or stopped naming since (int_invoice_origins), and orders whose buyer
    record now belongs to another customer. The post-hook `remove_vanished_orders` deletes orders whose
    source was deleted or which a web order now carries, and records in the table's comment the start
    of the last night that removed any (or built the table whole), for the tables kept by order; an
    index on `refreshed_at` gives the models that read the orders a night refreshed those rows
    without a scan, and indexes on `order_id` and `odoo_sale_order_id` give the night the previous
    rows of the orders it touched (and dbt's delete of the rows it replaces) without one: those two
    are also pre-hooks, so that the first night after an upgrade has them before its query.
    `dbt build --full-refresh` rebuilds it all and gives the same rows.
#}

{#- a table built before a column existed is rebuilt whole once (a column added by sync_all_columns
    would be null on every row the night does not touch) -#}
{%- set scoped = is_incremental_with('refreshed_at') and is_incremental_with('cancelled_at')
    and is_incremental_with('conflicting_sale_order_names') and is_incremental_with('odoo_amount_total') %}

with

customer_records as (
    select record_key, customer_id from {{ ref('int_customers_matched') }}
),

-- the invoices naming each sale order (one row per invoice and name)
invoice_origins as (
    select sale_order_name, state, payment_state
    from {{ ref('int_invoice_origins') }}
    where names_sale_order and not is_deleted and move_type = 'out_invoice' and state <> 'cancel'
),

{% if scoped %}
since as (
    select {{ looked_back('refreshed_at') }} as loaded_after from {{ this }}
),

-- (the parts below are unions rather than `or`s: plain filters and joins, whatever the
-- night's size; the previous rows of the touched orders are looked up one order at a time, through
-- the indexes on order_id and odoo_sale_order_id (`offset 0` keeps PostgreSQL from turning the
-- lookup into a join: not knowing how few orders a night touches, it would read every row of
-- fct_orders into a hash, 1.4 s of a 3.0 s build at 100,000 customers))
-- sale orders an invoice named or stopped naming since (int_invoice_origins): an invoice
-- posted, paid, cancelled, or naming other sale orders than before
touched_sale_order_names as (
    select sale_order_name from {{ ref('int_invoice_origins') }}
    where refreshed_at > (select loaded_after from since)
),

-- orders whose buyer record belongs to another customer than the row says
remapped as (
    select previous.order_id, previous.odoo_sale_order_id
    from {{ this }} as previous
    left join customer_records
        on previous.customer_record_key = customer_records.record_key
    where previous.customer_id is distinct from customer_records.customer_id
),

touched_sale_orders as (
    select sale_order_id, client_order_ref
    from {{ ref('stg_odoo__sale_orders') }}
    where loaded_at > (select loaded_after from since)
    union
    select all_sale_orders.sale_order_id, all_sale_orders.client_order_ref
    from {{ ref('stg_odoo__sale_orders') }} as all_sale_orders
    inner join touched_sale_order_names
        on all_sale_orders.sale_order_name = touched_sale_order_names.sale_order_name
    union
    select all_sale_orders.sale_order_id, all_sale_orders.client_order_ref
    from {{ ref('stg_odoo__sale_orders') }} as all_sale_orders
    inner join remapped
        on all_sale_orders.sale_order_id = remapped.odoo_sale_order_id
),

-- the references (`#1042` without `#`, `WC-1042`) of every touched shop or sale order
touched_references as (
    select order_reference as reference
    from {{ ref('int_web_orders_unioned') }}
    where loaded_at > (select loaded_after from since)
    union
    select all_shop_orders.order_reference
    from {{ ref('int_web_orders_unioned') }} as all_shop_orders
    inner join remapped
        on all_shop_orders.order_id = remapped.order_id
    union
    select ltrim(client_order_ref, '#') from touched_sale_orders
    where client_order_ref is not null
    union
    -- the web order a touched sale order was linked to (its reference may have changed)
    select ltrim(previous.order_name, '#')
    from touched_sale_orders
    cross join lateral (
        select order_name from {{ this }} as previous
        where previous.odoo_sale_order_id = touched_sale_orders.sale_order_id and previous.channel = 'web'
        offset 0
    ) as previous
),

in_scope_sale_orders as (
    select sale_order_id from touched_sale_orders
    union
    -- the sale order a touched shop order was linked to
    select previous.odoo_sale_order_id
    from {{ ref('int_web_orders_unioned') }} as touched_shop_orders
    cross join lateral (
        select odoo_sale_order_id from {{ this }} as previous
        where previous.order_id = touched_shop_orders.order_id
        offset 0
    ) as previous
    where
        touched_shop_orders.loaded_at > (select loaded_after from since)
        and previous.odoo_sale_order_id is not null
    union
    select sale_order_id from {{ ref('stg_odoo__sale_orders') }}
    where ltrim(client_order_ref, '#') in (select reference from touched_references)
),
{% endif %}

-- the orders to compute: all of them, or on an incremental night the touched ones
shop_orders as (
    select
        *,
        sum(amount_total) over (partition by order_reference) as reference_amount
    from {{ ref('int_web_orders_unioned') }}
    where
        not is_deleted
        {% if scoped %}
        and order_reference in (select reference from touched_references)
        {% endif %}
),

sale_orders as (
    select * from {{ ref('stg_odoo__sale_orders') }}
    where
        not is_deleted
        {% if scoped %}
        and sale_order_id in (select sale_order_id from in_scope_sale_orders)
        {% endif %}
),

-- the invoicing of the sale orders computed
sale_order_invoicing as (
    select
        sale_order_name,
        case when bool_or(state = 'posted') then 'invoiced' else 'draft' end as invoice_status,
        case
            when not bool_or(state = 'posted') then null
            when bool_and(payment_state = 'paid') filter (where state = 'posted') then 'paid'
            when bool_and(payment_state in ('paid', 'in_payment')) filter (where state = 'posted') then 'in_payment'
            when bool_and(payment_state = 'reversed') filter (where state = 'posted') then 'reversed'
            when bool_or(payment_state in ('paid', 'in_payment', 'partial')) filter (where state = 'posted') then 'partial'
            else 'not_paid'
        end as payment_status
    from invoice_origins
    {% if scoped %}
    where sale_order_name in (select sale_order_name from sale_orders)
    {% endif %}
    group by sale_order_name
),

sale_orders_invoiced as (
    select
        sale_orders.*,
        coalesce(sale_order_invoicing.invoice_status, 'not_invoiced') as invoice_status,
        sale_order_invoicing.payment_status
    from sale_orders
    left join sale_order_invoicing
        on sale_orders.sale_order_name = sale_order_invoicing.sale_order_name
),

-- for each web order, the sale orders carrying its reference: the one it is (of those the order's
-- own evidence or its buyer says are it, the live, latest one), and the live ones, named (those of
-- an unlinked web order are not it)
reference_matches as (
    select
        shop_orders.order_id,
        (array_agg(
            sale_orders_invoiced.sale_order_id
            order by
                sale_orders_invoiced.is_cancelled,
                sale_orders_invoiced.updated_at desc nulls last,
                sale_orders_invoiced.sale_order_id desc
        ) filter (where
            {{ is_web_order_sale_order('sale_orders_invoiced', 'shop_orders.order_reference', 'shop_orders.reference_amount') }}
            or buyer.customer_id = partner.customer_id
        ))[1] as linked_sale_order_id,
        string_agg(sale_orders_invoiced.sale_order_name, ', ' order by sale_orders_invoiced.sale_order_name)
            filter (where not sale_orders_invoiced.is_cancelled) as live_sale_order_names
    from shop_orders
    inner join sale_orders_invoiced
        on ltrim(sale_orders_invoiced.client_order_ref, '#') = shop_orders.order_reference
    left join customer_records as buyer
        on shop_orders.customer_record_key = buyer.record_key
    left join customer_records as partner
        on {{ record_key("'odoo_partner'", 'sale_orders_invoiced.partner_id') }} = partner.record_key
    group by shop_orders.order_id
),

web_orders as (
    select
        shop_orders.order_id,
        shop_orders.customer_record_key,
        shop_orders.order_name,
        'web' as channel,
        shop_orders.shop_system as source_system,
        shop_orders.ordered_at,
        shop_orders.status,
        shop_orders.is_cancelled,
        shop_orders.cancelled_at,
        shop_orders.amount_total,
        shop_orders.currency_code,
        case when shop_orders.shop_system = 'shopify' then shop_orders.shop_order_id end as shopify_order_id,
        case when shop_orders.shop_system = 'woocommerce' then shop_orders.shop_order_id end as woocommerce_order_id,
        case when shop_orders.shop_system = 'tiendanube' then shop_orders.shop_order_id end as tiendanube_order_id,
        linked.sale_order_id as odoo_sale_order_id,
        linked.sale_order_name as odoo_sale_order_name,
        linked.amount_total as odoo_amount_total,
        linked.invoice_status,
        linked.payment_status,
        linked.warehouse_id,
        case when linked.sale_order_id is null then reference_matches.live_sale_order_names end
            as conflicting_sale_order_names
    from shop_orders
    left join reference_matches
        on shop_orders.order_id = reference_matches.order_id
    left join sale_orders_invoiced as linked
        on reference_matches.linked_sale_order_id = linked.sale_order_id
),

erp_orders as (
    select
        md5({{ record_key("'odoo_sale_order'", 'sale_orders_invoiced.sale_order_id') }}) as order_id,
        {{ record_key("'odoo_partner'", 'sale_orders_invoiced.partner_id') }} as customer_record_key,
        sale_orders_invoiced.sale_order_name as order_name,
        'erp' as channel,
        'odoo' as source_system,
        -- (staging quarantines a sale order whose create_date cannot be read)
        coalesce(sale_orders_invoiced.ordered_at, sale_orders_invoiced.created_at) as ordered_at,
        case sale_orders_invoiced.state
            when 'sale' then 'confirmed'
            when 'done' then 'done'
            when 'cancel' then 'cancelled'
        end as status,
        sale_orders_invoiced.is_cancelled,
        -- Odoo does not date a cancellation: the sale order's last change (it was cancelled then or before)
        case
            when sale_orders_invoiced.is_cancelled
                then coalesce(sale_orders_invoiced.updated_at, sale_orders_invoiced.created_at)
        end as cancelled_at,
        sale_orders_invoiced.amount_total,
        sale_orders_invoiced.currency_code,
        null::bigint as shopify_order_id,
        null::bigint as woocommerce_order_id,
        null::bigint as tiendanube_order_id,
        sale_orders_invoiced.sale_order_id as odoo_sale_order_id,
        sale_orders_invoiced.sale_order_name as odoo_sale_order_name,
        sale_orders_invoiced.amount_total as odoo_amount_total,
        sale_orders_invoiced.invoice_status,
        sale_orders_invoiced.payment_status,
        sale_orders_invoiced.warehouse_id,
        null::text as conflicting_sale_order_names
    from sale_orders_invoiced
    where
        sale_orders_invoiced.state in ('sale', 'done', 'cancel')
        and not exists (
            select 1 from web_orders
            where web_orders.odoo_sale_order_id = sale_orders_invoiced.sale_order_id
        )
),

orders as (
    select * from web_orders
    union all
    select * from erp_orders
),

final as (
    select
        orders.order_id,
        customer_records.customer_id,
        orders.customer_record_key,
        orders.order_name,
        orders.channel,
        orders.source_system,
        orders.ordered_at,
        (orders.ordered_at at time zone '{{ var("business_timezone") }}')::date as order_date,
        orders.status,
        orders.is_cancelled,
        orders.cancelled_at,
        orders.amount_total,
        orders.currency_code,
        orders.shopify_order_id,
        orders.woocommerce_order_id,
        orders.tiendanube_order_id,
        orders.odoo_sale_order_id,
        orders.odoo_sale_order_name,
        orders.odoo_amount_total,
        orders.invoice_status,
        orders.payment_status,
        orders.warehouse_id,
        orders.conflicting_sale_order_names,
        '{{ run_started_at }}'::timestamptz as refreshed_at
    from orders
    left join customer_records
        on orders.customer_record_key = customer_records.record_key
)

select * from final
