{{ config(alias='fct_orders') }}
-- no personal data: passed through as is
select * from {{ ref('fct_orders') }}
