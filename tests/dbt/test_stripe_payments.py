"""Stripe in the warehouse: a business whose WooCommerce store's card checkout is Stripe's, served by
the simulators, landed by the connectors and built by dbt. Every charge lands in fct_payments in
pesos (Stripe's COP minor units divided by 100) with its fee from its balance transaction, matched
to the store order its metadata names; the reconciliation with the ERP is found from the
business's own records; order-to-cash takes the payment stage of the store's orders from Stripe."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from puente import report
from puente.activation.run import run_named
from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry

TODAY = date(2026, 11, 16)
SELECT = ["+payment_reconciliation", "+fct_order_to_cash", "+stg_stripe__payment_intents", "+data_issues",
          "+act_web_orders_to_erp"]
BOGOTA = ZoneInfo("America/Bogota")


def build(url: str, as_of: date) -> None:
    run_dbt(["build", "--select", *SELECT, "--indirect-selection", "cautious"], url,
            env={"PUENTE_AS_OF_DATE": as_of.isoformat()})


# The systems of the test's business (a Mercado Libre account's refresh token would not survive the
# second simulator this test starts: each refresh spends the one before).
SYSTEMS = ("odoo", "hubspot", "shopify", "woocommerce", "stripe")


def land(url: str, base_url: str, credentials: Credentials, day: date) -> None:
    configs = registry.simulator_configs(base_url, credentials)
    for name in SYSTEMS:
        extract_source(url, name, configs[name], day)


def rows(url: str, sql: str) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def pesos(minor: int) -> float:
    return minor / 100  # COP has two decimals in Stripe's API


def withdrawn(business: Business) -> set[str]:
    """The charges whose money a dispute holds: disputed, and the dispute not won (Stripe leaves a
    charge ``disputed`` after a dispute it won)."""
    won = {d["charge"] for d in business.stripe["disputes"].values() if d["status"] == "won"}
    return {c["id"] for c in business.stripe["charges"].values() if c["disputed"] and c["id"] not in won}


def expected_issues(business: Business, as_of: date) -> dict[str, set[str]]:
    """What an accountant comparing the Stripe statement with the store and the ERP would find on
    ``as_of``, per store order, from the simulated systems' records: the ERP's invoices of the sale
    order entered for it (``WC-<number>``), issued once the DIAN accepted them; a trashed order is
    no order any more."""
    store = business.woocommerce["orders"]
    by_ref = defaultdict(set)
    for o in business.odoo["sale.order"].values():
        by_ref[o["client_order_ref"]].add(o["name"])
    issued = [m for m in business.odoo["account.move"].values() if m["move_type"] == "out_invoice"
              and m["state"] == "posted" and m.get("l10n_co_dian_state", "invoice_accepted") == "invoice_accepted"]
    held = withdrawn(business)
    charges = defaultdict(list)
    for charge in business.stripe["charges"].values():
        charges[int(charge["metadata"]["order_id"])].append(charge)
    found = {}
    for oid, paid in charges.items():
        ok = [c for c in paid if c["status"] == "succeeded"]
        collected = sum(pesos(c["amount"]) for c in ok)
        refunded = sum(pesos(c["amount_refunded"]) for c in ok)
        charged = sum(pesos(c["amount"] - c["amount_refunded"]) for c in ok if c["id"] in held)
        net = sum(pesos(c["amount"] - c["amount_refunded"]) for c in ok if c["id"] not in held and not c["refunded"])
        approved = min((datetime.fromtimestamp(c["created"], UTC).astimezone(BOGOTA).date() for c in ok), default=None)
        past_grace = approved is not None and (as_of - approved).days > 3
        order = store[oid]
        reference = f"WC-{order['number']}"
        trashed, cancelled = order["status"] == "trash", order["status"] == "cancelled"
        invoices = [] if trashed else [m for m in issued if m["invoice_origin"] in by_ref[reference]]
        marked = bool(invoices) and all(m["payment_state"] in ("paid", "in_payment") for m in invoices)
        total = sum(m["amount_total"] for m in invoices)
        issues = set()
        if not trashed and not cancelled and not invoices and net > 1 and past_grace:
            issues.add("paid_not_in_erp")
        if invoices and net > 1 and not marked and past_grace:
            issues.add("paid_not_marked_paid")
        if cancelled and net > 1:
            issues.add("cancelled_not_refunded")
        if refunded > 0 and marked:
            issues.add("refund_not_in_erp")
        if marked and refunded == 0 and net <= 1:
            issues.add("marked_paid_no_payment")
        if invoices and net > 1 and abs(collected - charged - total) > 1:
            issues.add("amount_mismatch")
        if trashed and net > 1:
            issues.add("unknown_reference")
        found[reference] = issues
    return found


def fees(business: Business) -> dict[str, tuple[int, int]]:
    """Per charge, in minor units: its fees (its own balance transaction's, and its disputes', whose
    balance transactions name the dispute) and what it left in the account after them."""
    disputes = business.stripe["disputes"]
    found: dict[str, tuple[int, int]] = {}
    for t in business.stripe["balance_transactions"].values():
        if t["type"] == "charge":
            charge, net = t["source"], t["net"]
        elif t["type"] == "adjustment" and t["source"] in disputes:
            charge, net = disputes[t["source"]]["charge"], -t["fee"]
        else:
            continue
        fee_so_far, net_so_far = found.get(charge, (0, 0))
        found[charge] = (fee_so_far + t["fee"], net_so_far + net)
    return found


def reconciled(url: str) -> dict[str, set[str]]:
    return {r["external_reference"]: set(r["issues"]) for r in rows(
        url, "select * from marts.payment_reconciliation where provider = 'stripe'")}


def test_stripe_charges_land_in_pesos_are_reconciled_and_give_store_orders_their_payment_stage(fresh_db):
    business = Business(seed=5, customers=200, start=TODAY, history_days=150, woocommerce=True, stripe=True)
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        land(fresh_db, server.base_url, credentials, TODAY)
        build(fresh_db, TODAY)

    charges = business.stripe["charges"]
    fee = fees(business)
    facts = {f["payment_id"]: f for f in rows(fresh_db, "select * from marts.fct_payments where provider = 'stripe'")}
    assert set(facts) == set(charges) and len(charges) > 40
    statuses, held = set(), withdrawn(business)
    for cid, fact in facts.items():
        charge = charges[cid]
        order = business.woocommerce["orders"][int(charge["metadata"]["order_id"])]
        assert fact["currency_code"] == "COP" and float(fact["amount"]) == float(order["total"]), cid
        assert float(fact["refunded_amount"]) == pesos(charge["amount_refunded"])
        assert fact["external_reference"] == f"WC-{order['number']}"
        assert fact["reference_kind"] == ("unmatched" if order["status"] == "trash" else "order")
        status = ("rejected" if charge["status"] == "failed" else "charged_back" if cid in held
                  else "refunded" if charge["refunded"] else "approved")
        statuses.add(status)
        assert fact["payment_status"] == status, cid
        if charge["status"] == "succeeded":
            assert (float(fact["fee_amount"]), float(fact["net_received_amount"])) == tuple(map(pesos, fee[cid])), cid
            assert float(fact["fee_amount"]) > 0
        else:
            assert float(fact["fee_amount"]) == 0 and float(fact["collected_amount"]) == 0
    assert {"approved", "refunded", "rejected"} <= statuses, statuses

    # Before Puente the store's orders are in no ERP: paid but not in the ERP, past the grace days.
    want = expected_issues(business, TODAY)
    assert reconciled(fresh_db) == want
    assert any(issues == {"paid_not_in_erp"} for issues in want.values())
    assert any(not issues for issues in want.values())
    for row in rows(fresh_db, "select * from marts.payment_reconciliation where provider = 'stripe'"):
        paid = [c for c in charges.values() if facts[c["id"]]["external_reference"] == row["external_reference"]]
        assert float(row["fee_amount"]) == sum(pesos(fee[c["id"]][0]) for c in paid if c["id"] in fee)

    # Order-to-cash: a store order Stripe collected in full is paid, by the provider, at the charge.
    stages = {r["woocommerce_order_id"]: r for r in rows(fresh_db, """
        select o.woocommerce_order_id, c.stage, c.payment_source, c.paid_at
        from marts.fct_order_to_cash c join marts.fct_orders o using (order_id)
        where o.source_system = 'woocommerce'""")}
    by_provider = 0
    for oid, order in business.woocommerce["orders"].items():
        ok = [c for c in charges.values() if c["metadata"]["order_id"] == str(oid) and c["status"] == "succeeded"
              and not c["refunded"] and c["id"] not in held]
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

    # Puente enters the store's recent orders in the ERP; over the next days the accountant posts
    # their invoices and marks them paid as the store completes them (from the bank, not from
    # Stripe). Then the store refunds part of one of them through Stripe: the ERP never hears of it.
    with SimulatorServer(create_app(business, credentials)) as server:
        odoo = registry.simulator_configs(server.base_url, credentials)["odoo"]
        assert run_named(fresh_db, "web_orders_to_erp", odoo, TODAY).created > 5
        for _ in range(6):
            business.advance_day()
        entered = {o["client_order_ref"] for o in business.odoo["sale.order"].values()
                   if str(o["client_order_ref"]).startswith("WC-")}
        damaged, contested = [c for c in charges.values() if c["id"] in facts
                              and facts[c["id"]]["external_reference"] in entered
                              and c["status"] == "succeeded" and not c["refunded"] and not c["disputed"]][:2]
        business.stripe_payments.refund(business._day, damaged["payment_intent"], 0.3)
        business.stripe_payments.dispute(business._day, contested["payment_intent"])  # the payer's bank
        later = business.today
        land(fresh_db, server.base_url, credentials, later)
    build(fresh_db, later)
    want = expected_issues(business, later)
    assert reconciled(fresh_db) == want
    assert want[facts[damaged["id"]]["external_reference"]] == {"refund_not_in_erp"}
    assert want[facts[contested["id"]]["external_reference"]] == {"marked_paid_no_payment"}
    assert rows(fresh_db, f"select payment_status, status_detail from marts.fct_payments where payment_id = "
                          f"'{contested['id']}'") == [{"payment_status": "charged_back", "status_detail": "disputed: needs_response"}]
    # The dispute's fee is the charge's: it is on the dispute's balance transaction, which names the dispute.
    charged_fee, dispute_fee = fee[contested["id"]][0], fees(business)[contested["id"]][0] - fee[contested["id"]][0]
    assert dispute_fee > 0
    assert rows(fresh_db, f"select fee_amount::float as fee from marts.fct_payments where payment_id = '{contested['id']}'"
                ) == [{"fee": pesos(charged_fee + dispute_fee)}]
    in_erp = {r["external_reference"]: r for r in rows(fresh_db, """
        select * from marts.payment_reconciliation where provider = 'stripe' and erp_invoice_count > 0""")}
    assert set(in_erp) == entered & set(want) and sum(r["issue"] == "matched" for r in in_erp.values()) > 1

    # What the demo prints of it: one provider, said as before.
    with psycopg.connect(fresh_db, row_factory=dict_row) as conn:
        line = report.payments_line(report.payment_issues(conn))
    assert line.startswith(f"[bold]Payments[/] {len(want)} references paid through the provider: ")


def test_the_payments_line_names_each_provider_when_the_business_has_two():
    rows_ = [{"provider": "mercadopago", "issue": "matched", "refs": 3, "fees": 10.0, "currency": "COP"},
             {"provider": "stripe", "issue": "paid_not_in_erp", "refs": 2, "fees": 5.0, "currency": "COP"},
             {"provider": "stripe", "issue": "matched", "refs": 1, "fees": None, "currency": "COP"}]
    assert report.payments_line(rows_) == (
        "[bold]Payments[/] Mercado Pago 3 references: matched 3; fees 10 COP. "
        "Stripe 3 references: paid_not_in_erp 2, matched 1; fees 5 COP (marts.payment_reconciliation)")
