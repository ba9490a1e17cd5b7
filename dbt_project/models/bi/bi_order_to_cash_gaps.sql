{{ config(alias='order_to_cash_gaps') }}
-- no personal data: passed through as is
select * from {{ ref('order_to_cash_gaps') }}
