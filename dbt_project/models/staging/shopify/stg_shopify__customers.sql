-- The records of base_shopify__customers that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_shopify__customers') }}
where not {{ is_quarantined('data_issues') }}
