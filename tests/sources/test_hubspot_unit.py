"""HubSpot without a server: batch answers (200, 207, 400) per contact, and search paging."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from puente.sources.http import SourceError
from puente.sources.hubspot import HubSpotConfig
from puente.sources.hubspot import connector as hubspot
from puente.sources.hubspot.writer import PropertySpec, parse_batch_response


def _result(cid: str) -> dict:
    return {"id": cid, "properties": {}, "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-02T00:00:00Z", "archived": False}


def test_200_confirms_every_contact():
    body = {"status": "COMPLETE", "results": [_result("1"), _result("2")]}
    assert parse_batch_response(200, body, ["1", "2"]) == {"1": None, "2": None}


def test_207_matches_errors_to_ids_and_never_loses_one():
    body = {
        "status": "COMPLETE",
        "results": [_result("1")],
        "numErrors": 2,
        "errors": [
            {"status": "error", "category": "OBJECT_NOT_FOUND",
             "message": "Could not get some CONTACT objects, they may be deleted or not exist.",
             "context": {"ids": ["2"]}, "errors": [], "links": {}},
            {"status": "error", "category": "VALIDATION_ERROR", "message": "Property values were not valid",
             "context": {}, "errors": [], "links": {}},
        ],
    }
    outcome = parse_batch_response(207, body, ["1", "2", "3"])
    assert outcome["1"] is None
    assert outcome["2"].startswith("OBJECT_NOT_FOUND: Could not get some CONTACT objects")
    assert outcome["3"] == "HubSpot answered 207 without confirming this contact"


def test_400_fails_the_whole_batch_with_hubspots_message():
    body = {"status": "error", "category": "VALIDATION_ERROR", "message": "Property puente_x does not exist"}
    assert parse_batch_response(400, body, ["1", "2"]) == {
        "1": "VALIDATION_ERROR: Property puente_x does not exist",
        "2": "VALIDATION_ERROR: Property puente_x does not exist",
    }


def test_property_spec_body_for_an_enumeration():
    spec = PropertySpec("puente_churn_risk", "Churn risk", "enumeration", "select", "band",
                        options=("low", "high"))
    body = spec.body("puente")
    assert body["groupName"] == "puente" and body["type"] == "enumeration"
    assert [o["value"] for o in body["options"]] == ["low", "high"]
    assert all(o["hidden"] is False for o in body["options"])


# --- search paging against an in-memory HubSpot that enforces the 10,000-result cap ----------


def _search_server(contacts: list[dict], cap: int):
    searches: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.startswith("/crm/v3/properties/"):
            return httpx.Response(200, json={"results": [{"name": "loyalty_tier", "hubspotDefined": False}]})
        if request.method == "GET":  # the archived pass
            assert request.url.params["archived"] == "true"
            return httpx.Response(200, json={"results": []})
        body = json.loads(request.content)
        searches.append(body)
        (flt,) = body["filterGroups"][0]["filters"]
        rows = sorted((c for c in contacts if int(c["ms"]) >= int(flt["value"])), key=lambda c: int(c["ms"]))
        start = int(body.get("after", 0))
        if start + body["limit"] > cap:
            return httpx.Response(400, json={"category": "VALIDATION_ERROR", "message": "past the cap"})
        page = rows[start:start + body["limit"]]
        answer = {"total": len(rows), "results": [c["record"] for c in page]}
        if start + body["limit"] < len(rows):
            answer["paging"] = {"next": {"after": str(start + body["limit"])}}
        return httpx.Response(200, json=answer)

    return handler, searches


def _contact(cid: int, ms: int) -> dict:
    stamp = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:23] + "Z"
    return {"ms": str(ms), "record": {"id": str(cid), "properties": {"lastmodifieddate": stamp},
                                      "createdAt": stamp, "updatedAt": stamp, "archived": False}}


def test_search_pages_re_anchored_never_near_the_result_cap(monkeypatch):
    monkeypatch.setattr(hubspot, "SEARCH_CAP", 400)
    contacts = [_contact(i, 1_700_000_000_000 + i) for i in range(1, 1001)]
    handler, searches = _search_server(contacts, cap=400)
    connector = hubspot.HubSpotConnector(HubSpotConfig("https://api.example.test", "t"), lookback=0,
                                         transport=httpx.MockTransport(handler), sleep=lambda s: None)
    pages = list(connector.extract("contacts", str(1_700_000_000_000)))
    ids = {r.source_id for p in pages for r in p.records}
    assert ids == {str(i) for i in range(1, 1001)}
    assert all(s["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}] for s in searches)
    # every page is a new search from the last millisecond seen, skipping the one record seen there
    anchors = [s["filterGroups"][0]["filters"][0]["value"] for s in searches]
    assert anchors == [str(1_700_000_000_000 + n) for n in (0, 200, 400, 600, 800)]
    assert [s.get("after") for s in searches] == [None, "1", "1", "1", "1"]
    assert "email" in searches[0]["properties"]
    assert "loyalty_tier" not in searches[0]["properties"]  # a custom property of the portal: not Puente's to land
    assert pages[-2].cursor == str(1_700_000_001_000)  # the last search page; the archived pass keeps it
    assert pages[-1].cursor is None


def test_search_starts_an_hour_before_the_cursor_by_default():
    handler, searches = _search_server([], cap=400)
    connector = hubspot.HubSpotConnector(HubSpotConfig("https://api.example.test", "t"),
                                         transport=httpx.MockTransport(handler), sleep=lambda s: None)
    pages = list(connector.extract("contacts", str(1_700_003_600_000)))
    assert searches[0]["filterGroups"][0]["filters"][0]["value"] == str(1_700_000_000_000)
    assert pages[0].cursor == str(1_700_003_600_000)  # never older than the cursor it was given


def test_search_fails_clearly_when_one_millisecond_holds_more_than_the_cap(monkeypatch):
    monkeypatch.setattr(hubspot, "SEARCH_CAP", 400)
    handler, _ = _search_server([_contact(i, 1_700_000_000_000) for i in range(1, 700)], cap=400)
    connector = hubspot.HubSpotConnector(HubSpotConfig("https://api.example.test", "t"), lookback=0,
                                         transport=httpx.MockTransport(handler), sleep=lambda s: None)
    with pytest.raises(SourceError, match="run a full refresh"):
        list(connector.extract("contacts", str(1_700_000_000_000)))
