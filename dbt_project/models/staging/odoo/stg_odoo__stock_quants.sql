-- The records of base_odoo__stock_quants that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_odoo__stock_quants') }}
where not {{ is_quarantined('data_issues') }}
