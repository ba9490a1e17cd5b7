-- The records of base_mercadolibre__orders that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_mercadolibre__orders') }}
where not {{ is_quarantined('data_issues') }}
