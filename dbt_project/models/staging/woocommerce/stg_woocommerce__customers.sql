-- The records of base_woocommerce__customers that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_woocommerce__customers') }}
where not {{ is_quarantined('data_issues') }}
