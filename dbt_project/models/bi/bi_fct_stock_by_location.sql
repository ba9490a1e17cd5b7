{{ config(alias='fct_stock_by_location') }}
-- no personal data: passed through as is
select * from {{ ref('fct_stock_by_location') }}
