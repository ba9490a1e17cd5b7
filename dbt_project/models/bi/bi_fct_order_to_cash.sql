{{ config(alias='fct_order_to_cash') }}
{{ bi_view(ref('fct_order_to_cash')) }}
