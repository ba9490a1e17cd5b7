-- The records of base_shopify__orders that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_shopify__orders') }}
where not {{ is_quarantined('data_issues') }}
