-- The records of base_odoo__partners that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_odoo__partners') }}
where not {{ is_quarantined('data_issues') }}
