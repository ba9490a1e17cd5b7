-- The records of base_mercadopago__payments that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_mercadopago__payments') }}
where not {{ is_quarantined('data_issues') }}
