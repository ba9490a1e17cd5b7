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
    assert {"ops.extract_state", "ops.load_batches", "ops.quarantine", "ops.activation_state",
            "ops.activation_audit", "ops.activation_issues", "ml.model_runs", "ml.churn_scores"} <= tables


def test_forecasts_of_an_earlier_version_gain_the_warehouse_key(fresh_db):
    """ml.demand_forecasts made with one row per product keeps its rows and gets warehouse_id in its key."""
    with psycopg.connect(fresh_db) as conn:
        conn.execute("drop table ml.demand_forecasts")
        conn.execute("create table ml.demand_forecasts (product_id text, forecast_date date, horizon_date date, "
                     "p50 float8, primary key (product_id, forecast_date, horizon_date))")
        conn.execute("insert into ml.demand_forecasts values ('p1', '2026-11-01', '2026-11-02', 1.5)")
    warehouse.ensure_schema(fresh_db)
    warehouse.ensure_schema(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        key = conn.execute(
            "select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum)) "
            "from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey) "
            "where i.indrelid = 'ml.demand_forecasts'::regclass and i.indisprimary").fetchone()[0]
        rows = conn.execute("select product_id, warehouse_id, p50 from ml.demand_forecasts").fetchall()
    assert key == ["product_id", "warehouse_id", "forecast_date", "horizon_date"]
    assert rows == [("p1", "", 1.5)]


def test_describe_hides_password():
    assert warehouse.describe("postgresql://bob:s3cret@db.example:5432/w") == "postgresql://bob@db.example:5432/w"


def test_raw_object_names():
    assert warehouse.raw_object("odoo", "sale.order.line").qualified_table == "raw.odoo_sale_order_line"
