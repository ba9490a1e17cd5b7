-- The records of base_odoo__sale_order_lines that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_odoo__sale_order_lines') }}
where not {{ is_quarantined('data_issues') }}
