-- The records of base_odoo__sale_orders that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_odoo__sale_orders') }}
where not {{ is_quarantined('data_issues') }}
