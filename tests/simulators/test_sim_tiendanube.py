"""The Tienda Nube simulator and the store's writer: the Authentication header and the User-Agent,
the API's error shape, page/per_page with X-Total-Count, Link and the 404 past the last page, the
default payment statuses, the leaky bucket's headers and its 429, deletes, and a store whose
orders never reach the ERP by themselves while every other system's records stay as they were."""

from __future__ import annotations

import re

import pytest

from puente.simulators import Business, Limits, ManualClock

API = "/tiendanube/v1/3100427"
AGENT = {"User-Agent": "Puente tests (puente@localhost)"}


@pytest.fixture(scope="module")
def store() -> Business:
    return Business(seed=5, customers=150, history_days=300, tiendanube=True)


@pytest.fixture
def auth(credentials) -> dict[str, str]:
    return {"Authentication": f"bearer {credentials.tiendanube_token}", **AGENT}


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))}


def test_the_authentication_header_the_user_agent_and_the_error_shape(client_for, store, credentials, auth):
    client = client_for(store)
    bearer = f"bearer {credentials.tiendanube_token}"
    no_agent = client.get(f"{API}/orders", headers={"Authentication": bearer, "User-Agent": "python-httpx"})
    assert no_agent.status_code == 400 and no_agent.json()["message"] == "Bad Request"
    for headers in ({"Authorization": f"Bearer {credentials.tiendanube_token}", **AGENT},  # not the header it reads
                    {"Authentication": "bearer wrong", **AGENT}):
        refused = client.get(f"{API}/orders", headers=headers)
        assert refused.status_code == 401 and refused.json() == {
            "code": 401, "message": "Unauthorized", "description": "Invalid access token"}
    assert client.get("/tiendanube/v1/999/orders", headers=auth).status_code == 404
    assert client.get(f"{API}/orders", params={"per_page": 201}, headers=auth).status_code == 422
    assert client.get(f"{API}/orders/1", headers=auth).json()["description"] == "Order with such id does not exist"
    shop = client.get(f"{API}/store", headers=auth)
    assert shop.json()["name"] == {"es": "Casa Andina Outlet"} and shop.headers["x-main-language"] == "es"


def test_pages_total_link_and_the_404_past_the_last_page(client_for, store, auth):
    client = client_for(store)
    everyone = client.get(f"{API}/customers", params={"per_page": 200}, headers=auth).json()
    first = client.get(f"{API}/customers", params={"per_page": 7, "fields": "id,updated_at"}, headers=auth)
    total = int(first.headers["x-total-count"])
    assert total == len(everyone) == len(store.tiendanube["customers"]) > 7
    assert all(set(r) == {"id", "updated_at"} for r in first.json())
    seen, url = [], f"{API}/customers?per_page=7&fields=id,updated_at"
    while url:
        page = client.get(url, headers=auth)
        seen += [r["id"] for r in page.json()]
        url = links(page).get("next")
    assert sorted(seen) == sorted(r["id"] for r in everyone) and len(seen) == total
    last = int(links(first)["last"].rsplit("page=", 1)[1])
    past = client.get(f"{API}/customers", params={"per_page": 7, "page": last + 1}, headers=auth)
    assert past.status_code == 404 and past.json()["description"] == f"Last page is {last}"
    # a product's name is per language; money is text, ids are numbers
    product = client.get(f"{API}/products", params={"per_page": 1}, headers=auth).json()[0]
    assert set(product["name"]) == {"es"} and isinstance(product["id"], int)
    assert re.fullmatch(r"\d+\.\d\d", product["variants"][0]["price"])


def test_the_default_list_leaves_out_refunded_and_voided_orders(client_for, store, auth):
    client = client_for(store)
    orders = store.tiendanube["orders"].values()
    cancelled = {o["id"] for o in orders if o["payment_status"] in ("refunded", "voided")}
    assert cancelled and all(store.tiendanube["orders"][i]["status"] == "cancelled" for i in cancelled)
    listed = {o["id"] for o in client.get(f"{API}/orders", params={"per_page": 200}, headers=auth).json()}
    assert listed == {o["id"] for o in orders} - cancelled
    refunded = client.get(f"{API}/orders", params={"per_page": 200, "payment_status": "refunded"}, headers=auth)
    assert {o["id"] for o in refunded.json()} == {o["id"] for o in orders if o["payment_status"] == "refunded"}
    since = sorted(o["updated_at"] for o in orders)[-5]
    recent = client.get(f"{API}/orders", params={"updated_at_min": since, "payment_status": "paid"}, headers=auth)
    assert {o["id"] for o in recent.json()} == {
        o["id"] for o in orders if o["updated_at"] >= since and o["payment_status"] == "paid"}


def test_the_leaky_bucket_answers_its_headers_and_a_429_without_retry_after(client_for, store, auth):
    clock = ManualClock()
    client = client_for(store, limits=Limits(clock=clock))
    answers = [client.get(f"{API}/products", params={"per_page": 1}, headers=auth) for _ in range(41)]
    assert [a.headers["x-rate-limit-remaining"] for a in answers[:2]] == ["39", "38"]
    assert answers[0].headers["x-rate-limit-limit"] == "40" and answers[0].headers["x-rate-limit-reset"] == "500"
    refused = answers[-1]
    assert refused.status_code == 429 and "retry-after" not in refused.headers
    assert refused.json()["code"] == 429 and refused.headers["x-rate-limit-remaining"] == "0"
    assert refused.headers["x-rate-limit-reset"] == "20000"  # 40 requests at 2 a second
    clock.advance(0.5)
    assert client.get(f"{API}/products", params={"per_page": 1}, headers=auth).status_code == 200


def test_a_deleted_customer_vanishes_and_orders_cannot_be_deleted(client_for, auth, new_business):
    business = new_business(tiendanube=True)
    client = client_for(business)
    victim = business.ids("tiendanube", "customers")[2]
    business.delete("tiendanube", "customers", victim)
    assert client.get(f"{API}/customers/{victim}", headers=auth).status_code == 404
    listed = client.get(f"{API}/customers", params={"per_page": 200}, headers=auth)
    assert victim not in {c["id"] for c in listed.json()}
    assert int(listed.headers["x-total-count"]) == len(business.tiendanube["customers"]) - 1
    with pytest.raises(ValueError, match="does not delete orders"):
        business.delete("tiendanube", "orders", business.ids("tiendanube", "orders")[0])


def test_the_store_s_orders_never_reach_the_erp_by_themselves(new_business):
    """With the store on, the truth holds each store order as the ERP order it should be
    (``TN-<number>``, its lines and its shipping before IVA, its total), nobody enters any, and the other systems'
    records are exactly those of the same business without the store."""
    business = new_business(tiendanube=True)
    truth = business.integration_truth()
    store = {o["shop_order_id"]: o for o in truth["web_orders"] if o["shop"] == "tiendanube"}
    assert set(store) == set(business.tiendanube["orders"]) and store
    for oid, order in business.tiendanube["orders"].items():
        should = store[oid]
        assert should["name"] == f"TN-{order['number']}" and not should["person_enters"] and not should["entered"]
        assert [(line["sku"], line["quantity"], line["price_unit"]) for line in should["lines"]] == [
            *((p["sku"], p["quantity"], round(float(p["price"]) / 1.19, 2)) for p in order["products"]),
            ("ENVIO", 1, round(float(order["shipping_cost_customer"]) / 1.19, 2))]
        assert should["amount_total"] == float(order["total"])
        assert (should["state"] == "cancel") == (order["status"] == "cancelled")
        assert (should["fulfilled_on"] is not None) == (order["shipping_status"] == "shipped")
    assert not any(str(o["client_order_ref"]).startswith("TN-") for o in business.odoo["sale.order"].values())
    without = new_business()
    assert business.odoo == without.odoo and business.hubspot == without.hubspot
    assert business.shopify == without.shopify
