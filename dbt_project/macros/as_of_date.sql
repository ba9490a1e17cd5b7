{% macro as_of_date() -%}
{#-
    SQL for the day the models measure from (order-to-cash gaps, posting windows, service dates):
    var `as_of_date` when given (`--vars`), else the environment's PUENTE_AS_OF_DATE, else today.
    The nightly DAG sets the environment variable, not the var: a new `--vars` each night makes
    dbt re-parse the whole project, a changed environment variable only the models that read it.
-#}
{%- set day = var('as_of_date') or env_var('PUENTE_AS_OF_DATE', '') -%}
coalesce({{ "'" ~ day ~ "'::date" if day else "null::date" }}, current_date)
{%- endmacro %}
