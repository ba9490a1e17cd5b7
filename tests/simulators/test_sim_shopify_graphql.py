"""The Shopify simulator's GraphQL Admin endpoint: inventorySetQuantities over the REST inventory
state, its limits (250 quantities, the cost bucket and THROTTLED), user errors, idempotency keys,
compare-and-swap, scopes, and the GraphQL error shapes for what it does not serve."""

from __future__ import annotations

import pytest

from puente.simulators import Credentials, Limits, ManualClock
from puente.sources.shopify import API_VERSION

PREFIX = f"/shopify/admin/api/{API_VERSION}"
SET = """mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes(quantityNames: ["available"]) { name delta quantityAfterChange
      item { id } } }
    userErrors { field message code }
  }
}"""


@pytest.fixture
def token(credentials):
    return {"X-Shopify-Access-Token": credentials.shopify_token}


def _shop(new_business):
    business = new_business(seed=6, customers=80, history_days=60)
    variants = [v for p in business.shopify["products"].values() for v in p["variants"]]
    tracked = [v for v in variants if v["inventory_management"] == "shopify"]
    untracked = next(v for v in variants if v["inventory_management"] is None)
    return business, tracked, untracked


def _quantity(business, variant_or_item, quantity, **extra):
    item = variant_or_item if isinstance(variant_or_item, int) else variant_or_item["inventory_item_id"]
    return {"inventoryItemId": f"gid://shopify/InventoryItem/{item}",
            "locationId": f"gid://shopify/Location/{business.shop.location['id']}", "quantity": quantity,
            "changeFromQuantity": None, **extra}


def _set(client, token, quantities, key="k-1", query=SET, prefix=PREFIX, **input_extra):
    body = {"query": query, "variables": {"input": {"name": "available", "reason": "correction",
                                                    "quantities": quantities, **input_extra}, "key": key}}
    answer = client.post(f"{prefix}/graphql.json", headers=token, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _levels(client, token, variants):
    answer = client.get(f"{PREFIX}/inventory_levels.json", headers=token, params={
        "inventory_item_ids": ",".join(str(v["inventory_item_id"]) for v in variants)})
    return {lv["inventory_item_id"]: lv["available"] for lv in answer.json()["inventory_levels"]}


def test_set_quantities_is_seen_by_rest_reads_and_the_products_extract(client_for, new_business, token):
    business, tracked, _ = _shop(new_business)
    client = client_for(business, limits=Limits(clock=ManualClock()))
    product = business.shopify["products"][tracked[0]["product_id"]]
    before = product["updated_at"]
    answer = _set(client, token, [_quantity(business, v, 40 + n) for n, v in enumerate(tracked[:3])])
    payload = answer["data"]["inventorySetQuantities"]
    assert payload["userErrors"] == []
    group = payload["inventoryAdjustmentGroup"]
    assert group["id"].startswith("gid://shopify/InventoryAdjustmentGroup/") and group["reason"] == "correction"
    assert [c["quantityAfterChange"] for c in group["changes"]] == [40, 41, 42]
    assert {c["name"] for c in group["changes"]} == {"available"}
    assert _levels(client, token, tracked[:3]) == {v["inventory_item_id"]: 40 + n for n, v in enumerate(tracked[:3])}
    assert product["updated_at"] > before  # the products extract sees the change
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] == cost["actualQueryCost"] == 13  # 10 + group + changes + item
    assert cost["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 1987, "restoreRate": 100.0}
    assert "X-Shopify-Shop-Api-Call-Limit" not in client.post(
        f"{PREFIX}/graphql.json", headers=token, json={"query": "{ shop { name } }"}).headers


def test_a_refused_quantity_sets_nothing_and_says_which(client_for, new_business, token):
    business, tracked, untracked = _shop(new_business)
    client = client_for(business, limits=Limits(clock=ManualClock()))
    before = _levels(client, token, tracked[:2])
    answer = _set(client, token, [_quantity(business, tracked[0], 7), _quantity(business, 1, 7),
                                  _quantity(business, untracked, 7),
                                  {**_quantity(business, tracked[1], 7), "locationId": "gid://shopify/Location/9"},
                                  _quantity(business, tracked[0], 8)])
    payload = answer["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "quantities", "1", "inventoryItemId"], "INVALID_INVENTORY_ITEM"),
        (["input", "quantities", "2", "inventoryItemId"], "NON_MUTABLE_INVENTORY_ITEM"),
        (["input", "quantities", "3", "locationId"], "INVALID_LOCATION"),
        (["input", "quantities", "4"], "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR")]
    assert _levels(client, token, tracked[:2]) == before  # all or nothing
    assert answer["extensions"]["cost"]["actualQueryCost"] == 10  # no group came back
    bad_reason = _set(client, token, [_quantity(business, tracked[0], 7)], key="k-2", reason="because")
    assert bad_reason["data"]["inventorySetQuantities"]["userErrors"] == [
        {"field": ["input", "reason"], "message": "The specified reason is invalid.", "code": "INVALID_REASON"}]


def test_at_most_250_quantities(client_for, new_business, token):
    business, tracked, _ = _shop(new_business)
    client = client_for(business, limits=Limits(clock=ManualClock()))
    before = _levels(client, token, tracked)
    answer = _set(client, token, [_quantity(business, tracked[n % len(tracked)], 5) for n in range(251)])
    assert "data" not in answer
    (error,) = answer["errors"]
    assert error["message"] == "The input array size of 251 is greater than the maximum allowed of 250."
    assert error["extensions"] == {"code": "MAX_INPUT_SIZE_EXCEEDED"}
    assert error["path"] == ["inventorySetQuantities", "input", "quantities"]
    assert _levels(client, token, tracked) == before


def test_cost_bucket_throttles_and_restores(client_for, new_business, token):
    business, tracked, _ = _shop(new_business)
    clock = ManualClock()
    client = client_for(business, limits=Limits(shopify_graphql_points=30, shopify_graphql_restore_per_second=10,
                                                clock=clock))
    for n in range(2):
        answer = _set(client, token, [_quantity(business, tracked[0], n)], key=f"k-{n}")
        assert answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 30 - 13 * (n + 1)
    throttled = _set(client, token, [_quantity(business, tracked[0], 99)], key="k-2")
    assert "data" not in throttled
    assert throttled["errors"] == [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
    assert throttled["extensions"]["cost"] == {"requestedQueryCost": 13, "actualQueryCost": None, "throttleStatus": {
        "maximumAvailable": 30.0, "currentlyAvailable": 4, "restoreRate": 10.0}}
    assert _levels(client, token, tracked[:1]) == {tracked[0]["inventory_item_id"]: 1}  # not run
    clock.advance((13 - 4) / 10)  # what Shopify says to wait: (requested - available) / restoreRate
    again = _set(client, token, [_quantity(business, tracked[0], 99)], key="k-2")
    assert again["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _levels(client, token, tracked[:1]) == {tracked[0]["inventory_item_id"]: 99}


def test_idempotency_key_and_compare_and_swap_from_2026_04(client_for, new_business, token):
    business, tracked, _ = _shop(new_business)
    client = client_for(business, limits=Limits(clock=ManualClock()))
    item = tracked[0]["inventory_item_id"]
    assert _set(client, token, [_quantity(business, tracked[0], 10)], key="same")["data"][
        "inventorySetQuantities"]["userErrors"] == []
    business.shopify_set_level(item, 3)  # the shop sells in between
    replay = _set(client, token, [_quantity(business, tracked[0], 10)], key="same")
    assert replay["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _levels(client, token, tracked[:1]) == {item: 3}  # a retry with the same key is not applied again
    mismatch = _set(client, token, [_quantity(business, tracked[0], 11)], key="same")
    assert mismatch["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"

    keyless = SET.replace(", $key: String!", "").replace(" @idempotent(key: $key)", "")
    answer = client.post(f"{PREFIX}/graphql.json", headers=token, json={"query": keyless, "variables": {"input": {
        "name": "available", "reason": "correction", "quantities": [_quantity(business, tracked[0], 12)]}}}).json()
    assert answer["data"] == {"inventorySetQuantities": None}
    assert answer["errors"][0]["message"] == ("The @idempotent directive is required for this mutation but was not "
                                              "provided.")
    assert answer["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}

    without = {k: v for k, v in _quantity(business, tracked[0], 12).items() if k != "changeFromQuantity"}
    assert "changeFromQuantity" in _set(client, token, [without], key="k-3")["errors"][0]["message"]
    stale = _set(client, token, [_quantity(business, tracked[0], 12, changeFromQuantity=7)], key="k-4")
    assert stale["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    fresh = _set(client, token, [_quantity(business, tracked[0], 12, changeFromQuantity=3)], key="k-5")
    assert fresh["data"]["inventorySetQuantities"]["userErrors"] == []
    # the fields 2026-04 removed are unknown input fields now
    old = _set(client, token, [_quantity(business, tracked[0], 12)], key="k-6", ignoreCompareQuantity=True)
    assert old["errors"][0]["extensions"]["problems"][0] == {
        "path": ["ignoreCompareQuantity"], "explanation": "Field is not defined on InventorySetQuantitiesInput"}
    # 2026-01 (still served) has the older pair and no mandatory key
    legacy = {k: v for k, v in _quantity(business, tracked[0], 13).items() if k != "changeFromQuantity"}
    older = _set(client, token, [legacy], key="k-7", prefix="/shopify/admin/api/2026-01", ignoreCompareQuantity=True)
    assert older["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _levels(client, token, tracked[:1]) == {item: 13}
    unchecked = _set(client, token, [legacy], key="k-8", prefix="/shopify/admin/api/2026-01")
    assert unchecked["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "COMPARE_QUANTITY_REQUIRED"
    writers_form = _set(client, token, [_quantity(business, tracked[0], 14)], key="k-9",
                        prefix="/shopify/admin/api/2026-01")  # changeFromQuantity: null, new in 2026-01
    assert writers_form["data"]["inventorySetQuantities"]["userErrors"] == []


def test_auth_scope_and_graphql_errors(client_for, new_business, token):
    from fastapi.testclient import TestClient

    from puente.simulators import create_app

    business, tracked, _ = _shop(new_business)
    client = client_for(business, limits=Limits(clock=ManualClock()))
    wrong = client.post(f"{PREFIX}/graphql.json", headers={"X-Shopify-Access-Token": "shpat_wrong"},
                        json={"query": SET})
    assert wrong.status_code == 401
    assert wrong.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}

    narrow = Credentials(shopify_scopes=("read_inventory", "read_locations"))
    reader = TestClient(create_app(business, narrow, Limits(clock=ManualClock())))
    denied = _set(reader, {"X-Shopify-Access-Token": narrow.shopify_token}, [_quantity(business, tracked[0], 1)])
    assert denied["data"] == {"inventorySetQuantities": None}
    (error,) = denied["errors"]
    assert error["extensions"]["code"] == "ACCESS_DENIED" and "`write_inventory` access scope" in error["message"]

    query = client.post(f"{PREFIX}/graphql.json", headers=token, json={"query": "{ shop { name } }"}).json()
    assert query["errors"][0]["extensions"] == {"code": "undefinedField", "typeName": "QueryRoot", "fieldName": "shop"}
    other = client.post(f"{PREFIX}/graphql.json", headers=token, json={
        "query": "mutation { inventoryAdjustQuantities(input: {}) { userErrors { message } } }"}).json()
    assert other["errors"][0]["message"] == "Field 'inventoryAdjustQuantities' doesn't exist on type 'Mutation'"
    unknown = _set(client, token, [_quantity(business, tracked[0], 1)], query=SET.replace("reason", "why"))
    assert unknown["errors"][0]["message"] == "Field 'why' doesn't exist on type 'InventoryAdjustmentGroup'"
    broken = client.post(f"{PREFIX}/graphql.json", headers=token, json={"query": "mutation { inventorySetQuantities("})
    assert broken.status_code == 200 and broken.json()["errors"][0]["locations"] == [{"line": 1, "column": 35}]
    assert client.post(f"{PREFIX}/graphql.json", headers=token, json={}).status_code == 400


def test_documents_are_read_by_graphql_core(client_for, new_business, token):
    """Aliases, named and inline fragments and __typename work as in any GraphQL server, and what the
    schema does not have is refused in Shopify's words before anything runs or is charged."""
    business, tracked, _ = _shop(new_business)
    client = client_for(business, limits=Limits(clock=ManualClock()))
    fragments = """mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
      stock: inventorySetQuantities(input: $input) @idempotent(key: $key) { __typename ...Payload }
    }
    fragment Payload on InventorySetQuantitiesPayload {
      inventoryAdjustmentGroup { ... on InventoryAdjustmentGroup { changes(quantityNames: ["on_hand"]) {
        name quantityAfterChange location { name } } } }
      userErrors { code }
    }"""
    answer = _set(client, token, [_quantity(business, tracked[0], 21)], query=fragments)
    stock = answer["data"]["stock"]
    assert stock["__typename"] == "InventorySetQuantitiesPayload" and stock["userErrors"] == []
    assert [(c["name"], c["quantityAfterChange"]) for c in stock["inventoryAdjustmentGroup"]["changes"]] == [
        ("on_hand", 21)]
    assert answer["extensions"]["cost"]["actualQueryCost"] == 13  # 10 + group + changes + location

    root = client.post(f"{PREFIX}/graphql.json", headers=token, json={"query": "{ __typename }"}).json()
    assert root["data"] == {"__typename": "QueryRoot"}

    bad_variable = _set(client, token, [_quantity(business, tracked[0], "many")], key="k-2")
    (error,) = bad_variable["errors"]
    assert error["extensions"]["code"] == "INVALID_VARIABLE" and "data" not in bad_variable
    assert error["extensions"]["problems"] == [
        {"path": ["quantities", 0, "quantity"], "explanation": 'Could not coerce value "many" to Int'}]
    assert error["message"].startswith("Variable $input of type InventorySetQuantitiesInput! was provided invalid "
                                       "value for quantities.0.quantity")

    extra = _set(client, token, [_quantity(business, tracked[0], 1)], key="k-3",
                 query=SET.replace("(input: $input)", "(input: $input, force: true)"))
    assert extra["errors"][0]["extensions"] == {"code": "argumentNotAccepted", "name": "inventorySetQuantities",
                                                "typeName": "Field", "argumentName": "force"}
    keyless = _set(client, token, [_quantity(business, tracked[0], 1)], key="k-4",
                   query=SET.replace("@idempotent(key: $key)", "@idempotent"))
    messages = [e["message"] for e in keyless["errors"]]
    assert "Directive 'idempotent' is missing required arguments: key" in messages
    assert "extensions" not in keyless  # refused before it was charged
    assert _levels(client, token, tracked[:1]) == {tracked[0]["inventory_item_id"]: 21}
