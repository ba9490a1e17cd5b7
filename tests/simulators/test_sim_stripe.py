"""The Stripe simulator and its writer: the secret key as Bearer or Basic auth and Stripe's error
shape, lists newest first paged by starting_after/ending_before with created filters, the 30 days
of events, the 429 fault, and a WooCommerce store's card checkout collected through it as it is
before Puente (amounts in COP cents, fees, failed charges, refunds, a dispute), leaving the ERP,
the CRM and the Shopify shop as they were."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from puente.simulators import Business, FaultRates, Faults
from puente.simulators.business.stripe import FEE_FIXED, FEE_RATE


@pytest.fixture(scope="module")
def paid() -> Business:
    return Business(seed=4, customers=150, history_days=300, woocommerce=True, stripe=True)


@pytest.fixture
def auth(credentials) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials.stripe_key}"}


def _digest(business: Business) -> str:
    return hashlib.sha256(json.dumps([business.odoo, business.hubspot, business.shopify], sort_keys=True).encode()
                          ).hexdigest()


def test_stripe_collects_the_store_checkout_and_leaves_the_other_systems_as_they_were(paid):
    plain = Business(seed=4, customers=150, history_days=300, woocommerce=True)
    assert plain.stripe["charges"] == {} and "stripe" not in plain.counts()
    assert _digest(plain) == _digest(paid)  # the simulator does not tell the ERP anything
    store = paid.woocommerce["orders"]
    charges = list(paid.stripe["charges"].values())
    charges_by_id = paid.stripe["charges"]
    assert {o["payment_method"] for o in store.values()} >= {"stripe", "bacs"}
    credited = {t["source"]: t for t in paid.stripe["balance_transactions"].values() if t["type"] == "charge"}
    for charge in charges:
        order = store[int(charge["metadata"]["order_id"])]
        assert order["payment_method"] == "stripe" and charge["currency"] == "cop"
        assert charge["amount"] == int(order["total"]) * 100  # COP counts in cents in Stripe's API
        if charge["status"] == "succeeded":
            txn = credited[charge["id"]]
            assert txn["fee"] == round(charge["amount"] * FEE_RATE / 100 + FEE_FIXED) * 100
            assert txn["net"] == charge["amount"] - txn["fee"] and charge["balance_transaction"] == txn["id"]
        else:
            assert charge["failure_code"] and charge["id"] not in credited
    assert {c["status"] for c in charges} == {"succeeded", "failed"}
    assert any(c["refunded"] for c in charges) and any(c["disputed"] for c in charges)
    assert any(0 < c["amount_refunded"] < c["amount"] for c in charges)  # a damaged box, refunded in part
    # every cancelled card order is refunded in full
    cancelled = {str(i) for i, o in store.items() if o["status"] == "cancelled" and o["payment_method"] == "stripe"}
    assert cancelled and all(c["refunded"] for c in charges if c["metadata"]["order_id"] in cancelled
                             and c["status"] == "succeeded" and not c["disputed"])
    reversed_ = {t["source"] for t in paid.stripe["balance_transactions"].values()
                 if t["reporting_category"] == "dispute_reversal"}
    for dispute in paid.stripe["disputes"].values():  # the charge stays disputed, whatever the outcome
        assert dispute["status"] in ("needs_response", "won", "lost") and charges_by_id[dispute["charge"]]["disputed"]
        assert (dispute["id"] in reversed_) == (dispute["status"] == "won")
    assert paid.stripe["disputes"]
    kinds = {e["type"] for e in paid.stripe["events"].values()}
    assert {"charge.succeeded", "charge.failed", "charge.refunded", "charge.dispute.created"} <= kinds


def test_lists_newest_first_paged_by_id_with_created_filters(client_for, paid, auth):
    client = client_for(paid)
    every = client.get("/stripe/v1/charges", params={"limit": 100}, headers=auth).json()
    assert every["object"] == "list" and every["url"] == "/v1/charges"
    stamps = [c["created"] for c in every["data"]]
    assert stamps == sorted(stamps, reverse=True)
    seen, after = [], None
    while True:
        page = client.get("/stripe/v1/charges", params={"limit": 7, **({"starting_after": after} if after else {})},
                          headers=auth).json()
        seen += page["data"]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert len(every["data"]) == len(paid.stripe["charges"]) < 100
    assert [c["id"] for c in seen] == [c["id"] for c in every["data"]]  # each once, in the list's order
    before = client.get("/stripe/v1/charges", params={"limit": 3, "ending_before": seen[5]["id"]}, headers=auth).json()
    assert [c["id"] for c in before["data"]] == [c["id"] for c in seen[2:5]] and before["has_more"]
    middle = stamps[len(stamps) // 2]
    newer = client.get("/stripe/v1/charges", params={"limit": 100, "created[gte]": middle}, headers=auth).json()
    assert {c["id"] for c in newer["data"]} == {c["id"] for c in every["data"] if c["created"] >= middle}
    # events: only the last 30 days are kept
    events = client.get("/stripe/v1/events", params={"limit": 100, "types[]": ["charge.refunded"]}, headers=auth).json()
    now = int(paid.now().timestamp())
    assert all(e["type"] == "charge.refunded" and e["created"] >= now - 30 * 86400 for e in events["data"])
    assert len(events["data"]) < sum(e["type"] == "charge.refunded" for e in paid.stripe["events"].values())


def test_the_secret_key_and_stripes_error_shape(client_for, paid, credentials):
    client = client_for(paid)
    missing = client.get("/stripe/v1/charges")
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "invalid_request_error"
    assert "Request-Id" in missing.headers
    wrong = client.get("/stripe/v1/charges", headers={"Authorization": "Bearer sk_live_" + "x" * 30 + "abcd"})
    assert wrong.status_code == 401 and wrong.json()["error"]["message"].endswith("abcd")
    assert "x" * 30 not in wrong.json()["error"]["message"]
    basic = base64.b64encode(f"{credentials.stripe_key}:".encode()).decode()
    assert client.get("/stripe/v1/refunds", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    auth = {"Authorization": f"Bearer {credentials.stripe_key}"}
    for params, param in (({"limit": 101}, "limit"), ({"starting_after": "ch_nope"}, "starting_after"),
                          ({"created[gte]": "yesterday"}, "created[gte]")):
        answer = client.get("/stripe/v1/charges", params=params, headers=auth)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == param, params
    assert client.get("/stripe/v1/charges", params={"starting_after": "ch_nope"}, headers=auth
                      ).json()["error"]["code"] == "resource_missing"
    assert client.get("/stripe/v1/charges/ch_nope", headers=auth).status_code == 404
    throttled = client_for(paid, faults=Faults(seed=1, stripe=FaultRates(too_many_requests=1.0))).get(
        "/stripe/v1/charges", headers=auth)
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "rate_limit"
    assert throttled.headers["Stripe-Should-Retry"] == "true" and "Request-Id" in throttled.headers


def test_a_change_of_a_stripe_object_is_its_event():
    """Business.touch of a Stripe object (as the chaos bench and the fault mutations change records):
    Stripe stamps only ``created``, so the change is an event holding the object as changed, stamped
    now; before, it went to the Shopify writer, which has no such record."""
    business = Business(seed=4, customers=150, history_days=300, woocommerce=True, stripe=True)
    charge = next(iter(business.stripe["charges"].values()))
    events = len(business.stripe["events"])
    charge["description"] = "changed"
    business.touch("stripe", "charges", charge["id"])
    assert len(business.stripe["events"]) == events + 1
    event = list(business.stripe["events"].values())[-1]
    assert event["type"] == "charge.updated" and event["data"]["object"]["id"] == charge["id"]
    assert event["data"]["object"]["description"] == "changed"
    assert event["created"] == int(business.now().timestamp())
    assert charge["created"] < event["created"]  # the object keeps its own stamp
    intent = next(iter(business.stripe["payment_intents"]))
    with pytest.raises(ValueError, match="no event"):
        business.touch("stripe", "payment_intents", intent)
    with pytest.raises(ValueError, match="cannot change"):
        Business(seed=3, customers=20, history_days=30).touch("stripe", "charges", charge["id"])
