{#
    Each customer (int_customers_matched.customer_id) with a hash of its records and when that hash
    last changed. The customer marts kept by customer (dim_customers, customer_authorisations,
    customer_field_conflicts: macros/customer_scope.sql) rebuild only the customers changed since
    their own last build.

    The hash covers every column of every record of the customer (its id, its cluster, each
    record's values, consent signals and their dates), but `updated_at`: Puente's own writes move a
    record's last-modified time (the churn scores it writes to CRM contacts), no customer mart reads
    it, and a customer whose scores were written back has not changed. A customer merged into
    another is gone from here; the one it joined changed.

    Reads its previous build: a customer whose hash is the previous build's keeps its `changed_at`,
    any other (new, or changed) is dated at this run's start. A first build and a full refresh date
    every customer at the run's start, so each mart rebuilds every customer.
#}

{%- set previous = load_relation(this) if execute and not flags.FULL_REFRESH else none -%}
{%- if previous is not none and ['customer_id', 'records_hash', 'changed_at']
        | reject('in', adapter.get_columns_in_relation(previous) | map(attribute='name') | list) | list -%}
    {%- set previous = none -%}
{%- endif -%}
{%- set hashed_columns = adapter.get_columns_in_relation(ref('int_customers_matched')) | map(attribute='name')
        | reject('equalto', 'updated_at') | list if execute else [] -%}

with

current_versions as (
    select
        customer_id,
        md5(string_agg(
            md5(row({{ hashed_columns | join(', ') if hashed_columns else 'record_key' }})::text), ''
            order by record_key
        )) as records_hash
    from {{ ref('int_customers_matched') }}
    group by customer_id
)

select
    current_versions.customer_id,
    current_versions.records_hash,
    {%- if previous is not none %}
    case
        when previous.records_hash = current_versions.records_hash then previous.changed_at
        else '{{ run_started_at }}'::timestamptz
    end as changed_at
from current_versions
left join {{ previous }} as previous
    on current_versions.customer_id = previous.customer_id
    {%- else %}
    '{{ run_started_at }}'::timestamptz as changed_at
from current_versions
    {%- endif %}
