"""The Shopify simulator: token auth, Link-header paging, filters, page_info rules, the leaky bucket."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from puente.simulators import Limits, ManualClock, SimulatorServer, create_app

PREFIX = "/shopify/admin/api/2025-01"


@pytest.fixture
def token(credentials):
    return {"X-Shopify-Access-Token": credentials.shopify_token}


@pytest.fixture
def relaxed():
    """Limits no test here reaches unless it means to."""
    return Limits(shopify_bucket_size=10_000)


def links(response) -> dict[str, str]:
    """``{"next": url, "previous": url}`` from a Link header."""
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))}


def test_wrong_or_missing_token_gets_401(client_for, business):
    client = client_for(business)
    for headers in ({}, {"X-Shopify-Access-Token": "shpat_wrong"}):
        answer = client.get(f"{PREFIX}/customers.json", headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {
            "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def test_link_header_pagination_walks_every_record_once_over_http(business, credentials):
    headers = {"X-Shopify-Access-Token": credentials.shopify_token}
    app = create_app(business, credentials, Limits(shopify_bucket_size=10_000))
    with SimulatorServer(app) as server, httpx.Client(headers=headers) as http:
        for resource, params in (("orders", {"status": "any"}), ("customers", {}), ("products", {})):
            url, seen = f"{server.base_url}{PREFIX}/{resource}.json", []
            answer = http.get(url, params={**params, "limit": 30, "fields": "id,updated_at"})
            assert "previous" not in links(answer)
            while True:
                assert answer.status_code == 200, answer.text
                page = answer.json()[resource]
                assert all(set(r) == {"id", "updated_at"} for r in page)
                seen += [r["id"] for r in page]
                nxt = links(answer).get("next")
                if nxt is None:
                    break
                answer = http.get(nxt)
            assert seen == sorted(business.shopify[resource]), resource
            assert re.fullmatch(r"\d+/10000", answer.headers["X-Shopify-Shop-Api-Call-Limit"])


def test_previous_link_goes_back_one_page(client_for, business, token, relaxed):
    client = client_for(business, limits=relaxed)
    first = client.get(f"{PREFIX}/customers.json?limit=5", headers=token)
    second = client.get(links(first)["next"], headers=token)
    back = client.get(links(second)["previous"], headers=token)
    assert [c["id"] for c in back.json()["customers"]] == [c["id"] for c in first.json()["customers"]]


def test_page_info_cannot_be_combined_with_filters(client_for, business, token, relaxed):
    client = client_for(business, limits=relaxed)
    first = client.get(f"{PREFIX}/orders.json?status=any&limit=5", headers=token)
    nxt = links(first)["next"]
    refused = client.get(nxt + "&updated_at_min=2026-01-01T00:00:00-05:00", headers=token)
    assert refused.status_code == 400
    assert refused.json() == {"errors": {"updated_at_min": "updated_at_min cannot be passed when page_info is "
                                         "present. See https://shopify.dev/api/usage/pagination-rest for more "
                                         "information."}}
    assert client.get(nxt + "&fields=id", headers=token).status_code == 200
    garbled = client.get(f"{PREFIX}/orders.json?page_info=not-a-cursor", headers=token)
    assert garbled.status_code == 400 and "page_info" in garbled.json()["errors"]


def test_order_status_filter_defaults_to_open(client_for, business, token, relaxed):
    client = client_for(business, limits=relaxed)
    orders = business.shopify["orders"].values()
    by_status = {s: client.get(f"{PREFIX}/orders/count.json?status={s}", headers=token).json()["count"]
                 for s in ("open", "closed", "cancelled", "any")}
    assert by_status["any"] == len(orders)
    assert by_status["open"] == sum(1 for o in orders if o["closed_at"] is None and o["cancelled_at"] is None)
    assert by_status["closed"] > 0 and by_status["cancelled"] > 0
    assert client.get(f"{PREFIX}/orders/count.json", headers=token).json()["count"] == by_status["open"]
    default = client.get(f"{PREFIX}/orders.json?limit=250", headers=token).json()["orders"]
    assert all(o["closed_at"] is None and o["cancelled_at"] is None for o in default)
    assert client.get(f"{PREFIX}/orders.json?limit=251", headers=token).status_code == 400


def test_updated_at_min_returns_only_what_changed(client_for, new_business, token, relaxed):
    business = new_business(seed=2, customers=200, history_days=200)
    client = client_for(business, limits=relaxed)
    cursors = {r: max(datetime.fromisoformat(x["updated_at"]) for x in business.shopify[r].values())
               for r in ("orders", "customers", "products")}
    for _ in range(3):
        business.advance_day()
    for resource, cursor in cursors.items():
        params = {"updated_at_min": cursor.isoformat(), "limit": 250, "fields": "id,updated_at"}
        if resource == "orders":
            params["status"] = "any"
        got = client.get(f"{PREFIX}/{resource}.json", params=params, headers=token).json()[resource]
        expected = [i for i, r in business.shopify[resource].items()
                    if datetime.fromisoformat(r["updated_at"]) >= cursor]
        assert [r["id"] for r in got] == expected and len(expected) > 1, resource


def test_single_resources_and_ids_filter(client_for, business, token, relaxed):
    client = client_for(business, limits=relaxed)
    cid = next(iter(business.shopify["customers"]))
    one = client.get(f"{PREFIX}/customers/{cid}.json", headers=token).json()["customer"]
    assert one == business.shopify["customers"][cid]
    assert client.get(f"{PREFIX}/customers/1.json", headers=token).status_code == 404
    ids = list(business.shopify["products"])[:3]
    listed = client.get(f"{PREFIX}/products.json?ids={','.join(map(str, ids))}", headers=token).json()
    assert [p["id"] for p in listed["products"]] == ids
    assert listed["products"][0]["variants"][0]["sku"]


def test_leaky_bucket(client_for, business, token):
    clock = ManualClock()
    client = client_for(business, limits=Limits(shopify_bucket_size=40, shopify_leak_per_second=2, clock=clock))
    for n in range(1, 41):
        answer = client.get(f"{PREFIX}/products/count.json", headers=token)
        assert answer.status_code == 200 and answer.headers["X-Shopify-Shop-Api-Call-Limit"] == f"{n}/40"
    refused = client.get(f"{PREFIX}/products/count.json", headers=token)
    assert refused.status_code == 429
    assert refused.json() == {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to "
                                        "resume uninterrupted service."}
    assert float(refused.headers["Retry-After"]) == pytest.approx(0.5)
    assert refused.headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
    clock.advance(0.5)
    again = client.get(f"{PREFIX}/products/count.json", headers=token)
    assert again.status_code == 200 and again.headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
    clock.advance(10)
    assert client.get(f"{PREFIX}/products/count.json", headers=token).headers[
        "X-Shopify-Shop-Api-Call-Limit"] == "21/40"
