{#
    The Mercado Pago payments of Mercado Libre's sales in contract `provider_payments`
    (fct_payments), as each sale carries them. The sale is the payment's order: `shop_order_key` is
    its key in the marts (int_web_orders_unioned's `order_id`), `external_reference` its name
    (`ML-<order id>`). `amount` is what the buyer paid, items and shipping; `fee_amount` what
    Mercado Libre kept (`marketplace_fee`). The sale does not say what reached the seller's
    account (Mercado Envíos' charges and the release are Mercado Pago's), so `net_received_amount`
    is null. When the business also lands its Mercado Pago account, the same payment comes from
    there too, under the same id: fct_payments keeps this record, with what reached the account as
    Mercado Pago says it. A refunded payment is refunded in full (it cancels the sale). The amounts as each status means them: macro mercadopago_payment_amounts.
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
    {{ mercadopago_payment_amounts('payment_status', 'amount', 'refunded_amount') }},
    fee_amount,
    null::numeric as net_received_amount,
    case when refunded_amount > 0 then 1 else 0 end as refund_count,
    case when refunded_amount > 0 then updated_at end as last_refunded_at,
    created_at,
    approved_at,
    updated_at
from payments
