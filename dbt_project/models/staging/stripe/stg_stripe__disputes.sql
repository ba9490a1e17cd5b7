-- The records of base_stripe__disputes that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_stripe__disputes') }}
where not {{ is_quarantined('data_issues') }}
