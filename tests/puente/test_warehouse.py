from __future__ import annotations

import psycopg
import pytest

from puente import warehouse


def test_second_start_reuses_the_running_server(warehouse_url):
    if "127.0.0.1" not in warehouse_url:
        pytest.skip("PUENTE_WAREHOUSE_URL points at an external server")
    assert warehouse.ensure_embedded() == warehouse_url


def test_schema_is_idempotent_and_complete(fresh_db):
    warehouse.ensure_schema(fresh_db)  # second time: no error, nothing duplicated
    with psycopg.connect(fresh_db) as conn:
        tables = {
            f"{s}.{t}"
            for s, t in conn.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('raw', 'ops', 'ml')"
            )
        }
    assert {o.qualified_table for o in warehouse.RAW_OBJECTS} <= tables
    assert {"ops.extract_state", "ops.load_batches", "ops.quarantine", "ops.crm_writeback",
            "ml.model_runs", "ml.churn_scores"} <= tables


def test_describe_hides_password():
    assert warehouse.describe("postgresql://bob:s3cret@db.example:5432/w") == "postgresql://bob@db.example:5432/w"


def test_raw_object_names():
    assert warehouse.raw_object("odoo", "sale.order.line").qualified_table == "raw.odoo_sale_order_line"
