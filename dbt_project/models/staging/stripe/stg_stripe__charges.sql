-- The records of base_stripe__charges that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_stripe__charges') }}
where not {{ is_quarantined('data_issues') }}
