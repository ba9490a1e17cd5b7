"""The Mercado Pago simulator and its writer: Bearer auth and Mercado Pago's error shape, the search's
range, sort, paging object and limits, the 429 fault, and a business paid through it as it is before
Puente (payments the ERP does not know of, short payments registered as paid, refunds and
chargebacks the ERP never hears of, fees), leaving every other system's records as they were."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest

from puente.simulators import Business, FaultRates, Faults
from puente.simulators.business.mercadopago import fee

SEARCH = "/mercadopago/v1/payments/search"
SEED = 6  # a business whose year holds every kind of payment the tests look for (a chargeback is rare)


@pytest.fixture(scope="module")
def paid() -> Business:
    return Business(seed=SEED, customers=150, history_days=300, mercadopago=True)


@pytest.fixture
def auth(credentials) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials.mercadopago_token}"}


def _digest(business: Business) -> str:
    shop = json.loads(json.dumps(business.shopify))
    for order in shop["orders"].values():
        order["payment_gateway_names"] = ["online" if g != "Cash on Delivery (COD)" else g
                                          for g in order["payment_gateway_names"]]
    return hashlib.sha256(json.dumps([business.odoo, business.hubspot, shop, business.truth()],
                                     sort_keys=True).encode()).hexdigest()


def test_payments_leave_every_other_systems_records_as_they_were(paid):
    business = Business(seed=SEED, customers=150, history_days=300)
    assert business.mercadopago == {"payments": {}} and "mercadopago" not in business.counts()
    assert _digest(business) == _digest(paid)  # only the checkout's gateway is named differently
    gateways = {g for o in paid.shopify["orders"].values() for g in o["payment_gateway_names"]}
    assert "Mercado Pago" in gateways


def test_the_business_before_puente_drifts_from_its_payment_provider(paid):
    payments = list(paid.mercadopago["payments"].values())
    invoices = {m["name"]: m for m in paid.odoo["account.move"].values() if m["move_type"] == "out_invoice"}
    erp_refs = {m["ref"] for m in invoices.values() if m["ref"]}
    checkout = [p for p in payments if p["external_reference"].startswith("#")]
    links = [p for p in payments if p["external_reference"] in invoices]
    assert checkout and links and len(checkout) + len(links) == len(payments)
    approved = [p for p in checkout if p["status"] == "approved"]
    # web orders nobody retyped: paid at Mercado Pago, no invoice in the ERP
    assert any(p["external_reference"] not in erp_refs for p in approved)
    # a customer withholding tax pays the link short; the accountant marks the invoice paid in full
    # once they register it (a link paid early may not be registered yet: its invoice is still unpaid)
    short = [p for p in links if p["transaction_amount"] < invoices[p["external_reference"]]["amount_total"] - 1]
    registered = [m for p in short if (m := invoices[p["external_reference"]])["payment_state"] != "not_paid"]
    assert registered and all(m["payment_state"] in ("paid", "in_payment") and m["amount_residual"] == 0
                              for m in registered)
    statuses = {(p["status"], p["status_detail"]) for p in payments}
    assert {("refunded", "refunded"), ("approved", "partially_refunded"), ("charged_back", "settled")} <= statuses
    assert any(s == "rejected" for s, _ in statuses)
    for p in payments:
        if p["status"] == "rejected":
            assert p["fee_details"] == [] and p["date_approved"] is None
        else:
            assert p["fee_details"][0]["amount"] == fee(p["transaction_amount"])
            assert p["transaction_details"]["net_received_amount"] == round(
                p["transaction_amount"] - p["fee_details"][0]["amount"], 2)
        if p["refunds"]:
            assert p["transaction_amount_refunded"] == round(sum(r["amount"] for r in p["refunds"]), 2)


def test_bearer_token_and_mercado_pagos_error_shape(client_for, paid, auth):
    client = client_for(paid)
    missing = client.get(SEARCH)
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"
    assert set(missing.json()) == {"message", "error", "status", "cause"}
    wrong = client.get(SEARCH, headers={"Authorization": "Bearer APP_USR-nope"})
    assert wrong.status_code == 401 and wrong.json()["message"] == "invalid access token"
    unknown = client.get("/mercadopago/v1/payments/1", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["cause"][0]["code"] == 2000
    for params, code in (({"sort": "amount"}, 1003), ({"criteria": "up"}, 1004), ({"begin_date": "ayer"}, 1001),
                         ({"limit": 1001}, 1000), ({"offset": 9990, "limit": 20}, 1000)):
        answer = client.get(SEARCH, params=params, headers=auth)
        assert answer.status_code == 400 and answer.json()["cause"][0]["code"] == code, params


def test_the_search_filters_a_range_sorts_and_pages_with_its_paging_object(client_for, paid, auth):
    client = client_for(paid)
    payments = paid.mercadopago["payments"].values()
    begin = sorted(p["date_last_updated"] for p in payments)[len(payments) // 2]
    params = {"range": "date_last_updated", "begin_date": begin, "sort": "date_last_updated", "criteria": "asc",
              "limit": 7}
    first = client.get(SEARCH, params=params, headers=auth).json()
    want = sorted((p for p in payments if p["date_last_updated"] >= begin),
                  key=lambda p: (p["date_last_updated"], p["id"]))
    assert first["paging"] == {"total": len(want), "limit": 7, "offset": 0}
    seen = []
    for offset in range(0, len(want), 7):
        seen += client.get(SEARCH, params={**params, "offset": offset}, headers=auth).json()["results"]
    assert [p["id"] for p in seen] == [p["id"] for p in want]
    stamps = [datetime.fromisoformat(p["date_last_updated"]) for p in seen]
    assert stamps == sorted(stamps) and seen[0]["date_last_updated"].endswith("-04:00")
    # the default: date_created of the last three months, newest first
    default = client.get(SEARCH, headers=auth).json()
    assert default["paging"]["limit"] == 30 and default["paging"]["total"] < len(payments)
    created = [p["date_created"] for p in default["results"]]
    assert created == sorted(created, reverse=True)
    one = client.get(SEARCH, params={"external_reference": want[0]["external_reference"], "begin_date": "NOW-1YEAR"},
                     headers=auth).json()
    assert {p["external_reference"] for p in one["results"]} == {want[0]["external_reference"]}


def test_a_throttled_search_answers_429_in_mercado_pagos_shape_with_retry_after(client_for, paid, auth):
    client = client_for(paid, faults=Faults(seed=1, mercadopago=FaultRates(too_many_requests=1.0)))
    answer = client.get(SEARCH, headers=auth)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "2"
    assert answer.json()["error"] == "too_many_requests" and answer.json()["status"] == 429


def test_the_account_holds_the_marketplace_sales_paid_since_it_opened_in_step_with_them():
    from puente.simulators.business.mercadopago import ACCOUNT_DAYS

    business = Business(seed=SEED, customers=150, history_days=ACCOUNT_DAYS + 200, mercadolibre=True, mercadopago=True)
    account = business.mercadopago["payments"]
    opened = business.calendar.midnight(200)
    sales = business.mercadolibre["orders"]
    paid = {p["id"]: p for s in sales.values() for p in s["payments"]}
    since = {i for i, p in paid.items() if datetime.fromisoformat(p["date_created"]) >= opened}
    assert 0 < len(since) < len(paid)  # sales before the account opened are not in it
    assert {i for i, p in account.items() if p.get("order", {}).get("type") == "mercadolibre"} == since
    cancelled = next(oid for oid, s in reversed(sales.items())
                     if s["status"] == "paid" and any(p["id"] in since for p in s["payments"]))
    business.archive("mercadolibre", "orders", cancelled)  # the buyer cancels: refunded in both
    for p in sales[cancelled]["payments"]:
        mirrored = account[p["id"]]
        assert (mirrored["status"], mirrored["order"]["id"], mirrored["external_reference"]) == (
            p["status"], str(cancelled), None)
        assert mirrored["transaction_amount_refunded"] == p["transaction_amount_refunded"]
