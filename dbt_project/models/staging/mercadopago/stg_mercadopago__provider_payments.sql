{#
    Mercado Pago's payments in contract `provider_payments` (fct_payments), in Mercado Pago's own
    words. The business's reference (`external_reference`) names what was paid: a customer
    invoice's number in the ERP (a payment link) or a web order's name (`#1042`, the shop's
    checkout); fct_payments matches it. A Mercado Libre sale's payment carries no reference of the
    business but names the sale (`order`, type `mercadolibre`): its reference is then the sale's
    name (`ML-<order id>`) and `shop_order_key` its key in the marts, as Mercado Libre's own record
    of the payment says (stg_mercadolibre__provider_payments; fct_payments keeps one of the two).
    The amounts as each status means them: macro mercadopago_payment_amounts.
#}

select
    payment_id::text as payment_id,
    'mercadopago' as provider,
    coalesce(external_reference, case when order_type = 'mercadolibre' then 'ML-' || order_source_id::text end)
        as external_reference,
    case
        when order_type = 'mercadolibre' then md5({{ record_key("'mercadolibre_order'", 'order_source_id') }})
    end as shop_order_key,
    payment_status,
    status_detail,
    payment_method,
    payment_type,
    currency_code,
    amount,
    {{ mercadopago_payment_amounts('payment_status', 'amount', 'refunded_amount') }},
    fee_amount,
    net_received_amount,
    refund_count,
    last_refunded_at,
    created_at,
    approved_at,
    updated_at
from {{ ref('stg_mercadopago__payments') }}
where not is_deleted
