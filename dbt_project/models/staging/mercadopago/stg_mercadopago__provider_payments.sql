{#
    Mercado Pago's payments in contract `provider_payments` (fct_payments), in Mercado Pago's own
    words. The business's reference (`external_reference`) names what was paid: a customer
    invoice's number in the ERP (a payment link) or a web order's name (`#1042`, the shop's
    checkout); fct_payments matches it. No shop order of its own (`shop_order_key` null).
    `collected_amount`: charged once the payment went through (approved, later refunded or charged
    back, or in mediation); `net_amount`: what the business keeps after refunds and chargebacks.
#}

select
    payment_id::text as payment_id,
    'mercadopago' as provider,
    external_reference,
    null::text as shop_order_key,
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
    case
        when payment_status in ('approved', 'in_mediation') then amount - refunded_amount
        else 0
    end as net_amount,
    fee_amount,
    net_received_amount,
    refund_count,
    last_refunded_at,
    created_at,
    approved_at,
    updated_at
from {{ ref('stg_mercadopago__payments') }}
where not is_deleted
