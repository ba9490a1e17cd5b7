{#
    BI access: the `bi_reader` role reads `marts_bi` only, a schema of views over the marts that
    show BI what it needs and no more (models/bi/_bi__models.yml says what and why). It has no
    privilege on `marts`, `ops` or any other schema; views read their tables with their owner's
    rights, so it needs none.

      dbt run-operation create_bi_reader     once per server, by a role with CREATEROLE
                                             (then: alter role bi_reader login password '...';
                                             the embedded warehouse does this itself)
    Each view's post-hook (grant_bi_reader) grants it select whenever the view is rebuilt, and
    the project's on-run-end hook (grant_bi_reader_schema) usage on marts_bi, if the role
    exists; a build never fails because it does not.

    Pseudonyms: an email or tax id is shown as HMAC-SHA256 under a key of this warehouse (bi_pseudonym),
    so equal values stay equal (BI can count and join) but nobody without the key can test a guess.
    The key is made once by Puente (puente/warehouse.py, ops.bi_pseudonym_key, as the two padded
    halves HMAC hashes with) in `ops`, where bi_reader has no access; the view text names the
    table, not the key. The views compute it with PostgreSQL's own sha256(), no extension.

    Surviving rebuilds: a mart rebuilt as a table is swapped in (dbt renames the old one away and
    drops it with cascade), which would drop its BI view with it. Each mart's post-hook
    (rebind_bi_views) therefore re-creates the BI views that read it on the new table, inside the
    mart's own transaction, before the old table is dropped: BI sees the old view on the old table
    or the new view on the new one, never no view. Every BI model is `{{ bi_view(ref('<mart>')) }}`,
    so the hook and the model build the same view.
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
        do $$
        begin
            -- before the first night there is no marts schema, so nothing in it to take back
            if exists (select from pg_namespace where nspname = 'marts') then
                revoke all on all tables in schema marts from bi_reader;
                revoke all on schema marts from bi_reader;
            end if;
        end
        $$;
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

{# The key's table (made by puente.warehouse.ensure_schema); bi_reader cannot read it. #}
{% macro bi_key_table() -%} ops.bi_pseudonym_key {%- endmacro %}

{# HMAC-SHA256 of a text value under the warehouse's key (`bi_key` must be joined), hex. #}
{% macro bi_pseudonym(column) -%}
    case when {{ column }} is not null
        then encode({{ keyed_hash('bi_key', column) }}, 'hex')
    end
{%- endmacro %}

{#
    The select of the BI view of `mart` (a relation). Marts without personal data pass through,
    but for the keys of people's records in the sources; the others show what BI needs
    (models/bi/_bi__models.yml).
#}
{% macro bi_view(mart) -%}
    {%- if mart.identifier == 'dim_customers' %}
select
    c.customer_id,
    split_part(c.email, '@', 2) as email_domain,
    {{ bi_pseudonym('c.email') }} as email_hash,
    c.email_source,
    c.phone is not null as has_phone,
    c.phone_source,
    {{ bi_pseudonym('c.tax_id') }} as tax_id_hash,
    c.tax_id_source,
    c.city,
    c.city_source,
    c.country_code,
    c.country_code_source,
    c.has_marketing_consent,
    c.has_marketing_consent_source,
    c.marketing_consent_at,
    c.first_order_at,
    c.last_order_at,
    c.lifetime_orders,
    c.lifetime_revenue,
    c.currency_code,
    {%- for system, column in customer_id_columns().items() %}
    coalesce(cardinality(c.{{ column }}), 0) as {{ system }}_records,
    {%- endfor %}
    c.source_record_count
from {{ mart }} as c
cross join {{ bi_key_table() }} as bi_key
    {%- elif mart.identifier == 'customer_field_conflicts' %}
select
    conflict_id,
    customer_id,
    field_name,
    system_of_record,
    golden_system,
    -- which systems hold another value than the owner's, without the values themselves
    array(
        select differing.key from jsonb_each_text(system_values) as differing
        where differing.value is distinct from owner_value order by differing.key
    ) as differing_systems
from {{ mart }}
    {%- elif mart.identifier == 'fct_service_tickets' %}
-- without the subject (the customer's words) and the CRM's ticket and contact ids
select
    service_ticket_id, source_system, customer_id, category, priority, is_complaint, opened_at,
    first_response_at, resolved_at, hours_to_first_response, hours_to_resolution, reopened_count,
    is_reopened, is_open, updated_at
from {{ mart }}
    {%- else %}
    {#- every column but a person's record in a source (`customer_record_key`: `shopify_customer:…`);
        at parse time, when no table can be read, the select is never run -#}
    {%- set columns = [] %}
    {%- if execute %}
        {%- for column in adapter.get_columns_in_relation(mart) if not column.name.endswith('_record_key') %}
            {%- do columns.append(adapter.quote(column.name)) %}
        {%- endfor %}
    {%- endif %}
-- no personal data but the record keys of people in the sources, left out
select {{ columns | join(', ') if columns else '*' }} from {{ mart }}
    {%- endif %}
{%- endmacro %}

{#
    Post-hook of every mart: re-create, on the table just built, the BI views that read it (those
    that exist; a view not built yet is left to its model), inside the mart's transaction.
    dbt's relation cache links each view to the table it read, and when dbt drops the old table
    (with cascade) it forgets the views linked to it: a view re-created here is entered in the
    cache afresh, without that link, so that the view's own model (later in the same command)
    still finds it and replaces it instead of colliding with it.
#}
{% macro rebind_bi_views() %}
    {%- if execute -%}
    {%- set views = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.fqn[1] == 'bi' and model.unique_id in node.depends_on.nodes -%}
            {%- do views.append(api.Relation.create(database=node.database, schema=node.schema,
                                                    identifier=node.alias, type='view')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for view in views -%}
        {%- set cached = adapter.get_relation(database=view.database, schema=view.schema,
                                              identifier=view.identifier) -%}
        {%- if cached is not none -%}
            {%- do adapter.cache_dropped(cached) -%}
            {%- do adapter.cache_added(cached) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for view in views %}
    do $rebind$
    begin
        if to_regclass('{{ view }}') is not null then
            drop view {{ view }};
            create view {{ view }} as {{ bi_view(this) }};
            if exists (select from pg_roles where rolname = 'bi_reader') then
                grant select on {{ view }} to bi_reader;
            end if;
        end if;
    end
    $rebind$;
    {%- endfor -%}
    {%- endif -%}
{% endmacro %}
