"""WooCommerce staging over what the connector landed from the simulated store: guests, the trash,
WordPress's UTC dates, lines unnested with the ERP's SKUs, and a value that cannot be typed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
from psycopg.rows import dict_row

from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry

TODAY = date(2026, 11, 16)


def rows(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def test_staging_types_the_store_as_landed(fresh_db):
    business = Business(seed=3, customers=80, start=TODAY, history_days=120, woocommerce=True)
    orders = business.woocommerce["orders"]
    trashed = next(o["id"] for o in orders.values() if o["status"] == "completed")
    business.archive("woocommerce", "orders", trashed)
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        config = registry.simulator_configs(server.base_url, credentials)["woocommerce"]
        night = extract_source(fresh_db, "woocommerce", config, TODAY)
    assert all(s["status"] == "ok" for s in night.values())
    broken = next(o["id"] for o in orders.values() if o["id"] != trashed)
    with psycopg.connect(fresh_db) as conn:  # a total no one can read (a plugin writing text)
        conn.execute("update raw.woocommerce_orders set record = jsonb_set(record, '{total}', '\"abc\"') "
                     "where source_id = %s", (str(broken),))
    run_dbt(["build", "--select", "path:models/staging/woocommerce"], fresh_db)

    staged = {r["order_id"]: r for r in rows(fresh_db, "select * from staging.stg_woocommerce__orders")}
    assert set(staged) == set(orders) - {broken}
    (issue,) = rows(fresh_db, "select data_issues from staging.base_woocommerce__orders where order_id = %s", broken)
    assert issue["data_issues"] == [{"field": "total", "value": "abc", "reason": "not a number", "quarantines": True}]
    assert staged[trashed]["is_deleted"] and staged[trashed]["order_status"] == "trash"
    for oid, row in staged.items():
        source = orders[oid]
        assert row["is_guest"] == (source["customer_id"] == 0)
        assert row["customer_id"] == (source["customer_id"] or None)
        assert row["email"] == source["billing"]["email"]
        assert row["amount_total"] == float(source["total"])
        assert row["created_at"] == datetime.fromisoformat(source["date_created_gmt"]).replace(tzinfo=UTC)
    assert any(r["is_guest"] for r in staged.values()) and not all(r["is_guest"] for r in staged.values())

    lines = rows(fresh_db, "select sku, amount, discount_amount from staging.stg_woocommerce__order_lines")
    # (a line is quarantined on its own values: the unreadable total keeps the order out, not its lines)
    assert len(lines) == sum(len(o["line_items"]) for o in orders.values())
    erp_skus = {p["default_code"] for p in business.odoo["product.product"].values()}
    assert {line["sku"] for line in lines} <= erp_skus and all(line["discount_amount"] == 0 for line in lines)
    customers = rows(fresh_db, "select customer_id, email, updated_at from staging.stg_woocommerce__customers")
    assert {c["customer_id"] for c in customers} == set(business.woocommerce["customers"])
    products = rows(fresh_db, "select sku, price, is_active from staging.stg_woocommerce__products")
    assert len(products) == len(business.woocommerce["products"]) and all(p["is_active"] for p in products)
