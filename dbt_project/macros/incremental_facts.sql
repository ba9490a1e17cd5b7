{#
    Post-hooks of the incremental facts: a delete+insert only replaces the keys a night
    recomputed, so the rows whose source went away are deleted here. One statement per case,
    each a plain anti- or semi-join (an `or` between `exists` tests would make PostgreSQL
    probe the other table once per row: hours at a million orders).
#}

{#
    fct_orders: web orders whose shop order was deleted (or trashed, or is a WooCommerce
    checkout awaiting payment again: int_web_orders_unioned leaves those out); ERP orders whose sale order was
    deleted or went back to quotation; ERP orders a web order now carries (their reference
    matched a shop order). A night that removed any, and a build of the whole table, records its
    start in the table's comment (`orders_removed_at=<start>`, read by orders_removed_at()): the
    tables kept by order look for rows of orders gone from fct_orders only after such a night.
#}
{% macro remove_vanished_orders() %}
{% if is_incremental() %}
do $$
declare
    removed_any boolean := false;
begin
    delete from {{ this }} as orders
    where
        orders.channel = 'web'
        and not exists (
            select 1 from {{ ref('int_web_orders_unioned') }} as shop_orders
            where shop_orders.order_id = orders.order_id and not shop_orders.is_deleted
        );
    removed_any := removed_any or found;

    delete from {{ this }} as orders
    where
        orders.channel = 'erp'
        and not exists (
            select 1 from {{ ref('stg_odoo__sale_orders') }} as sale_orders
            where
                sale_orders.sale_order_id = orders.odoo_sale_order_id
                and not sale_orders.is_deleted
                and sale_orders.state in ('sale', 'done', 'cancel')
        );
    removed_any := removed_any or found;

    delete from {{ this }} as orders
    using {{ this }} as web_orders
    where
        orders.channel = 'erp'
        and web_orders.channel = 'web'
        and web_orders.odoo_sale_order_id = orders.odoo_sale_order_id;
    removed_any := removed_any or found;

    if removed_any then
        comment on table {{ this }} is 'orders_removed_at={{ run_started_at }}';
    end if;
end
$$
{% else %}
comment on table {{ this }} is 'orders_removed_at={{ run_started_at }}'
{% endif %}
{% endmacro %}


{#- when fct_orders last removed orders (or was built whole): null when it does not say (a table
    built before it recorded that), which its readers take as "any time" -#}
{% macro orders_removed_at() -%}
    (select nullif(split_part(
        obj_description(to_regclass({{ dbt.string_literal(ref('fct_orders')) }}), 'pg_class'),
        'orders_removed_at=', 2), '')::timestamptz)
{%- endmacro %}


{#
    fct_order_lines: a line stays only while its order is in fct_orders and was not refreshed
    after the line was written. Every order a night refreshes gets its lines rewritten
    (delete+insert by order), so what this deletes is the lines of orders that left
    fct_orders, or that the night refreshed but which have no lines left; and ERP lines
    deleted in the ERP. Every line is checked only when fct_orders removed orders since the
    lines were last written (orders_removed_at); otherwise only the lines of the orders refreshed
    since, found by their index on `order_id` (a whole check reads both tables: about 1 s at
    100,000 customers). The index must be there first (the model's ensure_indexes post-hook runs before
    this one): without it PostgreSQL compares every line with every refreshed order (30 s).
#}
{% macro remove_vanished_order_lines() %}
{% if is_incremental() %}
do $$
declare
    -- the start of the last build that wrote lines before this one
    lines_written_at timestamptz := (
        select max(refreshed_at) from {{ this }} where refreshed_at < '{{ run_started_at }}'::timestamptz
    );
    orders_removed_at timestamptz := {{ orders_removed_at() }};
begin
    if lines_written_at is null or orders_removed_at is null or orders_removed_at > lines_written_at then
        delete from {{ this }} as lines
        where not exists (
            select 1 from {{ ref('fct_orders') }} as orders
            where orders.order_id = lines.order_id and orders.refreshed_at <= lines.refreshed_at
        );
    else
        -- of the orders refreshed since the lines were last written, the lines this build did not
        -- write (older than their order's refresh)
        delete from {{ this }} as lines
        where
            lines.order_id = any(array(
                select order_id from {{ ref('fct_orders') }} where refreshed_at > lines_written_at
            ))
            and lines.refreshed_at < '{{ run_started_at }}'::timestamptz;
    end if;
end
$$;

-- (a deleted line's order is recomputed, but when it was the order's last line nothing
-- replaces the old rows)
delete from {{ this }} as lines
using {{ ref('stg_odoo__sale_order_lines') }} as erp_lines
where erp_lines.sale_order_line_id = lines.odoo_sale_order_line_id and erp_lines.is_deleted
{% else %}
select 1
{% endif %}
{% endmacro %}


{#
    Hook: an index on each of `columns` of the table unless it has one (a first build, a full
    refresh and a table built before the index was asked for all get it; PostgreSQL names it), in
    one statement. As a pre-hook too when the model's own query looks rows up through the indexes:
    the first night after an upgrade then has them before the query runs (without them, each lookup
    reads the whole table); a table that does not exist yet is left to the post-hook.
#}
{% macro ensure_indexes(columns) %}
do $$
begin
    if to_regclass({{ dbt.string_literal(this) }}) is null then
        return;
    end if;
    {%- for column in columns %}
    if not exists (
        select 1 from pg_index
        inner join pg_attribute
            on pg_attribute.attrelid = pg_index.indrelid and pg_attribute.attnum = pg_index.indkey[0]
        where pg_index.indrelid = to_regclass({{ dbt.string_literal(this) }})
            and pg_index.indnkeyatts = 1 and pg_attribute.attname = {{ dbt.string_literal(column) }}
    ) then
        create index on {{ this }} ({{ adapter.quote(column) }});
    end if;
    {%- endfor %}
end
$$
{% endmacro %}


{#
    The incremental facts' scope switch: true on an incremental run whose table already has
    `column` (the refresh stamp the scope is read from). False on a first build, a full
    refresh, and the first night after an upgrade from a table built before the column
    existed: those nights compute every row (and on_schema_change adds the column).
#}
{% macro is_incremental_with(column) %}
    {%- if not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {{ return(column in names) }}
{% endmacro %}


{#
    Config and source filter of the staging models kept as incremental tables (the large
    objects, and those a night reads several times: orders, their lines, invoices, payments,
    customers). Views over the raw JSON would make every night parse every record again, several
    times over (a customer record: for its column checks, its identity keys and data_issues);
    these tables parse a record once, when it lands, and a night reads only what landed since the
    last run (minus var `incremental_lookback_hours`). The unique key is the raw record's
    `source_id` (always there, even when the record's own id cannot be read; `unique_key` names the
    column a model keeps it in under another name): delete+insert replaces the rows of every
    re-landed record (for shop order lines, all lines of the order). `lookups`: columns a later
    model looks a night's few rows up by, indexed (macro ensure_indexes, so a warehouse built before
    gets them on its next night, before the marts read them).
#}
{% macro landed_staging_config(pre_hook=none, unique_key='source_id', lookups=[]) %}
{{ config(
    materialized='incremental',
    unique_key=unique_key,
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': [unique_key]}],
    pre_hook=pre_hook or [],
    post_hook=(["{{ ensure_indexes(" ~ (lookups | tojson) ~ ") }}"] if lookups else []) + ["{{ analyze_table() }}"],
) }}
{% endmacro %}

{#
    Pre-hook of a staging model with several rows per landed record (shop order lines):
    forget the rows of every record that landed again since they were parsed, so that one
    which now yields no rows (its lines gone or unreadable) does not keep its old ones. Rows
    parsed from the newest landing stay, so the model's own window does not move.
#}
{% macro delete_relanded(landed) %}
{% if is_incremental() %}
delete from {{ this }} as staged
using (select source_id, _loaded_at from {{ landed }} {{ landed_since_last_run() }}) as relanded
where relanded.source_id = staged.source_id and relanded._loaded_at > staged.loaded_at
{% else %}
select 1
{% endif %}
{% endmacro %}

{% macro landed_since_last_run() %}
{% if is_incremental() %}
where _loaded_at > (select {{ looked_back('loaded_at') }} from {{ this }})
{% endif %}
{% endmacro %}

{#
    Where an incremental night starts reading: the newest `column` of this table, minus var
    `incremental_lookback_hours` (for loads committing while the previous run was reading).
    An aggregate: select it from {{ this }}.
#}
{% macro looked_back(column) -%}
coalesce(max({{ column }}), '-infinity'::timestamptz) - make_interval(hours => {{ var('incremental_lookback_hours') }})
{%- endmacro %}
