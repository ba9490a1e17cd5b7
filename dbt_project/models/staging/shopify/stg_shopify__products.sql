-- The records of base_shopify__products that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_shopify__products') }}
where not {{ is_quarantined('data_issues') }}
