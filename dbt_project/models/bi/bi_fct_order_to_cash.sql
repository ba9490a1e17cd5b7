{{ config(alias='fct_order_to_cash') }}
-- no personal data: passed through as is
select * from {{ ref('fct_order_to_cash') }}
