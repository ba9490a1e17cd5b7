-- The records of base_shopify__product_variants that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_shopify__product_variants') }}
where not {{ is_quarantined('data_issues') }}
