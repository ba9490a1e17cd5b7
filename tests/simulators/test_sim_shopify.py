"""The Shopify simulator: token auth, versions, Link-header paging, filters, page_info rules, the leaky
bucket, scopes, locations and inventory levels."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from puente.simulators import Credentials, Limits, ManualClock, SimulatorServer, create_app
from puente.sources.shopify import API_VERSION

PREFIX = f"/shopify/admin/api/{API_VERSION}"


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


def test_versions_answer_as_shopify_does(client_for, business, token, relaxed):
    client = client_for(business, limits=relaxed)
    assert API_VERSION == "2026-10"
    current = client.get(f"{PREFIX}/customers/count.json", headers=token)
    assert current.status_code == 200 and current.headers["X-Shopify-API-Version"] == API_VERSION
    retired = client.get("/shopify/admin/api/2025-01/customers/count.json", headers=token)
    assert retired.status_code == 200 and retired.headers["X-Shopify-API-Version"] == "2026-01"  # falls forward
    assert retired.json() == current.json()
    for version in ("2099-01", "2026-02", "latest"):
        assert client.get(f"/shopify/admin/api/{version}/customers.json", headers=token).status_code == 404


def test_locations_and_inventory_levels(client_for, business, token, relaxed):
    client = client_for(business, limits=relaxed)
    (location,) = client.get(f"{PREFIX}/locations.json", headers=token).json()["locations"]
    assert location["active"] and not location["legacy"]
    assert client.get(f"{PREFIX}/locations/count.json", headers=token).json() == {"count": 1}
    assert client.get(f"{PREFIX}/locations/{location['id']}.json", headers=token).json()["location"] == location
    assert client.get(f"{PREFIX}/locations/1.json", headers=token).status_code == 404
    variants = [v for p in business.shopify["products"].values() for v in p["variants"]]
    items = [v["inventory_item_id"] for v in variants]
    first = client.get(f"{PREFIX}/inventory_levels.json", headers=token,
                       params={"inventory_item_ids": ",".join(map(str, items[:3])), "location_ids": location["id"]})
    assert [lv["inventory_item_id"] for lv in first.json()["inventory_levels"]] == sorted(items[:3])
    level = first.json()["inventory_levels"][0]
    assert set(level) == {"inventory_item_id", "location_id", "available", "updated_at", "admin_graphql_api_id"}
    # every level of the location, in pages of at most 250 (here 7), through the Link header
    seen, url = [], f"{PREFIX}/locations/{location['id']}/inventory_levels.json?limit=7"
    while url:
        answer = client.get(url, headers=token)
        seen += answer.json()["inventory_levels"]
        url = links(answer).get("next")
    assert sorted(lv["inventory_item_id"] for lv in seen) == sorted(items)
    untracked = [v for v in variants if v["inventory_management"] is None]
    assert untracked and len(untracked) < len(variants) / 5  # a few items the shop does not count
    by_item = {lv["inventory_item_id"]: lv["available"] for lv in seen}
    assert all(by_item[v["inventory_item_id"]] is None for v in untracked)
    assert all(by_item[v["inventory_item_id"]] == v["inventory_quantity"] for v in variants
               if v["inventory_management"] == "shopify")
    missing = client.get(f"{PREFIX}/inventory_levels.json", headers=token)
    assert missing.status_code == 422
    assert client.get(f"{PREFIX}/inventory_levels.json?location_ids=1&limit=251", headers=token).status_code == 400


def test_set_inventory_level(client_for, new_business, token, credentials):
    business = new_business(seed=6, customers=80, history_days=60)
    clock = ManualClock()
    client = client_for(business, limits=Limits(clock=clock))
    location = business.shop.location["id"]
    product = next(p for p in business.products if p.in_shop and business.shop.tracked(p))
    variant = business.shopify["products"][product.shop_product_id]["variants"][0]
    body = {"location_id": location, "inventory_item_id": variant["inventory_item_id"], "available": 42}
    before = business.shopify["products"][product.shop_product_id]["updated_at"]
    answer = client.post(f"{PREFIX}/inventory_levels/set.json", headers=token, json=body)
    assert answer.status_code == 200 and answer.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    level = answer.json()["inventory_level"]
    assert (level["available"], level["location_id"]) == (42, location)
    after = business.shopify["products"][product.shop_product_id]["updated_at"]
    assert variant["inventory_quantity"] == 42 and after > before  # the products extract sees the change
    assert datetime.fromisoformat(after) >= business.now()
    again = client.post(f"{PREFIX}/inventory_levels/set.json", headers=token, json=body)  # absolute: harmless
    assert again.json()["inventory_level"]["available"] == 42
    changed = client.get(f"{PREFIX}/products.json", headers=token, params={"updated_at_min": before, "limit": 250,
                                                                          "fields": "id"}).json()["products"]
    assert {"id": product.shop_product_id} in changed

    untracked = next(p for p in business.shopify["products"].values() if p["variants"][0]["inventory_management"] is None)
    refused = client.post(f"{PREFIX}/inventory_levels/set.json", headers=token,
                          json={**body, "inventory_item_id": untracked["variants"][0]["inventory_item_id"]})
    assert refused.status_code == 422
    assert refused.json() == {"errors": ["Inventory item does not have inventory tracking enabled"]}
    assert client.post(f"{PREFIX}/inventory_levels/set.json", headers=token,
                       json={**body, "inventory_item_id": 1}).json() == {"errors": "Not Found"}
    assert client.post(f"{PREFIX}/inventory_levels/set.json", headers=token,
                       json={**body, "location_id": 1}).status_code == 404
    blank = client.post(f"{PREFIX}/inventory_levels/set.json", headers=token, json={"location_id": location})
    assert blank.status_code == 400 and "inventory_item_id" in blank.json()["errors"]
    # writes share the bucket with reads
    for _ in range(40):
        last = client.post(f"{PREFIX}/inventory_levels/set.json", headers=token, json=body)
    assert last.status_code == 429 and float(last.headers["Retry-After"]) > 0


def test_access_scopes_and_missing_scopes(business, client_for, token):
    from fastapi.testclient import TestClient

    assert client_for(business).get("/shopify/admin/oauth/access_scopes.json", headers=token).json() == {
        "access_scopes": [{"handle": h} for h in ("read_customers", "read_orders", "read_all_orders", "read_products",
                                                  "read_inventory", "write_inventory", "read_locations")]}
    narrow = Credentials(shopify_scopes=("read_customers", "read_orders", "read_products"))
    token = {"X-Shopify-Access-Token": narrow.shopify_token}
    client = TestClient(create_app(business, narrow, Limits(shopify_bucket_size=10_000)))
    answer = client.get("/shopify/admin/oauth/access_scopes.json", headers=token)
    assert answer.json() == {"access_scopes": [{"handle": h} for h in narrow.shopify_scopes]}
    assert "X-Shopify-API-Version" not in answer.headers  # the one unversioned endpoint
    for method, path, scope in (("GET", "locations.json", "read_locations"),
                                ("GET", "inventory_levels.json?location_ids=1", "read_inventory"),
                                ("POST", "inventory_levels/set.json", "write_inventory")):
        refused = client.request(method, f"{PREFIX}/{path}", headers=token, json={})
        assert refused.status_code == 403
        assert refused.json() == {"errors": f"[API] This action requires merchant approval for {scope} scope."}
    # Without read_all_orders the orders stop 60 days back, silently.
    recent = client.get(f"{PREFIX}/orders/count.json?status=any", headers=token).json()["count"]
    assert 0 < recent < len(business.shopify["orders"])
    oldest = next(iter(business.shopify["orders"]))
    assert client.get(f"{PREFIX}/orders/{oldest}.json", headers=token).status_code == 404
