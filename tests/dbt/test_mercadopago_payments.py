"""Mercado Pago payments in the warehouse: a business paid through it, served by the simulators,
landed by the connectors and built by dbt; every payment matched to the invoice or web order its
reference names, the reconciliation with the ERP found from the business's own records, and
order-to-cash taking its payment stage from the provider."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from puente import report
from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry

TODAY = date(2026, 11, 16)
BUILD = ["build", "--select", "+payment_reconciliation", "+fct_order_to_cash", "+bi_fct_payments",
         "+bi_payment_reconciliation", "--indirect-selection", "cautious"]
AS_OF = {"PUENTE_AS_OF_DATE": TODAY.isoformat()}  # the day the models measure from
COLLECTED = ("approved", "refunded", "charged_back")
ISSUE_ORDER = ["paid_not_in_erp", "paid_not_marked_paid", "cancelled_not_refunded", "refund_not_in_erp",
               "marked_paid_no_payment", "currency_mismatch", "amount_mismatch", "unknown_reference", "matched"]


def rows(url: str, sql: str) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def expected_issues(business: Business) -> dict[str, set[str]]:
    """What a careful accountant comparing the Mercado Pago statement with the ERP would find, per
    reference, from the simulated systems' records themselves (every payment is within the grace
    days' reach but today's: the reconciliation is measured on TODAY)."""
    moves = [m for m in business.odoo["account.move"].values() if m["move_type"] == "out_invoice"]
    posted = {m["name"]: m for m in moves if m["state"] == "posted"}
    # issued: in Colombia once the DIAN accepted it (an invoice it has not is not issued yet)
    by_name = {n: m for n, m in posted.items()
               if "l10n_co_dian_state" not in m or m["l10n_co_dian_state"] == "invoice_accepted"}
    sale_orders = {o["name"]: o for o in business.odoo["sale.order"].values()}
    shop = {o["name"]: o for o in business.shopify["orders"].values()}
    payments = defaultdict(list)
    for p in business.mercadopago["payments"].values():
        payments[p["external_reference"]].append(p)
    found: dict[str, set[str]] = {}
    for reference, paid in payments.items():
        collected = sum(p["transaction_amount"] for p in paid if p["status"] in COLLECTED)
        refunded = sum(p["transaction_amount_refunded"] for p in paid)
        charged = sum(p["transaction_amount"] for p in paid if p["status"] == "charged_back")
        net = sum(p["transaction_amount"] - p["transaction_amount_refunded"] for p in paid if p["status"] == "approved")
        approved = [p["date_approved"] for p in paid if p["status"] in COLLECTED]
        recent = bool(approved) and min(approved)[:10] >= "2026-11-13"
        if reference in posted:
            invoices, cancelled = [by_name[reference]] if reference in by_name else [], False
        else:
            order = shop[reference]
            cancelled = order["cancelled_at"] is not None
            names = {n for n, so in sale_orders.items() if so["client_order_ref"] == reference}
            invoices = [m for m in by_name.values() if m["invoice_origin"] in names]
        marked = bool(invoices) and all(m["payment_state"] in ("paid", "in_payment") for m in invoices)
        total = sum(m["amount_total"] for m in invoices)
        issues = set()
        if reference not in posted and not invoices and not cancelled and net > 1 and not recent:
            issues.add("paid_not_in_erp")
        if invoices and net > 1 and not marked and not recent:
            issues.add("paid_not_marked_paid")
        if cancelled and net > 1:
            issues.add("cancelled_not_refunded")
        if refunded > 0 and marked:
            issues.add("refund_not_in_erp")
        if marked and refunded == 0 and net <= 1:
            issues.add("marked_paid_no_payment")
        if invoices and net > 1 and abs(collected - charged - total) > 1:
            issues.add("amount_mismatch")
        found[reference] = issues
    return found


def test_payments_are_matched_reconciled_with_the_erp_and_give_order_to_cash_its_payment_stage(fresh_db):
    business = Business(seed=3, customers=200, start=TODAY, history_days=150, mercadopago=True)
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        for name, config in registry.simulator_configs(server.base_url, credentials).items():
            extract_source(fresh_db, name, config, TODAY)
    run_dbt(BUILD, fresh_db, env=AS_OF)

    payments = {str(p["id"]): p for p in business.mercadopago["payments"].values()}
    facts = {str(f["payment_id"]): f for f in rows(fresh_db, "select * from marts.fct_payments")}
    assert set(facts) == set(payments) and len(payments) > 60
    invoice_names = {m["name"] for m in business.odoo["account.move"].values() if m["state"] == "posted"}
    for pid, fact in facts.items():
        paid = payments[pid]
        kind = "invoice" if paid["external_reference"] in invoice_names else "order"
        assert fact["reference_kind"] == kind, pid
        assert fact["order_id"] is not None or kind == "invoice"
        assert float(fact["fee_amount"]) == sum(f["amount"] for f in paid["fee_details"])
        assert float(fact["net_amount"]) == (paid["transaction_amount"] - paid["transaction_amount_refunded"]
                                             if paid["status"] == "approved" else 0)

    reconciled = {r["external_reference"]: r for r in rows(fresh_db, "select * from marts.payment_reconciliation")}
    want = expected_issues(business)
    assert {ref: set(r["issues"]) for ref, r in reconciled.items()} == want
    kinds = {issue for issues in want.values() for issue in issues}
    assert {"paid_not_in_erp", "refund_not_in_erp", "amount_mismatch"} <= kinds, kinds
    assert any(not issues for issues in want.values()), "most references reconcile"
    for reference, row in reconciled.items():
        approved = [p for p in business.mercadopago["payments"].values()
                    if p["external_reference"] == reference and p["status"] in COLLECTED]
        assert float(row["fee_amount"]) == sum(f["amount"] for p in approved for f in p["fee_details"])

    # Order-to-cash: a web order the provider collected in full is paid, by the provider, at its approval.
    stages = {r["order_name"]: r for r in rows(fresh_db, """
        select o.order_name, c.stage, c.payment_source, c.paid_at, c.provider_net_amount, c.days_to_cash
        from marts.fct_order_to_cash c join marts.fct_orders o using (order_id)
        where o.channel = 'web' and o.source_system = 'shopify'""")}
    by_provider = 0
    for reference, paid in ((r, [p for p in payments.values() if p["external_reference"] == r]) for r in want):
        if reference not in stages:
            continue
        order = stages[reference]
        approved = [p for p in paid if p["status"] == "approved"]
        net = sum(p["transaction_amount"] - p["transaction_amount_refunded"] for p in approved)
        shop_total = float(next(o for o in business.shopify["orders"].values() if o["name"] == reference)["total_price"])
        if order["stage"] != "cancelled" and net >= shop_total - 1:
            by_provider += 1
            assert (order["stage"], order["payment_source"]) == ("paid", "provider"), reference
            assert order["paid_at"] == max(datetime.fromisoformat(p["date_approved"]) for p in approved), reference
            assert 0 <= order["days_to_cash"] <= 1, reference  # paid at the checkout, the day it was placed
    assert by_provider > 20

    # What the demo prints of it.
    with psycopg.connect(fresh_db, row_factory=dict_row) as conn:
        line = report.payments_line(report.payment_issues(conn))
    counts = {i: sum(1 for issues in want.values() if (issues and sorted(issues, key=ISSUE_ORDER.index)[0] == i)
                     or (not issues and i == "matched")) for i in ISSUE_ORDER}
    assert line.startswith(f"[bold]Payments[/] {len(want)} references paid through the provider: matched "
                           f"{counts['matched']}, ")
    assert all(f"{issue} {n}" in line for issue, n in counts.items() if n)

    # Nights later: refunds and chargebacks of earlier payments land (the shop's orders may not change
    # with them); order-to-cash, kept by order, ends as a full rebuild would make it.
    before = {r["order_id"]: r for r in rows(fresh_db, "select * from marts.fct_order_to_cash")}
    with SimulatorServer(create_app(business, credentials)) as server:
        for _ in range(20):
            business.advance_day()
        configs = registry.simulator_configs(server.base_url, credentials)
        for name in ("odoo", "shopify", "mercadopago"):
            extract_source(fresh_db, name, configs[name], TODAY + timedelta(days=20))
    later = {"PUENTE_AS_OF_DATE": (TODAY + timedelta(days=20)).isoformat()}
    # (no look-back: everything here landed within the hour, and the test is what a night re-reads)
    run_dbt([*BUILD, "--vars", '{"incremental_lookback_hours": 0}'], fresh_db, env=later)
    kept = {r["order_id"]: r for r in rows(fresh_db, "select * from marts.fct_order_to_cash")}
    untouched = {r["order_id"] for r in rows(fresh_db, """
        select order_id from marts.fct_orders where refreshed_at < (select max(refreshed_at) from marts.fct_orders)""")}
    repaid = [order_id for order_id in untouched & set(before)
              if kept[order_id]["provider_net_amount"] != before[order_id]["provider_net_amount"]]
    assert repaid, "a payment changed on an order the shop and the ERP left alone"
    run_dbt(["run", "--full-refresh", "--select", "fct_order_to_cash"], fresh_db, env=later)
    assert {r["order_id"]: r for r in rows(fresh_db, "select * from marts.fct_order_to_cash")} == kept
