{{ config(alias='fct_order_lines') }}
{{ bi_view(ref('fct_order_lines')) }}
