{{ config(alias='fct_order_lines') }}
-- no personal data: passed through as is
select * from {{ ref('fct_order_lines') }}
