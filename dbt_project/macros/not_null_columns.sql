{#
    Columns that are never empty, a model's in one test: dbt's `not_null` on each of them, in one
    scan of the model, so that a model's required columns cost the build one test node instead of
    one each. Each failing row is a column with empty values (`column_name`), with their count.
#}
{% test not_null_columns(model, columns) %}
select checked.column_name, count(*) as n_records
from {{ model }}
cross join lateral (
    values
    {%- for column in columns %}
        ('{{ column }}', {{ column }} is null){{ "," if not loop.last }}
    {%- endfor %}
) as checked (column_name, is_empty)
where checked.is_empty
group by checked.column_name
{% endtest %}
