-- The records of base_odoo__products that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_odoo__products') }}
where not {{ is_quarantined('data_issues') }}
