"""Stripe in the warehouse: a business whose WooCommerce store's card checkout is Stripe's, served by
the simulators, landed by the connectors and built by dbt. Every charge lands in fct_payments in
pesos (Stripe's COP minor units divided by 100) with its fee from its balance transaction, matched
to the store order its metadata names; the reconciliation with the ERP is found from the
business's own records; order-to-cash takes the payment stage of the store's orders from Stripe."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry

TODAY = date(2026, 11, 16)
BUILD = ["build", "--select", "+payment_reconciliation", "+fct_order_to_cash", "+stg_stripe__payment_intents", "+data_issues",
         "--indirect-selection", "cautious", "--vars", json.dumps({"as_of_date": TODAY.isoformat()})]
BOGOTA = ZoneInfo("America/Bogota")


def rows(url: str, sql: str) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def pesos(minor: int) -> float:
    return minor / 100  # COP has two decimals in Stripe's API


def expected_issues(business: Business) -> dict[str, set[str]]:
    """What an accountant comparing the Stripe statement with the store and the ERP would find, per
    store order, from the simulated systems' records (the store's orders are in no ERP before
    Puente enters them; a trashed order is no order any more)."""
    store = business.woocommerce["orders"]
    charges = defaultdict(list)
    for charge in business.stripe["charges"].values():
        charges[int(charge["metadata"]["order_id"])].append(charge)
    found = {}
    for oid, paid in charges.items():
        ok = [c for c in paid if c["status"] == "succeeded"]
        net = sum(pesos(c["amount"] - c["amount_refunded"]) for c in ok if not c["disputed"] and not c["refunded"])
        approved = min((datetime.fromtimestamp(c["created"], UTC).astimezone(BOGOTA).date() for c in ok), default=None)
        past_grace = approved is not None and (TODAY - approved).days > 3
        order = store[oid]
        issues = set()
        if order["status"] == "trash":
            issues |= {"unknown_reference"} if net > 1 else set()
        elif order["status"] == "cancelled":
            issues |= {"cancelled_not_refunded"} if net > 1 else set()
        elif net > 1 and past_grace:
            issues.add("paid_not_in_erp")
        found[f"WC-{order['number']}"] = issues
    return found


def test_stripe_charges_land_in_pesos_are_reconciled_and_give_store_orders_their_payment_stage(fresh_db):
    business = Business(seed=5, customers=200, start=TODAY, history_days=150, woocommerce=True, stripe=True)
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        for name, config in registry.simulator_configs(server.base_url, credentials).items():
            extract_source(fresh_db, name, config, TODAY)
    run_dbt(BUILD, fresh_db)

    charges = business.stripe["charges"]
    fee = {t["source"]: t for t in business.stripe["balance_transactions"].values() if t["type"] == "charge"}
    facts = {f["payment_id"]: f for f in rows(fresh_db, "select * from marts.fct_payments where provider = 'stripe'")}
    assert set(facts) == set(charges) and len(charges) > 40
    statuses = set()
    for cid, fact in facts.items():
        charge = charges[cid]
        order = business.woocommerce["orders"][int(charge["metadata"]["order_id"])]
        assert fact["currency_code"] == "COP" and float(fact["amount"]) == float(order["total"]), cid
        assert float(fact["refunded_amount"]) == pesos(charge["amount_refunded"])
        assert fact["external_reference"] == f"WC-{order['number']}"
        assert fact["reference_kind"] == ("unmatched" if order["status"] == "trash" else "order")
        status = ("rejected" if charge["status"] == "failed" else "charged_back" if charge["disputed"]
                  else "refunded" if charge["refunded"] else "approved")
        statuses.add(status)
        assert fact["payment_status"] == status, cid
        if charge["status"] == "succeeded":
            assert float(fact["fee_amount"]) == pesos(fee[cid]["fee"]) and float(fact["net_received_amount"]) == pesos(
                fee[cid]["net"])
            assert float(fact["fee_amount"]) > 0
        else:
            assert float(fact["fee_amount"]) == 0 and float(fact["collected_amount"]) == 0
    assert {"approved", "refunded", "rejected"} <= statuses, statuses

    reconciled = {r["external_reference"]: r for r in rows(
        fresh_db, "select * from marts.payment_reconciliation where provider = 'stripe'")}
    want = expected_issues(business)
    assert {ref: set(r["issues"]) for ref, r in reconciled.items()} == want
    assert any(issues == {"paid_not_in_erp"} for issues in want.values())
    assert any(not issues for issues in want.values())
    for reference, row in reconciled.items():
        paid = [c for c in charges.values() if facts[c["id"]]["external_reference"] == reference]
        assert float(row["fee_amount"]) == sum(pesos(fee[c["id"]]["fee"]) for c in paid if c["id"] in fee)

    # Order-to-cash: a store order Stripe collected in full is paid, by the provider, at the charge.
    stages = {r["woocommerce_order_id"]: r for r in rows(fresh_db, """
        select o.woocommerce_order_id, c.stage, c.payment_source, c.paid_at
        from marts.fct_order_to_cash c join marts.fct_orders o using (order_id)
        where o.source_system = 'woocommerce'""")}
    by_provider = 0
    for oid, order in business.woocommerce["orders"].items():
        ok = [c for c in charges.values() if c["metadata"]["order_id"] == str(oid) and c["status"] == "succeeded"
              and not c["refunded"] and not c["disputed"]]
        if oid not in stages or stages[oid]["stage"] == "cancelled" or not ok:
            continue
        net = sum(pesos(c["amount"] - c["amount_refunded"]) for c in ok)
        if net >= float(order["total"]) - 1:
            by_provider += 1
            assert (stages[oid]["stage"], stages[oid]["payment_source"]) == ("paid", "provider"), oid
            assert stages[oid]["paid_at"] == datetime.fromtimestamp(max(c["created"] for c in ok), UTC)
    assert by_provider > 20
    # A card order the store names Stripe for, a bank transfer it does not: only the first has charges.
    methods = {o["payment_method"] for o in business.woocommerce["orders"].values()}
    assert {"stripe", "bacs"} <= methods
