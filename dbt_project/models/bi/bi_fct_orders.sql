{{ config(alias='fct_orders') }}
{{ bi_view(ref('fct_orders')) }}
