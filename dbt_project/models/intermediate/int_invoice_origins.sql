{{ config(
    materialized='incremental',
    unique_key='source_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['source_id']}, {'columns': ['sale_order_name']}],
) }}

{#
    The sale orders each ERP invoice names (`invoice_origin`: one invoice may name several,
    `S00041, S00042`), one row per invoice and name, with what order-to-cash reads of the invoice.
    Kept by invoice: a night rewrites the rows of the invoices landed since (read from
    base_odoo__invoices, so that a landing staging quarantines counts too, minus var
    `incremental_lookback_hours`). A name a landed invoice no longer carries (another origin typed,
    the invoice quarantined) stays as a row with `names_sale_order` false, `refreshed_at` the night
    it stopped: so an incremental fct_orders recomputes the sale order an invoice left as well as
    the one it names (`refreshed_at` since its last run), and fct_order_to_cash those orders.
#}

with

landed as (
    select source_id, loaded_at from {{ ref('base_odoo__invoices') }}
    {% if is_incremental() %}
    where loaded_at > (select {{ looked_back('landed_at') }} from {{ this }})
    {% endif %}
),

named as (
    select
        invoices.source_id,
        invoices.invoice_id,
        trim(origins.sale_order_name) as sale_order_name,
        true as names_sale_order,
        invoices.move_type,
        invoices.state,
        invoices.payment_state,
        invoices.is_deleted,
        invoices.is_dian_tracked,
        invoices.dian_state,
        invoices.invoice_date,
        invoices.due_date,
        invoices.amount_residual,
        invoices.updated_at,
        invoices.loaded_at as landed_at,
        '{{ run_started_at }}'::timestamptz as refreshed_at
    from {{ ref('stg_odoo__invoices') }} as invoices
    cross join lateral unnest(string_to_array(invoices.invoice_origin, ',')) as origins (sale_order_name)
    {% if is_incremental() %}
    where invoices.source_id in (select source_id from landed)
    {% endif %}
)

select * from named
{% if is_incremental() %}
union all
-- what a landed invoice named before and names no more
select
    previous.source_id,
    previous.invoice_id,
    previous.sale_order_name,
    false as names_sale_order,
    previous.move_type,
    previous.state,
    previous.payment_state,
    previous.is_deleted,
    previous.is_dian_tracked,
    previous.dian_state,
    previous.invoice_date,
    previous.due_date,
    previous.amount_residual,
    previous.updated_at,
    landed.loaded_at as landed_at,
    case when previous.names_sale_order then '{{ run_started_at }}'::timestamptz else previous.refreshed_at end
        as refreshed_at
from {{ this }} as previous
inner join landed
    on previous.source_id = landed.source_id
where not exists (
    select 1 from named
    where named.source_id = previous.source_id and named.sale_order_name = previous.sale_order_name
)
{% endif %}
