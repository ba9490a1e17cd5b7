{{ config(materialized='view', pre_hook=[], post_hook=[]) }}

{#
    Every order of every web shop the business runs, one row per shop order, in one shape: what
    the order-to-cash marts (fct_orders), identity resolution (the ERP order entered from a shop
    order proves whose it is) and the web-order activations read instead of each shop's staging.
    A view: the incremental facts filter it on `loaded_at` as they would the staging tables.
      - `order_id` is the order's key in the marts, md5 of `<shop>_order:<id>`;
      - `order_reference` is what the ERP sale order entered from it carries in `client_order_ref`
        (compared without a leading `#`): the Shopify order's name without `#` (`1042`), for
        WooCommerce `WC-<number>` and for Tienda Nube `TN-<number>` (their numbers would collide
        with the other shops');
      - `status`: `done` once fulfilled (Shopify `fulfillment_status` fulfilled, WooCommerce
        `completed`, Tienda Nube `shipping_status` shipped), `cancelled` (Shopify `cancelled_at`;
        WooCommerce `cancelled`, `refunded`, `failed`; Tienda Nube `cancelled`), else `confirmed`
        (WooCommerce `processing` and `on-hold`, Tienda Nube `open`: the stock is taken, the
        money may still be on its way);
      - WooCommerce's `pending` (and the block checkout's `checkout-draft`) is a checkout awaiting
        payment, not an order yet, as a quotation is not in the ERP: left out, and WooCommerce
        cancels it itself when the payment never comes. A trashed order lands `is_deleted`.
        Tienda Nube's abandoned checkouts (`payment_status` abandoned) are left out alike.
      - Tienda Nube's amounts include taxes; `shipping_amount` is before them, as the other
        shops' are (var `tiendanube_price_tax_rate`).
      - Mercado Libre (a marketplace): `ML-<order id>` (a sale has no number of its own), the buyer
        `mercadolibre_buyer:<buyer id>`; `done` once Mercado Envíos shipped or delivered it;
        `amount_total` its items and the shipping the buyer paid, taxes included (var
        `mercadolibre_price_tax_rate` takes them off the shipping).
#}

with

shopify_orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

woocommerce_orders as (
    select * from {{ ref('stg_woocommerce__orders') }}
    where order_status is null or order_status not in ('pending', 'checkout-draft')
),

tiendanube_orders as (
    select * from {{ ref('stg_tiendanube__orders') }}
    where payment_status is null or payment_status <> 'abandoned'
),

mercadolibre_orders as (
    select * from {{ ref('stg_mercadolibre__orders') }}
),

unioned as (
    select
        md5({{ record_key("'shopify_order'", 'order_id') }}) as order_id,
        'shopify' as shop_system,
        'Shopify' as shop_title,
        order_id as shop_order_id,
        order_name,
        ltrim(order_name, '#') as order_reference,
        coalesce(
            {{ record_key("'shopify_customer'", 'customer_id') }},
            {{ record_key("'shopify_guest_order'", 'order_id') }}
        ) as customer_record_key,
        coalesce(processed_at, created_at) as ordered_at,
        case
            when is_cancelled then 'cancelled'
            when fulfillment_status = 'fulfilled' then 'done'
            else 'confirmed'
        end as status,
        is_cancelled,
        coalesce(financial_status = 'paid', false) as is_paid,
        case when financial_status in ('refunded', 'partially_refunded') then financial_status end as refund_status,
        amount_total,
        currency_code,
        shipping_amount,
        loaded_at,
        is_deleted
    from shopify_orders

    union all

    select
        md5({{ record_key("'woocommerce_order'", 'order_id') }}) as order_id,
        'woocommerce' as shop_system,
        'WooCommerce' as shop_title,
        order_id as shop_order_id,
        'WC-' || coalesce(order_number, order_id::text) as order_name,
        'WC-' || coalesce(order_number, order_id::text) as order_reference,
        coalesce(
            {{ record_key("'woocommerce_customer'", 'customer_id') }},
            {{ record_key("'woocommerce_guest_order'", 'order_id') }}
        ) as customer_record_key,
        created_at as ordered_at,
        case
            when is_cancelled then 'cancelled'
            when order_status = 'completed' then 'done'
            else 'confirmed'
        end as status,
        coalesce(is_cancelled, false) as is_cancelled,
        paid_at is not null and coalesce(order_status in ('processing', 'completed'), false) as is_paid,
        case when order_status = 'refunded' then 'refunded' end as refund_status,
        amount_total,
        currency_code,
        shipping_amount,
        loaded_at,
        is_deleted
    from woocommerce_orders

    union all

    select
        md5({{ record_key("'tiendanube_order'", 'order_id') }}) as order_id,
        'tiendanube' as shop_system,
        'Tienda Nube' as shop_title,
        order_id as shop_order_id,
        'TN-' || coalesce(order_number, order_id::text) as order_name,
        'TN-' || coalesce(order_number, order_id::text) as order_reference,
        {{ record_key("'tiendanube_customer'", 'customer_id') }} as customer_record_key,
        created_at as ordered_at,
        case
            when is_cancelled then 'cancelled'
            when shipping_status = 'shipped' then 'done'
            else 'confirmed'
        end as status,
        coalesce(is_cancelled, false) as is_cancelled,
        coalesce(payment_status = 'paid', false) as is_paid,
        case when payment_status = 'refunded' then 'refunded' end as refund_status,
        amount_total,
        currency_code,
        round(shipping_amount / (1 + {{ var('tiendanube_price_tax_rate') }}), 2) as shipping_amount,
        loaded_at,
        is_deleted
    from tiendanube_orders

    union all

    select
        md5({{ record_key("'mercadolibre_order'", 'order_id') }}) as order_id,
        'mercadolibre' as shop_system,
        'Mercado Libre' as shop_title,
        order_id as shop_order_id,
        'ML-' || order_id::text as order_name,
        'ML-' || order_id::text as order_reference,
        {{ record_key("'mercadolibre_buyer'", 'buyer_id') }} as customer_record_key,
        created_at as ordered_at,
        case
            when is_cancelled then 'cancelled'
            when shipping_status in ('shipped', 'delivered') then 'done'
            else 'confirmed'
        end as status,
        coalesce(is_cancelled, false) as is_cancelled,
        coalesce(order_status = 'paid', false) as is_paid,
        case when is_cancelled and paid_amount > 0 then 'refunded' end as refund_status,
        items_amount + coalesce(shipping_amount, 0) as amount_total,
        currency_code,
        round(shipping_amount / (1 + {{ var('mercadolibre_price_tax_rate') }}), 2) as shipping_amount,
        loaded_at,
        is_deleted
    from mercadolibre_orders
)

select * from unioned
