"""Stripe: the connector against a scripted API (httpx.MockTransport) for the queries it sends, its
paging, the events pass and the faults of one request (429 with and without Retry-After, 5xx, a
timeout: the walk goes on from the same starting_after), then against the simulator over HTTP into
a real PostgreSQL for a night with faults, malformed objects quarantined, and a refund days later
caught through the events."""

from __future__ import annotations

import logging
import random
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
import pytest

from puente.extract import extract_source
from puente.sources import registry
from puente.sources.http import RetryPolicy, SourceError
from puente.sources.stripe import StripeConfig, StripeConnector
from puente.sources.stripe.connector import stamp
from puente.warehouse import raw_object

API = "https://api.stripe.com"
KEY = "sk_live_" + "k" * 99
TODAY = date(2026, 11, 16)
T0 = datetime(2026, 11, 10, 12, tzinfo=UTC)


def charge(n: int, minutes: int, **fields) -> dict:
    return {"id": f"ch_{n:04d}", "object": "charge", "created": int((T0 + timedelta(minutes=minutes)).timestamp()),
            "amount": 11_900_000, "currency": "cop", "status": "succeeded", "refunded": False,
            "metadata": {"order_id": str(1000 + n), "order_number": str(1000 + n)},
            "billing_details": {"email": "ana@example.co", "name": "Ana"}, **fields}


class Api:
    """Answers lists as Stripe does: newest first, ``created[gte]``, ``limit``, ``starting_after``;
    events filtered by ``types[]``; one charge by id."""

    def __init__(self, charges: list[dict], events: list[dict] | None = None):
        self.charges, self.events, self.seen = charges, events or [], []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {KEY}" and request.headers["Stripe-Version"]
        params = request.url.params
        self.seen.append((request.url.path, dict(params), params.get_list("types[]")))
        if request.url.path.startswith("/v1/charges/"):
            return httpx.Response(200, json=next(c for c in self.charges if c["id"] == request.url.path[12:]))
        items = self.charges if request.url.path == "/v1/charges" else [
            e for e in self.events if e["type"] in params.get_list("types[]")]
        items = sorted(items, key=lambda i: i["created"], reverse=True)
        if "created[gte]" in params:
            items = [i for i in items if i["created"] >= int(params["created[gte]"])]
        if "starting_after" in params:
            items = items[[i["id"] for i in items].index(params["starting_after"]) + 1:]
        limit = int(params["limit"])
        return httpx.Response(200, json={"object": "list", "url": request.url.path, "has_more": len(items) > limit,
                                         "data": items[:limit]})


def connector(transport, **options) -> StripeConnector:
    options.setdefault("now", T0 + timedelta(days=1))
    return StripeConnector(StripeConfig(API, KEY), transport=transport, sleep=lambda s: None, lookback=3600,
                           **options)


def test_new_objects_by_created_paged_by_id_then_changes_from_events_and_the_cursor_last():
    charges = [charge(n, n) for n in range(1, 8)]
    refunded = {**charge(0, -600), "refunded": True, "amount_refunded": 11_900_000}  # made ten hours earlier
    disputed = {**charge(9, -700), "disputed": True}
    events = [{"id": "evt_1", "type": "charge.refunded", "created": charges[-1]["created"] + 60,
               "data": {"object": refunded}},
              {"id": "evt_2", "type": "charge.dispute.created", "created": charges[-1]["created"] + 120,
               "data": {"object": {"id": "du_1", "object": "dispute", "charge": "ch_0009"}}}]
    api = Api([*charges, disputed], events)
    pages = list(connector(httpx.MockTransport(api), page_size=3).extract("charges", stamp(T0)))
    lists = [s for s in api.seen if s[0] == "/v1/charges"]
    assert lists[0][1] == {"created[gte]": str(int((T0 - timedelta(hours=1)).timestamp())), "limit": "3"}
    assert [s[1].get("starting_after") for s in lists] == [None, "ch_0005", "ch_0002"]
    assert [[r.source_id for r in p.records] for p in pages[:3]] == [
        ["ch_0007", "ch_0006", "ch_0005"], ["ch_0004", "ch_0003", "ch_0002"], ["ch_0001"]]
    # the events pass: the refunded charge as the event holds it, the disputed one read again
    changed = [r for p in pages[3:] for r in p.records]
    assert [(r.source_id, r.updated_at, r.payload.get("refunded"), r.payload.get("disputed")) for r in changed] == [
        ("ch_0000", stamp(T0 + timedelta(minutes=8)), True, None),
        ("ch_0009", stamp(T0 + timedelta(minutes=9)), False, True)]
    event_query = next(s for s in api.seen if s[0] == "/v1/events")
    assert "charge.refunded" in event_query[2] and "charge.dispute.created" in event_query[2]
    assert len(event_query[2]) <= 20
    assert [p.cursor for p in pages] == [None] * (len(pages) - 1) + [stamp(T0 + timedelta(minutes=9))]
    landed = pages[0].records[0].payload
    assert "billing_details" not in landed and landed["metadata"] == {"order_id": "1007", "order_number": "1007"}
    # the first night lists everything and reads no events
    api.seen.clear()
    first = list(connector(httpx.MockTransport(api)).extract("charges", None))
    assert {s[0] for s in api.seen} == {"/v1/charges"} and "created[gte]" not in api.seen[0][1]
    assert sum(len(p.records) for p in first) == 8


def test_past_the_30_days_of_events_the_walk_lists_everything_stamped_now(caplog):
    api = Api([charge(1, 1), charge(2, 2)])
    now = T0 + timedelta(days=40)
    with caplog.at_level(logging.WARNING):
        pages = list(connector(httpx.MockTransport(api), now=now).extract("charges", stamp(T0 + timedelta(days=5))))
    assert "created[gte]" not in api.seen[0][1] and all(s[0] == "/v1/charges" for s in api.seen)
    assert {r.updated_at for p in pages for r in p.records} == {stamp(now)} and pages[-1].cursor == stamp(now)
    assert "30 days Stripe keeps events" in caplog.text


def test_429_with_and_without_retry_after_5xx_and_a_timeout_go_on_from_the_same_starting_after():
    api, waits = Api([charge(n, n) for n in range(1, 6)]), []
    faults = iter([None, "429", "429-after", "500", "timeout"])

    def flaky(request: httpx.Request) -> httpx.Response:
        fault = next(faults, None)
        if fault and fault.startswith("429"):
            headers = {"Request-Id": "req_1", "Stripe-Should-Retry": "true", **(
                {"Retry-After": "7"} if fault == "429-after" else {})}
            return httpx.Response(429, headers=headers, json={"error": {
                "type": "invalid_request_error", "code": "rate_limit",
                "message": "Too many requests hit the API too quickly."}})
        if fault == "500":
            return httpx.Response(500, json={"error": {"type": "api_error", "message": "An unknown error occurred"}})
        if fault == "timeout":
            raise httpx.ReadTimeout("read timed out", request=request)
        return api(request)

    walk = StripeConnector(StripeConfig(API, KEY), transport=httpx.MockTransport(flaky), sleep=waits.append,
                           rng=random.Random(0), page_size=2, now=T0)
    pages = list(walk.extract("charges", None))
    got = [r.source_id for p in pages for r in p.records]
    assert got == ["ch_0005", "ch_0004", "ch_0003", "ch_0002", "ch_0001"]  # each once
    assert [s[1].get("starting_after") for s in api.seen] == [None, "ch_0004", "ch_0002"]
    assert walk.requests_made == 3 + 4 and len(waits) == 4 and 7.0 in waits


def test_a_refused_key_fails_at_once_with_advice_and_without_the_key():
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"type": "invalid_request_error",
                                                   "message": "Invalid API Key provided: sk_live_****kkkk"}})

    walk = connector(httpx.MockTransport(refuse), retry=RetryPolicy(attempts=3))
    with pytest.raises(SourceError) as caught:
        list(walk.extract("charges", None))
    assert caught.value.status == 401 and "Invalid API Key" in str(caught.value)
    assert KEY not in str(caught.value) and walk.requests_made == 1


def test_a_malformed_object_is_handed_over_for_quarantine_and_the_walk_goes_on():
    broken = charge(2, 2)
    broken.pop("id")
    data = [charge(1, 1), broken, charge(3, 3, created="2026-11-10"), charge(4, 4, created=1763251200000)]
    answer = {"object": "list", "url": "/v1/charges", "has_more": False, "data": data}
    pages = list(connector(httpx.MockTransport(lambda request: httpx.Response(200, json=answer))).extract(
        "charges", None))
    records = [r for p in pages for r in p.records]
    assert [(r.source_id, r.updated_at) for r in records] == [
        ("ch_0001", stamp(T0 + timedelta(minutes=1))), (None, stamp(T0 + timedelta(minutes=2))),
        ("ch_0003", None), ("ch_0004", None)]


# ------------------------------------------------------------------ the simulator, a real warehouse


@contextmanager
def simulator(faults=None):
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    business = Business(seed=3, customers=150, start=TODAY, history_days=200, woocommerce=True, stripe=True)
    credentials, clock = Credentials(), ManualClock()
    app = create_app(business, credentials, limits=Limits(clock=clock), faults=faults)
    with SimulatorServer(app) as server:
        yield business, registry.source("stripe").simulator(server.base_url, credentials), clock


def landed(url: str, obj: str) -> dict[str, dict]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select source_id, record from {raw_object('stripe', obj).qualified_table}").fetchall()
    return dict(rows)


def test_a_night_with_faults_quarantines_bad_objects_and_a_later_refund_arrives_through_the_events(fresh_db, caplog):
    from puente.simulators import FaultRates, Faults

    rates = FaultRates(too_many_requests=0.1, server_error=0.08, timeout=0.05, malformed=0.04)
    with simulator(Faults(seed=3, stripe=rates, hang_seconds=2.0)) as (business, config, clock):
        def run():
            walk = StripeConnector(config, page_size=10, sleep=clock.advance, rng=random.Random(0),
                                   timeout=httpx.Timeout(2.0, read=1.0))
            return extract_source(fresh_db, "stripe", config, TODAY, connector=walk)

        summary = run()
        assert {s["status"] for s in summary.values()} == {"ok"}
        assert "HTTP 429" in caplog.text and "retry 1/5" in caplog.text  # the faults were met and retried
        with psycopg.connect(fresh_db) as conn:
            quarantined = conn.execute("select count(*) from ops.quarantine where source = 'stripe'").fetchone()[0]
        assert quarantined, "some objects were served malformed"
        served = business.stripe["charges"]
        got = landed(fresh_db, "charges")
        assert set(got) <= set(served) and len(served) - len(got) <= quarantined
        assert all(got[i]["amount"] == served[i]["amount"] for i in got)

        # Days later the store cancels an old order: the refund changes a charge created weeks ago.
        old = next(c for c in served.values() if c["id"] in got and c["status"] == "succeeded"
                   and not c["refunded"] and not c["disputed"])
        business.advance_day()
        business.stripe_payments.refund(business._day, old["payment_intent"], 1.0)
        run()
        again = landed(fresh_db, "charges")[old["id"]]
        assert again["refunded"] is True and again["amount_refunded"] == old["amount"]
        refunds = landed(fresh_db, "refunds")
        assert any(r["charge"] == old["id"] for r in refunds.values())
        # the same night again: nothing new, nothing duplicated
        before = {obj: landed(fresh_db, obj) for obj in summary}
        rerun = run()
        assert all(s["inserted"] == s["updated"] == 0 for s in rerun.values())
        assert {obj: landed(fresh_db, obj) for obj in summary} == before


def test_puente_check_accepts_the_key_and_says_where_to_make_a_refused_one():
    from puente.sources.stripe.check import check

    with simulator() as (_business, config, _clock):
        assert [(f.check, f.ok) for f in check(config)] == [("connection", True), ("credentials", True)]
        refused = check(StripeConfig(config.url, "sk_live_not_this_one_at_all"))
    assert [(f.check, f.ok) for f in refused] == [("credentials", False)]
    assert "Invalid API Key" in refused[0].message and "restricted key" in refused[0].message
    assert "sk_live_not_this_one_at_all" not in refused[0].message


def test_puente_check_fails_a_key_that_may_not_read_disputes(monkeypatch):
    # The simulator's key may read everything, so a scripted Stripe answers the way it does for a
    # restricted key without Read on Disputes.
    from puente.sources.stripe import check as stripe_check

    asked = []

    def stripe(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/v1/disputes":
            return httpx.Response(403, json={"error": {
                "type": "invalid_request_error", "message": "The provided key 'rk_live_***kkkk' does not have the "
                "required permissions for this endpoint. Having the 'rak_dispute_read' permission would allow "
                "this request to continue."}})
        return httpx.Response(200, json={"object": "list", "url": request.url.path, "has_more": False, "data": []})

    monkeypatch.setattr(stripe_check, "CHECK_HTTP_OPTIONS", {"transport": httpx.MockTransport(stripe)})
    findings = stripe_check.check(StripeConfig(API, KEY))
    assert asked == ["/v1/charges", "/v1/events", "/v1/disputes"]
    assert [(f.check, f.ok) for f in findings] == [("connection", True), ("credentials", False)]
    assert "may not read disputes" in findings[-1].message and "Disputes" in findings[-1].message


def test_the_configuration_comes_from_a_connection_or_the_environment_and_hides_the_key():
    from types import SimpleNamespace

    from puente.config import MissingSetting

    default = StripeConfig.from_connection(SimpleNamespace(host="", port=None, password=KEY))
    assert (default.url, default.secret_key, default.origin) == (API, KEY, "connection puente_stripe")
    assert KEY not in repr(default)
    env = StripeConfig.from_env({"PUENTE_STRIPE_SECRET_KEY": KEY})
    assert env.url == API and StripeConfig.from_env(env.to_env()) == env
    with pytest.raises(MissingSetting, match="PUENTE_STRIPE_SECRET_KEY"):
        StripeConfig.from_env({})
