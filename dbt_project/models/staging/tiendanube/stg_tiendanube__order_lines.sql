-- The records of base_tiendanube__order_lines that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_tiendanube__order_lines') }}
where not {{ is_quarantined('data_issues') }}
