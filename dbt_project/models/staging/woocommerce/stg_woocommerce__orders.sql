-- The records of base_woocommerce__orders that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_woocommerce__orders') }}
where not {{ is_quarantined('data_issues') }}
