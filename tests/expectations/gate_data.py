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
select 'odoo-res.partner-0', 'odoo', 'res.partner', 'x' || n, '{}', 'missing id' from generate_series(1, 5) as n;
insert into ops.quarantine (batch_id, source, object, source_id, payload, reason) values
    ('odoo-res.partner-1', 'odoo', 'res.partner', '103', '{"id": 103, "write_date": 7}', 'write_date is not a datetime'),
    ('odoo-res.partner-1', 'odoo', 'res.partner', '104', '{"id": 104, "write_date": 7}', 'write_date is not a datetime');
"""

MARTS = """
create schema marts;
create table marts.dim_customers (customer_id text, full_name text);
insert into marts.dim_customers values ('c1', 'Juan Pérez'), ('c2', 'Lucía Gómez');
create table marts.fct_orders (
    order_id text, customer_id text, ordered_at timestamptz, amount_total numeric, currency_code text
);
insert into marts.fct_orders values
    ('o1', 'c1', now() - interval '1 day', 129900.00, 'COP'),
    ('o2', 'c2', now() - interval '30 days', 0, 'USD');
create table marts.crm_contact_scores_sync (
    hubspot_contact_id text, customer_id text, properties jsonb, scored_at timestamptz
);
insert into marts.crm_contact_scores_sync values
    ('501', 'c1', '{"puente_churn_score": "0.7346", "puente_churn_risk": "high",
                    "puente_scored_at": "2026-11-22T03:00:00.000Z"}', now()),
    ('503', 'c2', '{"puente_churn_score": "0.0500", "puente_churn_risk": "low",
                    "puente_scored_at": "2026-11-22T03:00:00.000Z"}', now());
"""


def execute(url: str, sql: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(sql)
