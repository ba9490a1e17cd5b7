-- The records of base_woocommerce__products that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_woocommerce__products') }}
where not {{ is_quarantined('data_issues') }}
