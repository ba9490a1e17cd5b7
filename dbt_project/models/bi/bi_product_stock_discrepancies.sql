{{ config(alias='product_stock_discrepancies') }}
{{ bi_view(ref('product_stock_discrepancies')) }}
