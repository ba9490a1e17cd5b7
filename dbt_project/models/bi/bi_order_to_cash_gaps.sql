{{ config(alias='order_to_cash_gaps') }}
{{ bi_view(ref('order_to_cash_gaps')) }}
