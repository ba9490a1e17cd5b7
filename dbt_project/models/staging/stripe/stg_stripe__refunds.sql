-- The records of base_stripe__refunds that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_stripe__refunds') }}
where not {{ is_quarantined('data_issues') }}
