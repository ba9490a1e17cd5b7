"""The WooCommerce simulator and the store's writer: Basic auth and WordPress's error shapes, page/per_page
with X-WP-Total and Link, the modified and status filters, the trash, the host's 429, and a store that
leaves every other system's records as they were."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime, timedelta

import pytest

from puente.simulators import Business, FaultRates, Faults

API = "/woocommerce/wp-json/wc/v3"


def new_store() -> Business:
    return Business(seed=5, customers=150, history_days=300, woocommerce=True)


@pytest.fixture(scope="module")
def store() -> Business:
    """Shared by the tests that only read; the others build their own."""
    return new_store()


def basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


@pytest.fixture
def auth(credentials) -> dict[str, str]:
    return basic(credentials.woocommerce_key, credentials.woocommerce_secret)


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))}


def test_basic_auth_and_wordpress_error_shapes(client_for, store, credentials, auth):
    client = client_for(store)
    refusals = {
        "woocommerce_rest_cannot_view": {},
        "woocommerce_rest_authentication_error": basic("ck_wrong", credentials.woocommerce_secret),
    }
    for code, headers in refusals.items():
        answer = client.get(f"{API}/orders", headers=headers)
        assert answer.status_code == 401 and answer.json()["code"] == code
        assert answer.json()["data"] == {"status": 401}
    wrong_secret = client.get(f"{API}/orders", headers=basic(credentials.woocommerce_key, "cs_wrong")).json()
    assert wrong_secret["message"] == "Consumer secret is invalid."
    too_many = client.get(f"{API}/orders", params={"per_page": 101}, headers=auth)
    assert too_many.status_code == 400 and too_many.json() == {
        "code": "rest_invalid_param", "message": "Invalid parameter(s): per_page",
        "data": {"status": 400, "params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}}}
    assert client.get(f"{API}/orders", params={"page": 0}, headers=auth).json()["code"] == "rest_invalid_param"
    assert client.get(f"{API}/customers", params={"orderby": "modified"}, headers=auth).status_code == 400
    assert client.get(f"{API}/coupons", headers=auth).json()["code"] == "rest_no_route"
    assert client.get(f"{API}/orders/1", headers=auth).json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    index = client.get("/woocommerce/wp-json/")  # public, no key
    assert index.status_code == 200 and "wc/v3" in index.json()["namespaces"]


def test_pages_totals_and_links_walk_every_record_once(client_for, store, auth):
    client = client_for(store)
    for resource in ("customers", "orders", "products"):
        answer = client.get(f"{API}/{resource}", params={"orderby": "id", "order": "asc", "per_page": 7}, headers=auth)
        assert len(answer.json()) == 7 and "prev" not in links(answer)  # per_page honoured
        total, pages = int(answer.headers["X-WP-Total"]), int(answer.headers["X-WP-TotalPages"])
        seen = [r["id"] for r in answer.json()]
        while "next" in links(answer):
            answer = client.get(links(answer)["next"], headers=auth)
            assert links(answer)["prev"]
            seen += [r["id"] for r in answer.json()]
        live = [r["id"] for r in store.woocommerce[resource].values() if r.get("status") != "trash"]
        assert seen == sorted(live) and total == len(live) and pages == -(-total // 7), resource
    assert len(client.get(f"{API}/orders", headers=auth).json()) == 10  # the default per_page
    past = client.get(f"{API}/orders", params={"page": 10_000}, headers=auth)
    assert past.status_code == 200 and past.json() == []


def test_modified_filters_status_and_the_trash(client_for, auth):
    store = new_store()
    client = client_for(store)
    orders = list(store.woocommerce["orders"].values())
    target = sorted(orders, key=lambda o: o["date_modified_gmt"])[len(orders) // 2]
    bound = (datetime.fromisoformat(target["date_modified_gmt"]) - timedelta(seconds=1)).isoformat()
    query = {"modified_after": bound, "per_page": 100, "status": "any,trash"}
    after = client.get(f"{API}/orders", params={**query, "dates_are_gmt": "true"}, headers=auth).json()
    assert {o["id"] for o in after} == {o["id"] for o in orders if o["date_modified_gmt"] > bound}
    # without dates_are_gmt the value is the site's time (Bogotá), five hours later in UTC
    local = client.get(f"{API}/orders", params=query, headers=auth).json()
    assert target["id"] in {o["id"] for o in after} and target["id"] not in {o["id"] for o in local}
    victim = next(o for o in orders if o["status"] == "completed")
    store.archive("woocommerce", "orders", victim["id"])
    listed = {o["id"] for page in range(1, 5)
              for o in client.get(f"{API}/orders", params={"per_page": 100, "page": page}, headers=auth).json()}
    trashed = client.get(f"{API}/orders", params={"status": "trash", "per_page": 100}, headers=auth).json()
    assert victim["id"] not in listed and victim["id"] in {o["id"] for o in trashed}
    assert all(o["status"] == "trash" for o in trashed)
    # Customers have no modified filter: WordPress ignores the parameter and lists them all.
    every = client.get(f"{API}/customers", params={"modified_after": "2099-01-01T00:00:00", "per_page": 100},
                       headers=auth)
    assert int(every.headers["X-WP-Total"]) == len(store.woocommerce["customers"]) > 0
    assert client.get(f"{API}/customers", params={"_fields": "id", "per_page": 3}, headers=auth).json()[0].keys() == {"id"}


def test_the_hosts_429_and_503_are_not_wordpress_answers(client_for, store, auth):
    client = client_for(store, faults=Faults(seed=1, woocommerce=FaultRates(too_many_requests=0.5, server_error=0.5)))
    statuses = {}
    for _ in range(20):
        answer = client.get(f"{API}/orders", headers=auth)
        statuses[answer.status_code] = answer
    assert set(statuses) == {429, 503}
    assert statuses[429].headers["Retry-After"] == "3" and statuses[429].text == "Too Many Requests"


def _digest(business: Business) -> str:
    others = [t for t in business.truth() if t["system"] != "woocommerce"]
    return hashlib.sha256(json.dumps([business.odoo, business.hubspot, business.shopify, others],
                                     sort_keys=True).encode()).hexdigest()


def test_the_store_leaves_every_other_systems_records_as_they_were(business):
    store = new_store()
    assert business.woocommerce == {"customers": {}, "orders": {}, "products": {}}  # off by default
    assert "woocommerce" not in business.counts()
    assert _digest(business) == _digest(store)  # same seed, same arguments, the store on
    twin = Business(seed=5, customers=150, history_days=300)
    twin.advance_day(), store.advance_day()
    assert _digest(twin) == _digest(store)


def test_the_store_sells_the_erps_skus_to_the_businesss_people_registered_or_not(store):
    erp_skus = {p["default_code"] for p in store.odoo["product.product"].values()}
    skus = {p["sku"] for p in store.woocommerce["products"].values()}
    assert skus and skus <= erp_skus
    orders = list(store.woocommerce["orders"].values())
    guests = [o for o in orders if o["customer_id"] == 0]
    assert 0 < len(guests) < len(orders) and all(o["billing"]["email"] for o in guests)
    truth = {(t["system"], t["object"], t["id"]): t["person_id"] for t in store.truth()}
    buyers = {truth["woocommerce", "orders", str(o["id"])] for o in orders}
    elsewhere = {p for (system, _, _), p in truth.items() if system in ("odoo", "shopify", "hubspot")}
    assert buyers & elsewhere, "some of the store's buyers are the business's customers elsewhere"
    assert all(o["line_items"] and all(li["sku"] in skus for li in o["line_items"]) for o in orders)
    assert {o["status"] for o in orders} >= {"completed", "processing"}


def test_fields_filter_nested_objects_but_not_inside_lists_as_wordpress_does(client_for, store, auth):
    client = client_for(store)

    def first(fields: str) -> dict:
        return client.get(f"{API}/orders", params={"_fields": fields, "per_page": 1}, headers=auth).json()[0]

    order = first("id,billing.email,billing.phone,line_items,total.amount")
    assert order.keys() == {"id", "billing", "line_items", "total"}
    assert order["billing"].keys() == {"email", "phone"}  # the rest of the address is not served
    assert order["line_items"] and "sku" in order["line_items"][0] and isinstance(order["total"], str)
    assert first("id,line_items.sku")["line_items"] == []  # WordPress cannot filter inside a list
    assert first("billing.email,billing")["billing"].keys() > {"email", "phone"}  # the whole object wins
