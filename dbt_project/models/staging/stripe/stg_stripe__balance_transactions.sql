-- The records of base_stripe__balance_transactions that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_stripe__balance_transactions') }}
where not {{ is_quarantined('data_issues') }}
