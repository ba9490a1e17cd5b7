{#
    The marts kept between nights: incremental tables whose night computes only the rows its inputs
    changed since the table's own last build (the customer marts, kept by customer:
    macros/customer_scope.sql; fct_order_to_cash, kept by order). Each is built with:
      - a pre-hook remove_stale_rows(condition): when the table's last build is not recorded, or
        was made by other code, deletes every row (so the build computes them all); otherwise the
        rows `condition` names (those whose inputs changed or went away);
      - its own scope, read against kept_build_start() (the start of the last build, '-infinity'
        when none is recorded: everything is in scope), inside incremental_only() blocks;
      - the post-hook record_kept_build: records the build in the table's comment,
        `<hash>@<start>`: the md5 of the model's compiled SQL (its code, the macros it calls and
        the vars it reads) and the start of the dbt run.
    So a kept mart's rows are always those a build from scratch would make. A full refresh forgets
    the record first; the compiled SQL is the same on every build, so the hash changes only with
    the code.
#}

{#- the hash of the model's compiled SQL (read by the hooks: the model itself is not compiled yet),
    but for what an incremental build alone runs (incremental_only), so that a first build and the
    next one record the same, and for the database's name (a copy of the warehouse is the same
    build) -#}
{% macro kept_build_hash() -%}
    {%- if execute and not model.get('compiled_code') -%}
        {{ exceptions.raise_compiler_error(model.name ~ ': its compiled SQL is not known yet') }}
    {%- endif -%}
    {%- set rows_sql = modules.re.sub('/\\* incremental: \\*/.*?/\\* :incremental \\*/', '',
                                      model.get('compiled_code') or '', flags=modules.re.S) -%}
    {{- return(local_md5(rows_sql | replace(adapter.quote(this.database) ~ '.', ''))) -}}
{%- endmacro %}

{#- SQL that only an incremental build runs (it reads the mart's own rows), in a call block -#}
{% macro incremental_only() -%}
    {%- if is_incremental() %}/* incremental: */{{ caller() }}/* :incremental */{% endif -%}
{%- endmacro %}

{#- the start of the mart's last build, '-infinity' when none is recorded (the pre-hook forgets a
    build made by other code) -#}
{% macro kept_build_start() -%}
    (select coalesce(
        split_part(obj_description(to_regclass({{ dbt.string_literal(this) }}), 'pg_class'), '@', 2)::timestamptz,
        '-infinity'
    ))
{%- endmacro %}

{#- pre-hook: every row gone when the last build is not recorded or was other code's, else the
    rows `condition` names (a filter on the table's rows, aliased `kept`) -#}
{% macro remove_stale_rows(condition) %}
{%- if is_incremental() %}
do $$
declare
    built text := obj_description({{ dbt.string_literal(this) }}::regclass, 'pg_class');
begin
    if split_part(built, '@', 1) is distinct from '{{ kept_build_hash() }}' then
        -- no build recorded, or one made by other code: every row is computed again
        delete from {{ this }};
        comment on table {{ this }} is null;
    else
        delete from {{ this }} as kept where {{ condition }};
    end if;
end
$$
{%- elif load_relation(this) is not none %}
-- a full refresh: the table it replaces must not scope the new one's rows
comment on table {{ this }} is null
{%- else %}
select 1
{%- endif %}
{% endmacro %}

{% macro record_kept_build() %}
comment on table {{ this }} is '{{ kept_build_hash() }}@{{ run_started_at }}'
{% endmacro %}
