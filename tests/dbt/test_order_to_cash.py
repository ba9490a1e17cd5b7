"""Order-to-cash over the scenario: each order's stage and the gaps mart on a later day."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.rows import dict_row

from puente.dbt import run_dbt


def rows(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def test_each_order_has_its_stage_and_won_deal(built_db):
    stages = {r["order_name"]: r for r in rows(built_db, "select * from marts.fct_order_to_cash")}
    assert {name: r["stage"] for name, r in stages.items()} == {
        "#1042": "paid", "S00043": "invoiced", "S00045": "in_erp", "#1044": "ordered", "#1043": "cancelled"}
    assert stages["#1042"]["crm_deal_id"] == "701"  # Juan's won deal, closed the day before
    assert (stages["#1042"]["days_to_invoice"], stages["#1042"]["days_to_payment"]) == (0, 0)
    # when each order was cancelled: Shopify dates it; a live order has no date
    cancelled = {r["order_name"]: r["cancelled_at"] for r in rows(built_db, "select * from marts.fct_orders")}
    assert cancelled.pop("#1043") == datetime(2026, 11, 10, 17, tzinfo=UTC)
    assert set(cancelled.values()) == {None}


@pytest.mark.parametrize("given_as", ["var", "environment"])
def test_gaps_on_a_later_day(built_db, given_as, monkeypatch):
    """The day comes from var as_of_date, or from PUENTE_AS_OF_DATE as the nightly DAG sets it."""
    if given_as == "var":
        run_dbt(["build", "--select", "order_to_cash_gaps", "--vars", "{as_of_date: '2027-01-10'}"], built_db)
    else:
        monkeypatch.setenv("PUENTE_AS_OF_DATE", "2027-01-10")
        run_dbt(["build", "--select", "order_to_cash_gaps"], built_db)
        monkeypatch.delenv("PUENTE_AS_OF_DATE")
    try:
        gaps = {(r["gap_type"], r["order_id"] or r["invoice_id"] or r["crm_deal_id"]): r
                for r in rows(built_db, "select * from marts.order_to_cash_gaps")}
        (guest,) = rows(built_db, "select order_id from marts.fct_orders where order_name = '#1044'")
        assert set(gaps) == {("web_order_not_in_erp", guest["order_id"]), ("invoice_unpaid_past_due", 402)}
        assert gaps[("invoice_unpaid_past_due", 402)]["days_open"] == 22  # due 2026-12-19
        # Weeks later the web order is older than the posting window: a person's, not Puente's.
        assert {key: gap["activation_posts"] for key, gap in gaps.items()} == {key: False for key in gaps}
    finally:
        run_dbt(["build", "--select", "order_to_cash_gaps"], built_db)
