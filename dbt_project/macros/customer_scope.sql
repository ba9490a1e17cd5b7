{#
    The customer marts kept by customer (dim_customers, customer_authorisations,
    customer_field_conflicts). A night changes the records of a few hundred customers of a hundred
    thousand; these marts rebuilt whole took 1 to 3 s of the two cores each at that size. Each is
    an incremental table (configured once, in dbt_project.yml), built with:
      - pre-hook remove_stale_customer_rows: deletes the rows of the customers changed since the
        mart's last build (int_customer_versions.changed_at) or gone; when the mart's last build is
        not recorded, or was made by other code, every row;
      - customers_in_scope(): the customers to compute (those changed since the last build, or
        all of them when none is recorded), the model's rows written for them (delete+insert by
        customer_id);
      - post-hook record_customer_build: records the build in the table's comment,
        `<hash>@<start>`: the md5 of the model's compiled SQL (its code, the macros it calls and the
        vars it reads) and the start of the dbt run.
    So a mart's rows are always those a build from scratch would make. A full refresh forgets the
    record first (every customer computed); the compiled SQL is the same on every build, so the
    hash changes only with the code.
#}

{#- the hash of the model's compiled SQL (read by the hooks: the model itself is not compiled yet),
    but for what an incremental build alone runs (customer_incremental_only), so that a first
    build and the next one record the same, and for the database's name (a copy of the warehouse
    is the same build) -#}
{% macro customer_build_hash() -%}
    {%- if execute and not model.get('compiled_code') -%}
        {{ exceptions.raise_compiler_error(model.name ~ ': its compiled SQL is not known yet') }}
    {%- endif -%}
    {%- set rows_sql = modules.re.sub('/\\* incremental: \\*/.*?/\\* :incremental \\*/', '',
                                      model.get('compiled_code') or '', flags=modules.re.S) -%}
    {{- return(local_md5(rows_sql | replace(adapter.quote(this.database) ~ '.', ''))) -}}
{%- endmacro %}

{#- SQL that only an incremental build runs (it reads the mart's own rows), in a call block -#}
{% macro customer_incremental_only() -%}
    {%- if is_incremental() %}/* incremental: */{{ caller() }}/* :incremental */{% endif -%}
{%- endmacro %}

{#- the start of the mart's last build, '-infinity' when none is recorded (the pre-hook forgets a
    build made by other code) -#}
{% macro customer_build_start() -%}
    (select coalesce(
        split_part(obj_description(to_regclass({{ dbt.string_literal(this) }}), 'pg_class'), '@', 2)::timestamptz,
        '-infinity'
    ))
{%- endmacro %}

{#- the customers changed since the mart's last build, all of them when none is recorded -#}
{% macro customers_in_scope() -%}
    select customer_id from {{ ref('int_customer_versions') }}
    where changed_at > {{ customer_build_start() }}
{%- endmacro %}

{% macro remove_stale_customer_rows() %}
{%- if is_incremental() %}
do $$
declare
    built text := obj_description({{ dbt.string_literal(this) }}::regclass, 'pg_class');
begin
    if split_part(built, '@', 1) is distinct from '{{ customer_build_hash() }}' then
        -- no build recorded, or one made by other code: every customer is computed again
        delete from {{ this }};
        comment on table {{ this }} is null;
    else
        delete from {{ this }} as kept
        where not exists (
            select 1 from {{ ref('int_customer_versions') }} as versions
            where versions.customer_id = kept.customer_id and versions.changed_at <= {{ customer_build_start() }}
        );
    end if;
end
$$
{%- elif load_relation(this) is not none %}
-- a full refresh: the table it replaces must not scope the new one's customers
comment on table {{ this }} is null
{%- else %}
select 1
{%- endif %}
{% endmacro %}

{% macro record_customer_build() %}
comment on table {{ this }} is '{{ customer_build_hash() }}@{{ run_started_at }}'
{% endmacro %}
