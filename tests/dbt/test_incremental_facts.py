"""fct_orders and fct_order_lines are incremental: a night touching a few orders rewrites only
those, and ends with exactly the rows a full rebuild gives.

Night 1 is the scenario. Night 2 lands: a new web order #1045 of María and the ERP sale order
S00046 entered from it under a new partner of hers (with its line); the payment of
Distribuciones' invoice INV/2026/00043; the deletion of the guest order #1044; the confirmation
of Carlos' quotation S00044; and an operator merge of María into Juan Pérez, so that her
untouched order #1043 changes customer.
"""

from __future__ import annotations

import copy

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from scenario import ODOO, SHOPIFY, _order, _updated_at, load_raw

from puente import warehouse
from puente.dbt import MAIN_BUILD_ARGS, run_dbt

FACTS = {"fct_orders": "order_id", "fct_order_lines": "order_line_id"}


def _upsert(url: str, source: str, obj: str, records: list[dict], deleted: bool = False) -> None:
    table = warehouse.raw_object(source, obj).qualified_table
    with psycopg.connect(url) as conn:
        for record in records:
            conn.execute(
                f"insert into {table} (source_id, record, source_updated_at, _batch_id, _deleted) "
                "values (%s, %s, %s, 'test-batch-2', %s) on conflict (source_id) do update set "
                "record = excluded.record, source_updated_at = excluded.source_updated_at, "
                "_batch_id = excluded._batch_id, _deleted = excluded._deleted, _loaded_at = now()",
                (str(record["id"]), Jsonb(record), _updated_at(source, record), deleted))


def _night_2(url: str) -> None:
    new_web_order = _order(5004, "#1045", {"id": 7002, "email": "maria.lopez@example.com", "first_name": "María",
                                           "last_name": "López", "phone": None},
                           "2026-11-22T09:00:00-05:00", "129900.00")
    _upsert(url, "shopify", "orders", [new_web_order])
    quotation = copy.deepcopy(next(o for o in ODOO["sale.order"] if o["name"] == "S00044"))
    quotation.update(state="sale", write_date="2026-11-22 10:00:00")
    entered = copy.deepcopy(quotation)
    entered.update(id=205, name="S00046", partner_id=[106, "María López"], client_order_ref="#1045",
                   date_order="2026-11-22 14:05:00", create_date="2026-11-22 14:05:00")
    _upsert(url, "odoo", "sale.order", [quotation, entered])
    partner = copy.deepcopy(ODOO["res.partner"][0])
    partner.update(id=106, name="María López", email="maria.lopez@example.com", phone=False, vat=False,
                   city="Cali", customer_rank=1, write_date="2026-11-22 14:04:00")
    _upsert(url, "odoo", "res.partner", [partner])
    _upsert(url, "odoo", "sale.order.line", [{
        "id": 302, "order_id": [205, "S00046"], "product_id": [11, "[HAM-16] Martillo 16oz"],
        "product_uom_qty": 2.0, "price_unit": 54579.83, "price_subtotal": 109159.66,
        "create_date": "2026-11-22 14:05:00", "write_date": "2026-11-22 14:05:00"}])
    invoice = copy.deepcopy(next(m for m in ODOO["account.move"] if m["name"] == "INV/2026/00043"))
    invoice.update(amount_residual=0.0, payment_state="paid", write_date="2026-11-22 11:00:00")
    _upsert(url, "odoo", "account.move", [invoice])
    guest = next(o for o in SHOPIFY["orders"] if o["name"] == "#1044")
    _upsert(url, "shopify", "orders", [guest], deleted=True)
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into ops.customer_match_overrides (record_key, other_record_key, action, reason, decided_by) "
            "values ('shopify_customer:7002', 'odoo_partner:101', 'merge', 'María is Juan''s shop alias', 'test')")


def _facts(url: str) -> dict[str, dict[str, dict]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {
            fact: {row[key]: row for row in conn.execute(f"select * from marts.{fact}")}
            for fact, key in FACTS.items()
        }


def _without_refresh(rows: dict[str, dict]) -> dict[str, dict]:
    return {key: {k: v for k, v in row.items() if k != "refreshed_at"} for key, row in rows.items()}


@pytest.fixture(scope="module")
def nights(module_db: str) -> dict[str, dict]:
    load_raw(module_db)
    run_dbt(list(MAIN_BUILD_ARGS), module_db)
    first = _facts(module_db)
    _night_2(module_db)
    # no look-back: everything here landed within the hour, and the test is what a night re-reads
    run_dbt([*MAIN_BUILD_ARGS, "--vars", '{"incremental_lookback_hours": 0}'], module_db)
    incremental = _facts(module_db)
    run_dbt(["build", "--full-refresh", "--select", *FACTS], module_db)
    return {"first": first, "incremental": incremental, "rebuilt": _facts(module_db)}


def test_incremental_night_ends_with_the_rows_of_a_full_rebuild(nights):
    for fact in FACTS:
        assert _without_refresh(nights["incremental"][fact]) == _without_refresh(nights["rebuilt"][fact]), fact


def test_incremental_night_saw_every_kind_of_change(nights):
    orders = {row["order_name"]: row for row in nights["incremental"]["fct_orders"].values()}
    before = {row["order_name"]: row for row in nights["first"]["fct_orders"].values()}
    assert "#1045" in orders and orders["#1045"]["odoo_sale_order_name"] == "S00046"
    assert "S00046" not in orders  # carried by the web order, not an ERP order of its own
    assert "#1044" in before and "#1044" not in orders
    assert "S00044" not in before and orders["S00044"]["status"] == "confirmed"
    assert (before["S00043"]["payment_status"], orders["S00043"]["payment_status"]) == ("not_paid", "paid")
    juan = before["#1042"]["customer_id"]
    assert before["#1043"]["customer_id"] != juan
    assert orders["#1043"]["customer_id"] == orders["#1045"]["customer_id"] == orders["#1042"]["customer_id"] == juan
    lines = [row for row in nights["incremental"]["fct_order_lines"].values()
             if row["order_id"] == orders["#1045"]["order_id"]]
    assert [(line["line_source"], line["odoo_sale_order_line_id"]) for line in lines] == [("odoo", 302)]


def test_orders_nothing_touched_are_not_rewritten(nights):
    first = nights["first"]["fct_orders"]
    later = nights["incremental"]["fct_orders"]
    juan = next(key for key, row in first.items() if row["order_name"] == "#1042")
    assert later[juan]["refreshed_at"] == first[juan]["refreshed_at"]
    assert later[juan] == first[juan]
    assert any(row["refreshed_at"] > first[juan]["refreshed_at"] for row in later.values())
