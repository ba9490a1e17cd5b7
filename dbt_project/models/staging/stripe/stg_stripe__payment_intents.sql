-- The records of base_stripe__payment_intents that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_stripe__payment_intents') }}
where not {{ is_quarantined('data_issues') }}
