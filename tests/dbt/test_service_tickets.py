"""Service tickets in the warehouse: a business's HubSpot tickets, served by the simulator, landed by
the connector and built by dbt into fct_service_tickets and customer_service_summary, compared with
the tickets the simulated service desk holds."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry

TODAY = date(2026, 11, 16)
COMPLAINTS = {"PRODUCT_ISSUE", "BILLING_ISSUE", "DELIVERY_ISSUE"}
BUILD = ["build", "--select", "+customer_service_summary", "+bi_fct_service_tickets", "+bi_customer_service_summary",
         "--indirect-selection", "cautious"]
AS_OF = {"PUENTE_AS_OF_DATE": TODAY.isoformat()}  # the day the models measure from


def rows(url: str, sql: str) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 2)


def test_tickets_are_modelled_to_resolution_per_ticket_and_per_customer(fresh_db):
    business = Business(seed=5, customers=300, start=TODAY, history_days=240)
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        configs = registry.simulator_configs(server.base_url, credentials)
        for name in ("odoo", "hubspot", "shopify"):
            extract_source(fresh_db, name, configs[name], TODAY)
    run_dbt(BUILD, fresh_db, env=AS_OF)

    tickets = {str(rid): t for rid, t in business.hubspot["tickets"].items() if not t["archived"]}
    facts = {f["ticket_id"]: f for f in rows(fresh_db, "select * from marts.fct_service_tickets")}
    assert set(facts) == set(tickets) and len(tickets) > 40
    contacts = {rid: rows for rid, rows in business.hubspot_associations.items() if rid[0] == "tickets"}
    for tid, ticket in tickets.items():
        fact, props = facts[tid], ticket["properties"]
        opened = ts(props["createdate"])
        assert fact["source_system"] == "hubspot"
        assert fact["crm_contact_id"] == str(contacts[("tickets", int(tid))]["contacts"][0])
        assert fact["customer_id"] is not None, tid  # every ticket's contact is a customer record
        assert fact["is_complaint"] == (props["hs_ticket_category"] in COMPLAINTS)
        assert fact["is_open"] == ("closed_date" not in props)
        assert fact["is_reopened"] == ("hs_v2_date_exited_4" in props) == (fact["reopened_count"] == 1)
        assert fact["opened_at"] == opened
        assert _float(fact["hours_to_first_response"]) == hours(opened, ts(props.get("first_agent_reply_date")))
        assert _float(fact["hours_to_resolution"]) == hours(opened, ts(props.get("closed_date")))
    states = {(f["is_open"], f["is_complaint"]) for f in facts.values()}
    assert states == {(True, True), (True, False), (False, True), (False, False)}, states
    assert sum(f["is_reopened"] for f in facts.values()) >= 3

    # Per customer: the desk's own tickets counted under the customer each ticket's contact belongs to.
    expected: dict[str, dict] = defaultdict(lambda: {"open_tickets": 0, "open_complaints": 0,
                                                     "tickets_last_90_days": 0, "resolutions": []})
    since = datetime.combine(TODAY - timedelta(days=90), datetime.min.time(), UTC)
    for tid, ticket in tickets.items():
        props, want = ticket["properties"], expected[facts[tid]["customer_id"]]
        is_open = "closed_date" not in props
        want["open_tickets"] += is_open
        want["open_complaints"] += is_open and props["hs_ticket_category"] in COMPLAINTS
        want["tickets_last_90_days"] += ts(props["createdate"]) >= since
        if not is_open:
            want["resolutions"].append(hours(ts(props["createdate"]), ts(props["closed_date"])))
    summary = {s["customer_id"]: s for s in rows(fresh_db, "select * from marts.customer_service_summary")}
    assert set(summary) == set(expected)
    for customer, want in expected.items():
        got = summary[customer]
        assert (got["open_tickets"], got["open_complaints"], got["tickets_last_90_days"]) == (
            want["open_tickets"], want["open_complaints"], want["tickets_last_90_days"]), customer
        median = statistics.median(want["resolutions"]) if want["resolutions"] else None
        if median is None:
            assert got["median_hours_to_resolution"] is None
        else:
            assert float(got["median_hours_to_resolution"]) == pytest.approx(median, abs=0.001)

    bi = rows(fresh_db, "select * from marts_bi.fct_service_tickets limit 1")[0]
    assert not {"subject", "ticket_id", "crm_contact_id"} & set(bi)


def _float(value) -> float | None:
    return None if value is None else round(float(value), 2)
