{{ config(alias='fct_payments') }}
{{ bi_view(ref('fct_payments')) }}
