{{ config(alias='product_stock_discrepancies') }}
-- no personal data: passed through as is
select * from {{ ref('product_stock_discrepancies') }}
