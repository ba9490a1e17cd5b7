"""Hand-made warehouse states for the gate tests: raw landings with their batch bookkeeping, and
marts shaped like the dbt models the gates read (tests/dbt runs the gates on real dbt output)."""

from __future__ import annotations

import psycopg

LOGICAL_DATE = "2026-11-21"

RAW = """
insert into raw.odoo_res_partner (source_id, record, source_updated_at, _batch_id) values
    ('101', '{"id": 101, "name": "Juan Pérez"}', '2026-11-21 09:00+00', 'odoo-res.partner-1'),
    ('102', '{"id": 102, "name": "Carlos Gómez"}', '2026-11-21 09:05+00', 'odoo-res.partner-1');
insert into raw.shopify_orders (source_id, record, source_updated_at, _batch_id) values
    ('5001', '{"id": 5001, "name": "#1042"}', '2026-11-21 15:31+00', 'shopify-orders-1');
insert into ops.load_batches (batch_id, source, object, logical_date, status, rows_received) values
    ('odoo-res.partner-0', 'odoo', 'res.partner', '2026-11-20', 'succeeded', 10),
    ('odoo-res.partner-1', 'odoo', 'res.partner', '2026-11-21', 'succeeded', 100),
    ('shopify-orders-1', 'shopify', 'orders', '2026-11-21', 'succeeded', 40);
insert into ops.quarantine (batch_id, source, object, source_id, payload, reason)
select 'odoo-res.partner-0', 'odoo', 'res.partner', 'x' || n, '{}', 'missing id' from generate_series(1, 10) as n;
insert into ops.quarantine (batch_id, source, object, source_id, payload, reason) values
    ('odoo-res.partner-1', 'odoo', 'res.partner', '103', '{"id": 103, "write_date": 7}', 'write_date is not a datetime'),
    ('odoo-res.partner-1', 'odoo', 'res.partner', '104', '{"id": 104, "write_date": 7}', 'write_date is not a datetime');
"""

MARTS = """
create schema marts;
create table marts.dim_customers (
    customer_id text, full_name text, odoo_partner_ids text[], hubspot_contact_ids text[], shopify_customer_ids text[],
    woocommerce_customer_ids text[],
    tiendanube_customer_ids text[]
);
insert into marts.dim_customers values
    ('c1', 'Juan Pérez', '{101}', '{501,502}', '{}', '{}', '{48100024}'),
    ('c2', 'Lucía Gómez', '{103}', '{503}', '{}', '{31}', '{}');
create table marts.fct_orders (
    order_id text, customer_id text, ordered_at timestamptz, amount_total numeric, currency_code text
);
insert into marts.fct_orders values
    ('o1', 'c1', now() - interval '1 day', 129900.00, 'COP'),
    ('o2', 'c2', now() - interval '30 days', 0, 'USD');
create table marts.fct_order_lines (
    order_line_id text, order_id text, product_id text, quantity numeric, amount numeric
);
insert into marts.fct_order_lines values
    ('l1', 'o1', 'p1', 2, 109159.66),
    ('l2', 'o2', 'p1', 1, 0);
create table marts.fct_order_to_cash (
    order_id text, days_to_erp numeric, days_to_invoice integer, days_to_payment integer
);
insert into marts.fct_order_to_cash values ('o1', 0.01, 0, 3), ('o2', 0, null, null);
create table marts.einvoice_issues (
    invoice_id bigint, invoice_name text, customer_id text, invoice_date date, dian_state text,
    days_pending integer, reason text
);
insert into marts.einvoice_issues values
    (402, 'INV/2026/00043', 'c2', '2026-11-20', 'invoice_pending', 1, 'sent to the DIAN, still being validated');
create table marts.customer_required_fields_missing (
    customer_id text, display_name text, system text, field text, fix_in text
);
create schema activations;
create table activations.act_crm_contact_scores (
    row_key text, target_id text, external_key text, payload jsonb, compare jsonb, observed_at timestamptz,
    invalid_reason text, customer_id text, context jsonb
);
insert into activations.act_crm_contact_scores (row_key, target_id, customer_id, payload) values
    ('501', '501', 'c1', '{"puente_churn_score": "0.7346", "puente_churn_risk": "high",
                    "puente_next_action": "retention_call", "puente_scored_at": "2026-11-22T03:00:00.000Z"}'),
    ('503', '503', 'c2', '{"puente_churn_score": "0.0500", "puente_churn_risk": "low",
                    "puente_scored_at": "2026-11-22T03:00:00.000Z"}'),
    ('504', '504', 'c3', '{"puente_churn_score": "", "puente_churn_risk": "", "puente_next_action": "",
                    "puente_scored_at": "", "puente_churn_reasons": "Not scored any more"}');
"""


def execute(url: str, sql: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(sql)
