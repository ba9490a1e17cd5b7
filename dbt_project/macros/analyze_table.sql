{#
    Post-hook of the models built as tables: statistics for the planner of the models that read
    them in the same night. A table built anew (every table model; an incremental one on its first
    build or a full refresh) is analysed at once. An incremental table that already has statistics
    keeps them while it is less than a fifth larger on disk than when they were taken (a night adds
    a small share of it, and autovacuum analyses it again once a tenth of its rows changed; a first
    load into a table built empty is analysed at once). That spares a night a whole-table sample of
    each incremental table: 3.3 to 4.3 s for 27 of them at 100,000 customers. Tests:
    tests/dbt/test_incremental_facts.py (a night; a table grown by more than a fifth).

    `statistics_target` samples fewer rows than PostgreSQL's default_statistics_target (100: 30,000
    rows, and as many values in each column's histogram and most common values) for a table only
    the night's own models read: 30 samples 9,000 rows and took 0.11 s of the 0.5 s of the
    default on each of the identity chain's 215,000-record tables at 100,000 customers, where five
    of them are analysed one after the other on the night's critical path. The marts, which BI
    tools query all day, keep the default.
#}
{% macro analyze_table(statistics_target=none) %}
{%- if statistics_target is not none -%}
set local default_statistics_target = {{ statistics_target | int }};
{% endif -%}
{%- if model.config.materialized == 'incremental' -%}
do $$
begin
    if not exists (
        select 1 from pg_stats
        where schemaname = {{ dbt.string_literal(this.schema) }} and tablename = {{ dbt.string_literal(this.identifier) }}
    ) or (
        select pg_relation_size(oid) > 1.2 * current_setting('block_size')::integer * relpages
        from pg_class where oid = {{ dbt.string_literal(this) }}::regclass
    ) then
        analyze {{ this }};
    end if;
end
$$
{%- else -%}
analyze {{ this }}
{%- endif -%}
{% endmacro %}
