-- The records of base_mercadolibre__payments that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_mercadolibre__payments') }}
where not {{ is_quarantined('data_issues') }}
