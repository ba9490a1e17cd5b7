-- The records of base_odoo__invoices that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_odoo__invoices') }}
where not {{ is_quarantined('data_issues') }}
