{#
    Web orders cancelled or refunded in their shop (any web shop: int_web_orders_unioned) after
    their ERP sale order was entered: what the ERP should do about them, the way an accountant
    expects. (WooCommerce's `refunded` and `failed` statuses count as cancelled there.)
      - not invoiced yet: the sale order is cancelled in the ERP (Odoo releases its reservation);
      - invoiced already: Puente does not reverse accounting entries; the row goes to the work list
        asking for a credit note against the invoice, which the accountant issues (and which reaches
        DIAN as such).
    Partial refunds change nothing here: they are a credit note for part of an invoice, an
    accountant's call; the work list names them too.
#}

with

web_orders as (
    select * from {{ ref('fct_orders') }}
    where channel = 'web' and odoo_sale_order_id is not null
),

shop_orders as (
    select order_id, shop_system, shop_order_id, order_name, refund_status, is_cancelled
    from {{ ref('int_web_orders_unioned') }}
),

sale_orders as (
    select sale_order_id, sale_order_name, state from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted
),

candidates as (
    select
        web_orders.order_id,
        web_orders.customer_id,
        web_orders.odoo_sale_order_id,
        web_orders.invoice_status,
        sale_orders.sale_order_name,
        shop_orders.shop_system,
        shop_orders.shop_order_id,
        shop_orders.order_name,
        shop_orders.is_cancelled,
        shop_orders.refund_status
    from web_orders
    inner join shop_orders
        on web_orders.order_id = shop_orders.order_id
    inner join sale_orders
        on web_orders.odoo_sale_order_id = sale_orders.sale_order_id
    where
        sale_orders.state <> 'cancel'
        and (shop_orders.is_cancelled or shop_orders.refund_status is not null)
),

final as (
    select
        shop_system || '_order:' || shop_order_id as row_key,
        odoo_sale_order_id::text as target_id,
        null::text as external_key,
        jsonb_build_object('state', 'cancel') as payload,
        jsonb_build_object('state', 'cancel') as compare,
        null::timestamptz as observed_at,
        case
            when invoice_status = 'invoiced'
                then 'web order ' || order_name || ' was ' || case when is_cancelled then 'cancelled' else 'refunded' end
                     || ' in the shop after sale order ' || sale_order_name || ' was invoiced: issue a credit note '
                     || 'for it in the ERP'
            when not is_cancelled
                then 'web order ' || order_name || ' was ' || replace(refund_status, '_', ' ')
                     || ' in the shop but not cancelled: decide in the ERP whether sale order '
                     || sale_order_name || ' still stands'
        end as invalid_reason,
        customer_id,
        jsonb_build_object('what', 'web order ' || order_name || ' (ERP ' || sale_order_name || ')') as context
    from candidates
)

select * from final
