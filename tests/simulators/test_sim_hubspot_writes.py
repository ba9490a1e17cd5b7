"""The HubSpot simulator's tasks, line items, owners and token checks, as Puente's CRM writer uses them."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from puente.simulators import Business, Credentials, Limits, create_app

TASK_KEY = {"name": "puente_task_key", "label": "Puente task key", "type": "string", "fieldType": "text",
            "groupName": "puente", "hasUniqueValue": True}
DUE = "2026-12-02T14:00:00.000Z"


@pytest.fixture
def auth(credentials):
    return {"Authorization": f"Bearer {credentials.hubspot_token}"}


@pytest.fixture
def crm(client_for, new_business):
    """A client of a business of its own (tasks are written), with limits no test here reaches."""
    business = new_business(seed=8, customers=120, history_days=200)
    return business, client_for(business, limits=Limits(hubspot_requests=10_000, hubspot_search_per_second=10_000))


def _task(contact: str, key: str | None = None, **properties: str) -> dict:
    body = {"properties": {"hs_timestamp": DUE, "hs_task_subject": "Llamar", "hs_task_status": "NOT_STARTED",
                           "hs_task_priority": "HIGH", "hs_task_type": "CALL", **properties},
            "associations": [{"to": {"id": contact},
                              "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]}]}
    if key is not None:
        body["properties"]["puente_task_key"] = key
        body["objectWriteTraceId"] = key
    return body


def _unique_task_key(client, auth) -> None:
    assert client.post("/hubspot/crm/v3/properties/tasks/groups", headers=auth,
                       json={"name": "puente", "label": "Puente"}).status_code == 201
    created = client.post("/hubspot/crm/v3/properties/tasks", headers=auth, json=TASK_KEY)
    assert created.status_code == 201 and created.json()["hasUniqueValue"] is True


def test_owners_and_the_contacts_they_own(crm, auth):
    business, client = crm
    owners = client.get("/hubspot/crm/v3/owners", headers=auth).json()["results"]
    assert len(owners) >= 3 and all(o["type"] == "PERSON" and not o["archived"] for o in owners)
    first = owners[0]
    assert client.get(f"/hubspot/crm/v3/owners/{first['id']}", headers=auth).json() == first
    assert client.get(f"/hubspot/crm/v3/owners/{first['userId']}?idProperty=userId", headers=auth).json() == first
    assert client.get("/hubspot/crm/v3/owners/1", headers=auth).status_code == 404
    assert client.get("/hubspot/crm/v3/owners", headers=auth, params={"email": first["email"].upper()}).json()[
        "results"] == [first]
    paged = client.get("/hubspot/crm/v3/owners?limit=2", headers=auth).json()
    assert len(paged["results"]) == 2 and paged["paging"]["next"]["after"] == "2"

    owned = Counter(c["properties"].get("hubspot_owner_id") for c in business.hubspot["contacts"].values())
    assert set(owned) - {None} <= {o["id"] for o in owners}
    assert 0 < owned[None] < 0.15 * sum(owned.values())  # about one contact in twenty has no owner
    listed = client.get("/hubspot/crm/v3/objects/contacts?properties=hubspot_owner_id&limit=100", headers=auth).json()
    assert any(c["properties"]["hubspot_owner_id"] for c in listed["results"])
    prop = client.get("/hubspot/crm/v3/properties/contacts/hubspot_owner_id", headers=auth).json()
    assert prop["type"] == "enumeration" and {o["value"] for o in prop["options"]} == {o["id"] for o in owners}


def test_tasks_created_one_at_a_time_and_found_again(crm, auth):
    business, client = crm
    contact = next(str(i) for i, c in business.hubspot["contacts"].items() if not c["archived"])
    owner = client.get("/hubspot/crm/v3/owners", headers=auth).json()["results"][0]["id"]
    _unique_task_key(client, auth)
    answer = client.post("/hubspot/crm/v3/objects/tasks", headers=auth,
                         json=_task(contact, hubspot_owner_id=owner, puente_task_key="churn:1"))
    assert answer.status_code == 201
    task = answer.json()
    assert task["properties"]["hs_timestamp"] == DUE and task["properties"]["hubspot_owner_id"] == owner
    assert task["createdAt"] == task["updatedAt"] and task["properties"]["hs_createdate"] == task["createdAt"]
    assert business.hubspot_associations[("tasks", int(task["id"]))]["contacts"] == [int(contact)]
    got = client.get(f"/hubspot/crm/v3/objects/tasks/{task['id']}?associations=contacts&properties=puente_task_key",
                     headers=auth).json()
    assert got["properties"]["puente_task_key"] == "churn:1"
    assert got["associations"]["contacts"]["results"] == [{"id": contact, "type": "task_to_contact"}]
    assert [t["id"] for t in client.get("/hubspot/crm/v3/objects/0-27", headers=auth).json()["results"]] == [
        task["id"]]

    conflict = client.post("/hubspot/crm/v3/objects/tasks", headers=auth, json=_task(contact, puente_task_key="churn:1"))
    assert conflict.status_code == 409 and conflict.json()["category"] == "CONFLICT"
    for bad, code in (({"hs_timestamp": ""}, "REQUIRED_FIELD"), ({"hs_task_priority": "URGENT"}, "INVALID_OPTION"),
                      ({"hubspot_owner_id": "123"}, "INVALID_OPTION"), ({"hs_task_color": "red"},
                                                                       "PROPERTY_DOESNT_EXIST")):
        refused = client.post("/hubspot/crm/v3/objects/tasks", headers=auth, json=_task(contact, **bad))
        assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR", bad
        assert [e["code"] for e in refused.json()["errors"]] == [code], bad
    wrong_type = _task(contact)
    wrong_type["associations"][0]["types"][0]["associationTypeId"] = 999
    assert client.post("/hubspot/crm/v3/objects/tasks", headers=auth, json=wrong_type).status_code == 400
    assert client.post("/hubspot/crm/v3/objects/tasks", headers=auth, json=_task("1")).status_code == 400

    search = client.post("/hubspot/crm/v3/objects/tasks/search", headers=auth, json={
        "filterGroups": [{"filters": [{"propertyName": "puente_task_key", "operator": "IN",
                                       "values": ["churn:1", "churn:2"]}]}],
        "properties": ["puente_task_key"], "limit": 200}).json()
    assert search["total"] == 1 and search["results"][0]["id"] == task["id"]


def test_batch_create_with_trace_ids_reports_each_input(crm, auth):
    business, client = crm
    contacts = [str(i) for i, c in business.hubspot["contacts"].items() if not c["archived"]][:3]
    _unique_task_key(client, auth)
    duplicate = _task(contacts[0], "k4")
    duplicate["properties"]["puente_task_key"] = "k1"  # the unique key of the first input
    inputs = [_task(contacts[0], "k1"), _task(contacts[1], "k2", hs_task_type="VISIT"), _task(contacts[2], "k3"),
              duplicate]
    answer = client.post("/hubspot/crm/v3/objects/tasks/batch/create", headers=auth, json={"inputs": inputs})
    assert answer.status_code == 207
    body = answer.json()
    assert sorted(r["objectWriteTraceId"] for r in body["results"]) == ["k1", "k3"]
    failed = {e["context"]["objectWriteTraceId"][0]: e["category"] for e in body["errors"]}
    assert failed == {"k2": "VALIDATION_ERROR", "k4": "CONFLICT"} and body["numErrors"] == 2
    assert len(business.hubspot["tasks"]) == 2

    clean = client.post("/hubspot/crm/v3/objects/tasks/batch/create", headers=auth,
                        json={"inputs": [_task(contacts[1], "k5"), _task(contacts[2], "k6")]})
    assert clean.status_code == 201 and "errors" not in clean.json()

    # Without trace ids, one bad input fails the batch and nothing is created.
    untraced = [_task(contacts[0]), _task(contacts[1], hs_task_status="LATE")]
    refused = client.post("/hubspot/crm/v3/objects/tasks/batch/create", headers=auth, json={"inputs": untraced})
    assert refused.status_code == 400 and len(business.hubspot["tasks"]) == 4
    too_many = client.post("/hubspot/crm/v3/objects/tasks/batch/create", headers=auth,
                           json={"inputs": [_task(contacts[0], f"x{n}") for n in range(101)]})
    assert too_many.status_code == 400 and len(business.hubspot["tasks"]) == 4

    # Written tasks come back in an incremental search on their modification date.
    since = min(t["updatedAt"] for t in business.hubspot["tasks"].values())
    found = client.post("/hubspot/crm/v3/objects/tasks/search", headers=auth, json={
        "filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": since}]}],
        "limit": 100}).json()
    assert found["total"] == 4


def test_one_contact_per_email_address(crm, auth):
    """HubSpot deduplicates contacts by email: the generated business never holds two live contacts
    with one address, and the API refuses a second one in any capitals, as HubSpot does."""
    business, client = crm
    live = [c for c in business.hubspot["contacts"].values() if not c["archived"] and c["properties"].get("email")]
    addresses = Counter(c["properties"]["email"].lower() for c in live)
    assert live and max(addresses.values()) == 1
    holder = live[0]
    taken = {"properties": {"email": holder["properties"]["email"].upper(), "firstname": "Otra"}}
    refused = client.post("/hubspot/crm/v3/objects/contacts", headers=auth, json=taken)
    assert refused.status_code == 409 and refused.json()["category"] == "CONFLICT"
    assert refused.json()["message"] == f"Contact already exists. Existing ID: {holder['id']}"
    made = client.post("/hubspot/crm/v3/objects/contacts", headers=auth,
                       json={"properties": {"email": "nueva.persona@example.com", "firstname": "Nueva"}})
    assert made.status_code == 201
    twice = [{"properties": {"email": "Otra.Mas@example.com"}, "objectWriteTraceId": "a"},
             {"properties": {"email": "otra.mas@example.com"}, "objectWriteTraceId": "b"}]
    answer = client.post("/hubspot/crm/v3/objects/contacts/batch/create", headers=auth, json={"inputs": twice})
    assert answer.status_code == 207 and [r["objectWriteTraceId"] for r in answer.json()["results"]] == ["a"]
    assert [e["context"]["objectWriteTraceId"] for e in answer.json()["errors"]] == [["b"]]


def test_a_relative_with_the_family_mailbox_lands_on_its_contact(new_business):
    """A relative who shares the family's mailbox has no contact of their own with it: the family's one
    contact is theirs too (as the shop's account is), and it stays the first holder's in the truth.
    A business on Salesforce, whose standard duplicate rules only alert, keeps a relative's contact."""
    business = new_business(seed=7, customers=1_500, history_days=400)
    shared = [p for p in business.population.people if any(
        business.records.owner("hubspot", "contacts", cid) != p.id for cid in p.hubspot_contact_ids)]
    assert shared, "no relative of this business reached the CRM with the family's mailbox"
    for p in shared:
        for cid in p.hubspot_contact_ids:
            contact = business.hubspot["contacts"][cid]
            owner = business.population.person(business.records.owner("hubspot", "contacts", cid))
            if owner.id != p.id:
                assert "family_mailbox" in p.variations and owner.email == p.email
                assert (contact["properties"].get("email") or "").lower() == p.email.lower()

    on_salesforce = Business(seed=7, customers=1_500, history_days=400, crm="salesforce")
    held = Counter((c["properties"].get("email") or "").lower() for c in on_salesforce.hubspot["contacts"].values()
                   if not c["archived"])
    assert any(n > 1 for address, n in held.items() if address)


def test_deals_carry_line_items(crm, auth):
    business, client = crm
    deals = business.hubspot["deals"]
    linked = {d: business.hubspot_associations.get(("deals", d), {}).get("line_items", []) for d in deals}
    with_items = [d for d, items in linked.items() if items]
    assert with_items and len(with_items) < len(deals)  # a few deals have no line items
    page = client.get("/hubspot/crm/v3/objects/line_items?associations=deals&limit=100&properties=name,hs_sku,"
                      "quantity,price,hs_discount_percentage,amount", headers=auth).json()
    for item in page["results"]:
        props = item["properties"]
        (deal,) = item["associations"]["deals"]["results"]
        assert deal["type"] == "line_item_to_deal" and int(item["id"]) in linked[int(deal["id"])]
        percent = float(props["hs_discount_percentage"] or 0)
        assert float(props["amount"]) == round(float(props["price"]) * int(props["quantity"]) * (1 - percent / 100), 2)
        assert props["hs_sku"] and props["name"]
    answer = client.post("/hubspot/crm/v4/associations/deals/line_items/batch/read", headers=auth,
                         json={"inputs": [{"id": str(d)} for d in list(deals)[:20]]})
    assert answer.status_code in (200, 207)
    for result in answer.json()["results"]:
        assert {t["toObjectId"] for t in result["to"]} == set(linked[int(result["from"]["id"])])
        assert result["to"][0]["associationTypes"][0]["typeId"] == 19
    truth = {d["hubspot_deal_id"]: d for d in business.integration_truth()["won_deals"]}
    deal_id = next(d for d in with_items if d in truth)
    items = [business.hubspot["line_items"][i]["properties"] for i in linked[deal_id]]
    assert sorted((p["hs_sku"], int(p["quantity"])) for p in items) == sorted(
        (line["sku"], line["quantity"]) for line in truth[deal_id]["lines"])


def test_token_info_and_missing_scopes(business, client_for, credentials):
    client = client_for(business)
    info = client.post("/hubspot/oauth/v2/private-apps/get/access-token-info",
                       json={"tokenKey": credentials.hubspot_token})
    assert info.status_code == 200 and "crm.objects.contacts.write" in info.json()["scopes"]
    assert {"hubId", "appId", "userId"} <= set(info.json())
    assert client.post("/hubspot/oauth/v2/private-apps/get/access-token-info",
                       json={"tokenKey": "pat-na1-nope"}).status_code == 401

    narrow = Credentials(hubspot_scopes=("crm.objects.contacts.read",))
    client = TestClient(create_app(business, narrow))
    auth = {"Authorization": f"Bearer {narrow.hubspot_token}"}
    assert client.get("/hubspot/crm/v3/objects/contacts", headers=auth).status_code == 200
    for method, path, scope in (("POST", "/crm/v3/objects/tasks/batch/create", "crm.objects.contacts.write"),
                                ("GET", "/crm/v3/owners", "crm.objects.owners.read"),
                                ("GET", "/crm/v3/objects/line_items", "crm.objects.line_items.read"),
                                ("POST", "/crm/v3/properties/tasks", "crm.schemas.contacts.write")):
        refused = client.request(method, f"/hubspot{path}", headers=auth, json={})
        assert refused.status_code == 403, path
        body = refused.json()
        assert body["category"] == "MISSING_SCOPES" and body["errors"][0]["context"]["requiredScopes"] == [scope]
    assert client.post("/hubspot/oauth/v2/private-apps/get/access-token-info",
                       json={"tokenKey": narrow.hubspot_token}).json()["scopes"] == ["crm.objects.contacts.read"]
