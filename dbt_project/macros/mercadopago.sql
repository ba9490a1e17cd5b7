{#
    What a Mercado Pago payment's status means for the money, as contract `provider_payments`
    (fct_payments) says it: `collected_amount` is what the payer was charged once the payment went
    through (approved, later refunded or charged back, or in mediation); `charged_back_amount` what
    the card issuer took back; `net_amount` what the business keeps after refunds and chargebacks.
    For every payment in Mercado Pago's words: Mercado Pago's own, and a Mercado Libre sale's.
#}
{% macro mercadopago_payment_amounts(status, amount, refunded) -%}
    case when {{ status }} in ('approved', 'refunded', 'charged_back', 'in_mediation') then {{ amount }} else 0 end
        as collected_amount,
    {{ refunded }} as refunded_amount,
    case when {{ status }} = 'charged_back' then {{ amount }} - {{ refunded }} else 0 end as charged_back_amount,
    case when {{ status }} in ('approved', 'in_mediation') then {{ amount }} - {{ refunded }} else 0 end as net_amount
{%- endmacro %}
