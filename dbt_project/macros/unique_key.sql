{#
    A key column: one row per value and never empty. dbt's `unique` and `not_null` in one query,
    so a key costs the build one test node instead of two. Each failing row is a value more than
    one row holds, or the empty key (`key_value` null), with its count of rows.
#}
{% test unique_key(model, column_name) %}
select {{ column_name }} as key_value, count(*) as n_records
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{% endtest %}
