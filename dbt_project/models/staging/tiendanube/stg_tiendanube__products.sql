-- The records of base_tiendanube__products that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_tiendanube__products') }}
where not {{ is_quarantined('data_issues') }}
