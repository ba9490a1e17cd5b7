-- The records of base_tiendanube__orders that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_tiendanube__orders') }}
where not {{ is_quarantined('data_issues') }}
