-- The records of base_tiendanube__customers that staging did not quarantine (macros/casting.sql).
select * from {{ ref('base_tiendanube__customers') }}
where not {{ is_quarantined('data_issues') }}
