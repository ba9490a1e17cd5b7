-- The records of base_mercadolibre__order_lines that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_mercadolibre__order_lines') }}
where not {{ is_quarantined('data_issues') }}
