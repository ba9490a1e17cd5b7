{{ config(alias='payment_reconciliation') }}
{{ bi_view(ref('payment_reconciliation')) }}
