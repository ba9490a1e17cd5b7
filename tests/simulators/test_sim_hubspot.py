"""The HubSpot simulator: auth, paging, search, the 10k cap, rate limits, properties, batch writes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from order_numbers import orders_as_seen

from puente.simulators import Credentials, Limits, ManualClock, SimulatorServer, create_app, landing
from puente.simulators.business import hubspot_ts
from puente.sources.hubspot import HubSpotConfig, HubSpotConnector

SCORED_AT_MS = int(datetime(2026, 11, 18, 6, 30, tzinfo=UTC).timestamp() * 1000)
WRITE_BACK = [
    {"name": "puente_churn_score", "label": "Churn score", "type": "number", "fieldType": "number",
     "groupName": "puente"},
    {"name": "puente_churn_risk", "label": "Churn risk", "type": "enumeration", "fieldType": "select",
     "groupName": "puente", "options": [{"label": v.title(), "value": v, "hidden": False}
                                        for v in ("low", "medium", "high")]},
    {"name": "puente_scored_at", "label": "Scored at", "type": "datetime", "fieldType": "date",
     "groupName": "puente"},
]


@pytest.fixture
def auth(credentials):
    return {"Authorization": f"Bearer {credentials.hubspot_token}"}


def create_write_back_properties(client, auth) -> None:
    assert client.post("/hubspot/crm/v3/properties/contacts/groups", headers=auth,
                       json={"name": "puente", "label": "Puente"}).status_code == 201
    for spec in WRITE_BACK:
        assert client.post("/hubspot/crm/v3/properties/contacts", headers=auth, json=spec).status_code == 201


def test_requests_without_a_valid_token_get_401(client_for, business):
    client = client_for(business)
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic abc"}):
        answer = client.get("/hubspot/crm/v3/objects/contacts", headers=headers)
        assert answer.status_code == 401
        body = answer.json()
        assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
        assert body["correlationId"] and body["message"]


def test_listing_walks_every_object_once_over_http(business, credentials):
    auth = {"Authorization": f"Bearer {credentials.hubspot_token}"}
    with SimulatorServer(create_app(business, credentials)) as server, \
            httpx.Client(base_url=f"{server.base_url}/hubspot", headers=auth) as http:
        for obj in ("contacts", "companies", "deals"):
            seen, after = [], None
            while True:
                params = {"limit": 7, **({"after": after} if after else {})}
                page = http.get(f"/crm/v3/objects/{obj}", params=params).json()
                seen += [r["id"] for r in page["results"]]
                after = page.get("paging", {}).get("next", {}).get("after")
                if after is None:
                    break
            live = [str(i) for i, r in business.hubspot[obj].items() if not r["archived"]]
            assert seen == live, obj


def test_list_options_properties_archived_and_associations(client_for, business, auth):
    client = client_for(business)
    default = client.get("/hubspot/crm/v3/objects/contacts", headers=auth).json()
    assert len(default["results"]) == 10
    assert set(default["results"][0]["properties"]) == {"createdate", "email", "firstname", "hs_object_id",
                                                        "lastmodifieddate", "lastname"}
    chosen = client.get("/hubspot/crm/v3/objects/contacts?properties=tax_id,phone,nonexistent&limit=3",
                        headers=auth).json()
    assert set(chosen["results"][0]["properties"]) == {"tax_id", "phone", "createdate", "lastmodifieddate",
                                                       "hs_object_id"}
    assert client.get("/hubspot/crm/v3/objects/contacts?limit=101", headers=auth).status_code == 400
    deals = client.get("/hubspot/crm/v3/objects/deals?associations=contacts&limit=20", headers=auth).json()
    linked = [a["id"] for d in deals["results"] for a in d["associations"]["contacts"]["results"]]
    assert linked and all(int(i) in business.hubspot["contacts"] for i in linked)
    archived = [i for i, r in business.hubspot["contacts"].items() if r["archived"]]
    listed = client.get("/hubspot/crm/v3/objects/contacts?archived=true&limit=100", headers=auth).json()
    assert [int(r["id"]) for r in listed["results"]] == archived[:100]
    one = next(i for i, r in business.hubspot["contacts"].items() if not r["archived"])
    got = client.get(f"/hubspot/crm/v3/objects/contacts/{one}", headers=auth)
    assert got.status_code == 200 and got.json()["id"] == str(one)
    missing = client.get("/hubspot/crm/v3/objects/contacts/1", headers=auth)
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"


def test_search_by_last_modified_returns_only_what_changed(client_for, new_business, auth):
    business = new_business(seed=6, customers=300, history_days=200)
    client = client_for(business, limits=Limits(hubspot_search_per_second=1000))
    cursor = max(r["properties"]["lastmodifieddate"] for r in business.hubspot["contacts"].values())
    for _ in range(4):
        business.advance_day()
    cursor_ms = str(int(datetime.fromisoformat(cursor).timestamp() * 1000) + 1)
    body = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE",
                                           "value": cursor_ms}]}],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["lastmodifieddate"], "limit": 3}
    found, total = [], None
    while True:
        page = client.post("/hubspot/crm/v3/objects/contacts/search", json=body, headers=auth).json()
        total = page["total"]
        found += page["results"]
        if "paging" not in page:
            break
        body["after"] = page["paging"]["next"]["after"]
    expected = sorted(i for i, r in business.hubspot["contacts"].items()
                      if r["properties"]["lastmodifieddate"] > cursor and not r["archived"])
    assert expected and sorted(int(r["id"]) for r in found) == expected and total == len(expected)
    stamps = [r["properties"]["lastmodifieddate"] for r in found]
    assert stamps == sorted(stamps)


def test_search_operators_and_validation(client_for, business, auth):
    client = client_for(business, limits=Limits(hubspot_search_per_second=1000))

    def search(body):
        return client.post("/hubspot/crm/v3/objects/contacts/search", json=body, headers=auth)

    def ids(filters):
        return {r["id"] for r in search({"filterGroups": [{"filters": filters}], "limit": 200}).json()["results"]}
    leads = ids([{"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"}])
    customers = ids([{"propertyName": "lifecyclestage", "operator": "IN", "values": ["customer"]}])
    either = {r["id"] for r in search({"filterGroups": [
        {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"}]},
        {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}]}],
        "limit": 200}).json()["results"]}
    assert leads and customers and either == leads | customers
    with_tax = ids([{"propertyName": "tax_id", "operator": "HAS_PROPERTY"}])
    without = ids([{"propertyName": "tax_id", "operator": "NOT_HAS_PROPERTY"}])
    assert with_tax and without and not with_tax & without
    assert search({"limit": 201}).status_code == 400
    assert search({"filterGroups": [{"filters": [{"propertyName": "colour", "operator": "EQ",
                                                  "value": "red"}]}]}).status_code == 400
    assert search({"filterGroups": [{"filters": []}] * 6}).status_code == 400


def test_search_refuses_to_page_past_ten_thousand_results(client_for, business, auth):
    client = client_for(business)
    assert client.post("/hubspot/crm/v3/objects/contacts/search", json={"after": "9999"},
                       headers=auth).status_code == 200
    refused = client.post("/hubspot/crm/v3/objects/contacts/search", json={"after": "10000", "limit": 10},
                          headers=auth)
    assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR"


def test_ten_secondly_rolling_window(client_for, business, auth):
    clock = ManualClock()
    client = client_for(business, limits=Limits(hubspot_requests=5, hubspot_window_seconds=10, clock=clock))
    remaining = []
    for _ in range(5):
        answer = client.get("/hubspot/crm/v3/objects/contacts?limit=1", headers=auth)
        assert answer.status_code == 200
        remaining.append(int(answer.headers["X-HubSpot-RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    refused = client.get("/hubspot/crm/v3/objects/contacts?limit=1", headers=auth)
    assert refused.status_code == 429
    body = refused.json()
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["status"] == "error" and body["correlationId"] and "ten_secondly_rolling" in body["message"]
    assert refused.headers["Retry-After"] == "10"
    clock.advance(9.9)
    assert client.get("/hubspot/crm/v3/objects/contacts?limit=1", headers=auth).status_code == 429
    clock.advance(0.2)
    assert client.get("/hubspot/crm/v3/objects/contacts?limit=1", headers=auth).status_code == 200


def test_search_has_its_own_per_second_limit(client_for, business, auth):
    clock = ManualClock()
    client = client_for(business, limits=Limits(hubspot_requests=100, hubspot_search_per_second=5, clock=clock))
    for _ in range(5):
        assert client.post("/hubspot/crm/v3/objects/contacts/search", json={}, headers=auth).status_code == 200
    refused = client.post("/hubspot/crm/v3/objects/contacts/search", json={}, headers=auth)
    assert refused.status_code == 429 and refused.json()["policyName"] == "SECONDLY"
    listed = client.get("/hubspot/crm/v3/objects/contacts?limit=1", headers=auth)
    assert listed.headers["X-HubSpot-RateLimit-Remaining"] == "99"  # searches do not count there
    clock.advance(1.0)
    assert client.post("/hubspot/crm/v3/objects/contacts/search", json={}, headers=auth).status_code == 200


def test_write_back_properties_exist_only_once_created(client_for, new_business, auth):
    client = client_for(new_business(customers=30, history_days=60))
    names = {p["name"] for p in client.get("/hubspot/crm/v3/properties/contacts", headers=auth).json()["results"]}
    assert "tax_id" in names and not {s["name"] for s in WRITE_BACK} & names
    assert client.get("/hubspot/crm/v3/properties/contacts/puente_churn_score", headers=auth).status_code == 404
    no_group = client.post("/hubspot/crm/v3/properties/contacts", headers=auth, json=WRITE_BACK[0])
    assert no_group.status_code == 400 and "groups" in no_group.json()["message"]
    create_write_back_properties(client, auth)
    again = client.post("/hubspot/crm/v3/properties/contacts", headers=auth, json=WRITE_BACK[0])
    assert again.status_code == 409 and again.json()["category"] == "OBJECT_ALREADY_EXISTS"
    risk = client.get("/hubspot/crm/v3/properties/contacts/puente_churn_risk", headers=auth).json()
    assert [o["value"] for o in risk["options"]] == ["low", "medium", "high"] and risk["hubspotDefined"] is False
    bad = {**WRITE_BACK[1], "name": "other_risk", "options": []}
    assert client.post("/hubspot/crm/v3/properties/contacts", headers=auth, json=bad).status_code == 400
    mismatched = {**WRITE_BACK[0], "name": "other_score", "fieldType": "select"}
    assert client.post("/hubspot/crm/v3/properties/contacts", headers=auth, json=mismatched).status_code == 400


def test_batch_update_reports_partial_failures_with_207(client_for, new_business, auth):
    business = new_business(customers=60, history_days=90)
    client = client_for(business)
    create_write_back_properties(client, auth)
    live = [i for i, r in business.hubspot["contacts"].items() if not r["archived"]]
    good, typo, read_only = live[:3]
    before = dict(business.hubspot["contacts"][typo]["properties"])
    inputs = [
        {"id": str(good), "properties": {"puente_churn_score": "0.82", "puente_churn_risk": "high",
                                         "puente_scored_at": str(SCORED_AT_MS)}},
        {"id": "999999999", "properties": {"puente_churn_score": "0.1"}},
        {"id": str(typo), "properties": {"puente_churn_scor": "0.5"}},
        {"id": str(read_only), "properties": {"lastmodifieddate": "0"}},
    ]
    answer = client.post("/hubspot/crm/v3/objects/contacts/batch/update", json={"inputs": inputs}, headers=auth)
    assert answer.status_code == 207
    body = answer.json()
    assert body["status"] == "COMPLETE" and [r["id"] for r in body["results"]] == [str(good)]
    assert body["numErrors"] == 3
    categories = sorted(e["category"] for e in body["errors"])
    assert categories == ["OBJECT_NOT_FOUND", "VALIDATION_ERROR", "VALIDATION_ERROR"]
    codes = {d["code"] for e in body["errors"] for d in e["errors"]}
    assert codes == {"PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE"}
    written = business.hubspot["contacts"][good]
    now = hubspot_ts(business.now())
    assert written["properties"]["puente_churn_risk"] == "high" and written["updatedAt"] == now
    assert written["properties"]["lastmodifieddate"] == now
    assert written["properties"]["puente_scored_at"] == "2026-11-18T06:30:00.000Z"
    assert business.hubspot["contacts"][typo]["properties"] == before
    ok = client.post("/hubspot/crm/v3/objects/contacts/batch/update", headers=auth,
                     json={"inputs": [{"id": str(good), "properties": {"puente_churn_risk": "low"}}]})
    assert ok.status_code == 200 and "errors" not in ok.json()
    invalid = client.post("/hubspot/crm/v3/objects/contacts/batch/update", headers=auth,
                          json={"inputs": [{"id": str(good), "properties": {"puente_churn_risk": "extreme"}}]})
    assert invalid.status_code == 207 and invalid.json()["errors"][0]["errors"][0]["code"] == "INVALID_OPTION"


def test_batch_update_limits(client_for, business, auth):
    client = client_for(business)
    too_many = [{"id": str(1000 + n), "properties": {"city": "Cali"}} for n in range(101)]
    answer = client.post("/hubspot/crm/v3/objects/contacts/batch/update", json={"inputs": too_many}, headers=auth)
    assert answer.status_code == 400 and answer.json()["category"] == "VALIDATION_ERROR"
    twice = [{"id": "1001", "properties": {}}, {"id": "1001", "properties": {}}]
    assert client.post("/hubspot/crm/v3/objects/contacts/batch/update", json={"inputs": twice},
                       headers=auth).status_code == 400


def test_a_ticket_cites_the_order_number_its_customer_saw(new_business):
    """A customer writing in about an order gives its number as they saw it (the shop's order name,
    the ERP's sale order), or none; never the simulation's own order id. Landed straight from the
    stores (the identity bench's path), a ticket carries its contact as the connector lands it."""
    business = new_business(customers=300, history_days=400)
    orders = orders_as_seen(business)
    cited = {"shop": 0, "erp": 0}
    for rid, ticket in business.hubspot["tickets"].items():
        subject, order_id = ticket["properties"]["subject"], business.records.truth[("hubspot", "tickets", rid)][1]
        written = re.findall(r"#?[A-Z]*\d{3,}", subject)
        assert order_id not in subject and "  " not in subject
        if written:
            saw = orders[order_id][1]
            assert written == [saw], (subject, saw)
            cited["shop" if saw.startswith("#") else "erp"] += 1
    assert cited["shop"] > 3 and cited["erp"] > 3, cited
    landed = {int(source_id): json.loads(record) for source_id, record, *_ in
              landing._rows(business, "hubspot", "tickets")}
    assert {rid: [r["id"] for r in t["associations"]["contacts"]["results"]] for rid, t in landed.items()} == {
        rid: [str(c) for c in business.hubspot_associations[("tickets", rid)]["contacts"]]
        for rid in business.hubspot["tickets"]}


def test_tickets_are_extracted_with_their_contacts_in_full_and_incrementally(new_business, credentials):
    """The connector reads the service desk's tickets: the first run lists them with their contacts,
    the next searches what changed (closed, reopened, new) and reads their contacts through v4."""
    business = new_business(customers=300, history_days=400)
    tickets = business.hubspot["tickets"]
    contacts = {rid: business.hubspot_associations[("tickets", rid)]["contacts"] for rid in tickets}
    assert len(tickets) > 30 and all(len(c) == 1 for c in contacts.values())
    with SimulatorServer(create_app(business, credentials)) as server:
        connector = HubSpotConnector(HubSpotConfig(f"{server.base_url}/hubspot", credentials.hubspot_token),
                                     lookback=0, sleep=lambda s: None)
        pages = list(connector.extract("tickets", None))
        first = {r.source_id: r for page in pages for r in page.records}
        assert set(first) == {str(rid) for rid in tickets}
        for rid, ticket in tickets.items():
            landed = first[str(rid)].payload
            assert landed["associations"]["contacts"]["results"][0]["id"] == str(contacts[rid][0])
            assert landed["properties"]["hs_pipeline_stage"] == ticket["properties"]["hs_pipeline_stage"]
            assert "content" not in landed["properties"]  # the ticket's text is not Puente's to land
        cursor = max(page.cursor for page in pages if page.cursor)
        changed: set[str] = set()
        while len(changed) < 3:
            business.advance_day()
            changed |= {str(rid) for system, obj, rid in business.changed_today() if obj == "tickets"}
        again = {r.source_id: r for page in connector.extract("tickets", cursor) for r in page.records}
        assert changed <= set(again)
        for tid in changed:
            rid, landed = int(tid), again[tid].payload
            assert all(tickets[rid]["properties"].get(k) == v for k, v in landed["properties"].items())
            assert landed["associations"]["contacts"]["results"][0]["id"] == str(
                business.hubspot_associations[("tickets", rid)]["contacts"][0])

    narrow = Credentials(hubspot_scopes=("crm.objects.contacts.read",))
    answer = TestClient(create_app(business, narrow)).get(
        "/hubspot/crm/v3/objects/tickets", headers={"Authorization": f"Bearer {narrow.hubspot_token}"})
    assert answer.status_code == 403 and answer.json()["errors"][0]["context"]["requiredScopes"] == ["tickets"]
