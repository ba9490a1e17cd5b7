{#
    The Mercado Pago payments of Mercado Libre's sales in contract `provider_payments`
    (fct_payments), as each sale carries them. The sale is the payment's order: `shop_order_key` is
    its key in the marts (int_web_orders_unioned's `order_id`), `external_reference` its name
    (`ML-<order id>`). `amount` is what the buyer paid, items and shipping; `fee_amount` what
    Mercado Libre kept (`marketplace_fee`). The sale does not say what reached the seller's
    account (Mercado Envíos' charges and the release are Mercado Pago's), so `net_received_amount`
    is null here; when the business also lands its Mercado Pago account, fct_payments keeps that
    source's record of the same payment, which does. A refunded payment is refunded in full (it
    cancels the sale).
#}

with

payments as (
    select
        *,
        case
            when payment_status = 'refunded' then amount
            else least(transaction_refunded_amount, amount)
        end as refunded_amount
    from {{ ref('stg_mercadolibre__payments') }}
    where not is_deleted
)

select
    payment_id::text as payment_id,
    'mercadolibre' as provider,
    'ML-' || order_id::text as external_reference,
    md5({{ record_key("'mercadolibre_order'", 'order_id') }}) as shop_order_key,
    payment_status,
    status_detail,
    payment_method,
    payment_type,
    currency_code,
    amount,
    case when payment_status in ('approved', 'refunded', 'charged_back', 'in_mediation') then amount else 0 end
        as collected_amount,
    refunded_amount,
    case when payment_status = 'charged_back' then amount - refunded_amount else 0 end as charged_back_amount,
    case when payment_status in ('approved', 'in_mediation') then amount - refunded_amount else 0 end as net_amount,
    fee_amount,
    null::numeric as net_received_amount,
    case when refunded_amount > 0 then 1 else 0 end as refund_count,
    case when refunded_amount > 0 then updated_at end as last_refunded_at,
    created_at,
    approved_at,
    updated_at
from payments
