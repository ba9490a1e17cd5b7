{#
    customer_field_conflicts says which record the golden record takes each field from; it
    computes that itself, by dim_customers' own rules (macro golden_fields), so that a change of
    the rules changes both models' code and each computes its kept rows again. A row here is a
    conflict that names another record than dim_customers took: the two no longer share the rules,
    or a kept row went stale.
#}

select
    conflicts.conflict_id,
    conflicts.field_name,
    conflicts.golden_record_key,
    taken.record_key as dim_customers_source
from {{ ref('customer_field_conflicts') }} as conflicts
inner join {{ ref('dim_customers') }} as customers
    on conflicts.customer_id = customers.customer_id
-- dim_customers' `<field>_source` of the conflict's field
cross join lateral (select to_jsonb(customers) ->> (conflicts.field_name || '_source') as record_key) as taken
where conflicts.golden_record_key is distinct from taken.record_key
