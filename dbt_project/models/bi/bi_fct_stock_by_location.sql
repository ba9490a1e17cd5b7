{{ config(alias='fct_stock_by_location') }}
{{ bi_view(ref('fct_stock_by_location')) }}
