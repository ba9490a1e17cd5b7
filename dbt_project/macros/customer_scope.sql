{#
    The customer marts kept by customer (dim_customers, customer_authorisations,
    customer_field_conflicts; macros/kept_builds.sql). A night changes the records of a few hundred
    customers of a hundred thousand; these marts rebuilt whole took 1 to 3 s of the two cores each
    at that size. Each is an incremental table (configured once, in dbt_project.yml): the pre-hook
    remove_stale_customer_rows deletes the rows of the customers changed since the mart's last
    build (int_customer_versions.changed_at) or gone, and customers_in_scope() names the customers
    to compute (the model's rows written for them: delete+insert by customer_id).
#}

{#- the customers changed since the mart's last build, all of them when none is recorded -#}
{% macro customers_in_scope() -%}
    select customer_id from {{ ref('int_customer_versions') }}
    where changed_at > {{ kept_build_start() }}
{%- endmacro %}

{% macro remove_stale_customer_rows() %}
{{ remove_stale_rows(
    "not exists (select 1 from " ~ ref('int_customer_versions') ~ " as versions"
    ~ " where versions.customer_id = kept.customer_id and versions.changed_at <= " ~ kept_build_start() ~ ")"
) }}
{% endmacro %}
