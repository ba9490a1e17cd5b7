{#
    BI access: the `bi_reader` role reads `marts_bi` only, a schema of views over the marts in
    which email, phone and tax id are masked or hashed (models/bi/). It has no privilege on
    `marts` or any other schema, and views run with their owner's rights, so it needs none.

      dbt run-operation create_bi_reader     once per server, by a role with CREATEROLE
                                             (then: alter role bi_reader login password '...')
    Each view's post-hook (grant_bi_reader) grants it select whenever the view is rebuilt, and
    the project's on-run-end hook (grant_bi_reader_schema) usage on marts_bi, if the role
    exists; a build never fails because it does not.
#}

{% macro create_bi_reader() %}
    {% set sql %}
        do $$
        begin
            if not exists (select from pg_roles where rolname = 'bi_reader') then
                create role bi_reader nologin;
            end if;
        end
        $$;
        create schema if not exists marts_bi;
        grant usage on schema marts_bi to bi_reader;
        grant select on all tables in schema marts_bi to bi_reader;
        revoke all on all tables in schema marts from bi_reader;
        revoke all on schema marts from bi_reader;
    {% endset %}
    {% do run_query(sql) %}
    {{ log("bi_reader may read marts_bi (masked views), nothing else", info=True) }}
{% endmacro %}

{#
    on-run-end (once per dbt command, so never two at a time): usage on marts_bi for the role,
    when both exist, e.g. on a new database of a server where the role was created before.
#}
{% macro grant_bi_reader_schema() %}
    do $$
    begin
        if exists (select from pg_roles where rolname = 'bi_reader')
            and exists (select from pg_namespace where nspname = 'marts_bi') then
            execute 'grant usage on schema marts_bi to bi_reader';
        end if;
    end
    $$
{% endmacro %}

{% macro grant_bi_reader() %}
    do $$
    begin
        if exists (select from pg_roles where rolname = 'bi_reader') then
            execute 'grant select on {{ this }} to bi_reader';
        end if;
    end
    $$
{% endmacro %}

{# Masks for BI: the domain stays readable, the person does not. #}
{% macro mask_email(column) -%}
    case when {{ column }} is not null then left({{ column }}, 1) || '***@' || split_part({{ column }}, '@', 2) end
{%- endmacro %}

{% macro mask_phone(column) -%}
    case when {{ column }} is not null then left({{ column }}, 3) || repeat('*', greatest(length({{ column }}) - 7, 0)) || right({{ column }}, 4) end
{%- endmacro %}

{# A salted md5 (env PUENTE_BI_HASH_SALT): equal ids hash equal, so BI can count and join. #}
{% macro hash_identifier(column) -%}
    case when {{ column }} is not null then md5('{{ env_var("PUENTE_BI_HASH_SALT", "puente") }}' || {{ column }}) end
{%- endmacro %}
