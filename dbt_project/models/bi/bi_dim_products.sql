{{ config(alias='dim_products') }}
-- no personal data: passed through as is
select * from {{ ref('dim_products') }}
