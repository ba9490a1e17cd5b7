"""Mercado Pago: the connector against a scripted search (httpx.MockTransport) for the query it sends
and the offset cap, then against the simulator over HTTP into a real PostgreSQL for the faults a
night meets (429, 5xx, timeouts, malformed payments, a crash mid-run and its resume)."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
import pytest

from puente.extract import ExtractionFailed, extract_source
from puente.sources import registry
from puente.sources.http import RetryPolicy, SourceError
from puente.sources.mercadopago import MercadoPagoConfig, MercadoPagoConnector
from puente.sources.mercadopago.connector import wire_date
from puente.warehouse import raw_object

API = "https://api.mercadopago.com"
TOKEN = "APP_USR-1234567890123456-112233-" + "f" * 32 + "-123456789"
TODAY = date(2026, 11, 16)
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def payment(pid: int, minutes: int, **fields) -> dict:
    return {"id": pid, "date_last_updated": wire_date(T0 + timedelta(minutes=minutes)), "status": "approved",
            "transaction_amount": 1000.0, "currency_id": "COP", "external_reference": f"#{pid}",
            "card": {"first_six_digits": "450995", "last_four_digits": "3704"},
            "payer": {"email": "a@b.co", "first_name": "Ana", "identification": {"type": "CC", "number": "1"}},
            **fields}


class Search:
    """Answers the payments search from ``payments`` as Mercado Pago does: range, sort asc, offset
    and limit, refusing ``offset + limit`` past ``cap`` with error 1000."""

    def __init__(self, payments: list[dict], cap: int = 10_000):
        self.payments, self.cap, self.seen = payments, cap, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        params = dict(request.url.params)
        self.seen.append(params)
        offset, limit = int(params["offset"]), int(params["limit"])
        if offset + limit > self.cap:
            return httpx.Response(400, json={"message": "Number of rows exceeded the limits.", "error": "bad_request",
                                             "status": 400, "cause": [{"code": 1000}]})
        begin = params["begin_date"]
        since = datetime.fromisoformat(begin.replace("Z", "+00:00")) if not begin.startswith("NOW") else None
        found = sorted((p for p in self.payments if since is None
                        or datetime.fromisoformat(p["date_last_updated"]) >= since),
                       key=lambda p: (p["date_last_updated"], p["id"]))
        return httpx.Response(200, json={"paging": {"total": len(found), "limit": limit, "offset": offset},
                                         "results": found[offset: offset + limit]})


def connector(transport, **options) -> MercadoPagoConnector:
    return MercadoPagoConnector(MercadoPagoConfig(API, TOKEN), transport=transport, sleep=lambda s: None,
                                lookback=3600, **options)


def test_the_search_asks_by_date_last_updated_ascending_and_each_page_carries_its_cursor():
    search = Search([payment(i, i) for i in range(1, 8)])
    pages = list(connector(httpx.MockTransport(search), page_size=3).extract("payments", wire_date(T0)))
    assert search.seen[0] == {"range": "date_last_updated", "begin_date": "2026-11-01T11:00:00.000Z",
                              "sort": "date_last_updated", "criteria": "asc", "offset": "0", "limit": "3"}
    # each next search begins at the last moment read (its payment, read again, is dropped)
    assert [s["begin_date"] for s in search.seen[1:]] == ["2026-11-01T12:03:00.000Z", "2026-11-01T12:05:00.000Z"]
    assert {s["offset"] for s in search.seen} == {"0"}
    assert [[r.source_id for r in p.records] for p in pages] == [["1", "2", "3"], ["4", "5"], ["6", "7"]]
    assert [p.cursor for p in pages] == [wire_date(T0 + timedelta(minutes=m)) for m in (3, 5, 7)]
    landed = pages[0].records[0].payload
    assert "card" not in landed and landed["payer"] == {"email": "a@b.co", "identification": {"type": "CC",
                                                                                               "number": "1"}}
    search.seen.clear()
    first = list(connector(httpx.MockTransport(search), page_size=3).extract("payments", None))
    assert search.seen[0]["begin_date"] == "NOW-12MONTHS" and sum(len(p.records) for p in first) == 7


def test_the_walk_narrows_its_date_range_so_it_never_reaches_the_offset_cap_and_misses_nothing():
    payments = [payment(i, i // 3) for i in range(1, 58)]  # three payments a minute: ties at the boundaries
    search = Search(payments, cap=10)
    pages = list(connector(httpx.MockTransport(search), page_size=5, offset_cap=10).extract("payments", None))
    got = [r.source_id for p in pages for r in p.records]
    assert sorted(got, key=int) == [str(i) for i in range(1, 58)] and len(got) == 57  # each once
    assert all(int(s["offset"]) + int(s["limit"]) <= 10 for s in search.seen)
    begins = [s["begin_date"] for s in search.seen]
    assert begins[0] == "NOW-12MONTHS" and len(begins) > 10 and begins[1:] == sorted(set(begins[1:]))


def test_a_payment_updated_while_the_walk_pages_cannot_push_another_out_of_it():
    payments = [payment(i, i) for i in range(1, 11)]
    search = Search(payments)
    walk = connector(httpx.MockTransport(search), page_size=3).extract("payments", None)
    first = next(walk)
    payments[0]["date_last_updated"] = wire_date(T0 + timedelta(minutes=30))  # payment 1 is refunded now
    rest = [r.source_id for p in walk for r in p.records]
    # with offsets, payment 4 would have slipped to offset 2, read already; here it is read, and 1 again
    assert [r.source_id for r in first.records] == ["1", "2", "3"] and rest == ["4", "5", "6", "7", "8", "9", "10", "1"]


def test_more_payments_in_one_moment_than_a_search_reaches_stops_with_a_clear_error():
    search = Search([payment(i, 0) for i in range(1, 30)], cap=10)
    walk = connector(httpx.MockTransport(search), page_size=5, offset_cap=10).extract("payments", wire_date(T0))
    with pytest.raises(SourceError, match=r"more than 10 payments updated at 2026-11-01T12:00:00\.000Z"):
        list(walk)
    # fewer than the cap in one moment: the walk pages through them with the offset, then goes on
    search = Search([payment(i, 0) for i in range(1, 9)] + [payment(9, 1)], cap=10)
    pages = list(connector(httpx.MockTransport(search), page_size=3, offset_cap=10).extract("payments", wire_date(T0)))
    assert sorted(int(r.source_id) for p in pages for r in p.records) == list(range(1, 10))


def test_429_with_retry_after_5xx_and_timeouts_are_retried_then_the_page_lands():
    search, answers, waits = Search([payment(1, 1)]), iter(["429", "500", "timeout"]), []

    def flaky(request: httpx.Request) -> httpx.Response:
        fault = next(answers, None)
        if fault == "429":
            return httpx.Response(429, headers={"Retry-After": "7"}, json={
                "message": "Too many requests", "error": "too_many_requests", "status": 429, "cause": []})
        if fault == "500":
            return httpx.Response(500, json={"message": "Internal server error", "error": "internal_error",
                                             "status": 500, "cause": []})
        if fault == "timeout":
            raise httpx.ReadTimeout("read timed out", request=request)
        return search(request)

    walk = MercadoPagoConnector(MercadoPagoConfig(API, TOKEN), transport=httpx.MockTransport(flaky),
                                sleep=waits.append, rng=random.Random(0))
    pages = list(walk.extract("payments", None))
    assert [r.source_id for r in pages[0].records] == ["1"] and walk.requests_made == 4
    assert waits[0] == 7.0 and len(waits) == 3


def test_a_refused_token_fails_at_once_with_advice_and_without_the_token():
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": "invalid access token", "error": "unauthorized",
                                         "status": 401, "cause": [{"code": 2, "description": "invalid_token"}]})

    walk = connector(httpx.MockTransport(refuse), retry=RetryPolicy(attempts=3))
    with pytest.raises(SourceError) as caught:
        list(walk.extract("payments", None))
    assert caught.value.status == 401 and "invalid access token" in str(caught.value)
    assert TOKEN not in str(caught.value) and walk.requests_made == 1


def test_a_malformed_payment_is_handed_over_for_quarantine_and_the_page_goes_on():
    broken = payment(2, 2)
    broken.pop("id")
    results = [payment(1, 1), broken, payment(3, 3, date_last_updated=12345)]
    answer = {"paging": {"total": 3, "limit": 1000, "offset": 0}, "results": results}
    pages = list(connector(httpx.MockTransport(lambda request: httpx.Response(200, json=answer))).extract(
        "payments", None))
    records = [r for p in pages for r in p.records]
    assert [(r.source_id, r.updated_at) for r in records] == [
        ("1", payment(1, 1)["date_last_updated"]), (None, broken["date_last_updated"]), ("3", 12345)]


# ------------------------------------------------------------------ the simulator, a real warehouse


@contextmanager
def simulator(faults=None, business=None):
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    business = business or Business(seed=11, customers=150, start=TODAY, history_days=200, mercadopago=True)
    credentials, clock = Credentials(), ManualClock()
    app = create_app(business, credentials, limits=Limits(clock=clock), faults=faults)
    with SimulatorServer(app) as server:
        config = registry.source("mercadopago").simulator(server.base_url, credentials)
        yield business, config, clock


def run(url, config, clock, **options):
    walk = MercadoPagoConnector(config, page_size=25, sleep=clock.advance, rng=random.Random(0),
                                timeout=httpx.Timeout(2.0, read=1.0), **options)
    return extract_source(url, "mercadopago", config, TODAY, connector=walk)


def landed(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select source_id, record->>'date_last_updated' from "
                            f"{raw_object('mercadopago', 'payments').qualified_table}").fetchall()
    return dict(rows)


def served(business) -> dict[str, str]:
    return {str(p["id"]): p["date_last_updated"] for p in business.mercadopago["payments"].values()}


def test_faults_on_the_wire_a_crash_mid_run_and_the_rerun_end_exact_with_bad_payments_quarantined(fresh_db):
    from puente.simulators import FaultRates, Faults

    rates = FaultRates(too_many_requests=0.1, server_error=0.08, timeout=0.05, malformed=0.03)
    with simulator(Faults(seed=3, mercadopago=rates, hang_seconds=2.0)) as (business, config, clock):
        assert len(business.mercadopago["payments"]) > 100

        class CrashAfterTwoPages(MercadoPagoConnector):
            def extract(self, obj, cursor, until=None):
                for n, page in enumerate(super().extract(obj, cursor, until), 1):
                    yield page
                    if n == 2:
                        raise ConnectionResetError("simulated crash after page 2")

        crashing = CrashAfterTwoPages(config, page_size=25, sleep=clock.advance, rng=random.Random(0),
                                      timeout=httpx.Timeout(2.0, read=1.0))
        with pytest.raises(ExtractionFailed, match="simulated crash"):
            extract_source(fresh_db, "mercadopago", config, TODAY, connector=crashing)
        with psycopg.connect(fresh_db) as conn:
            cursor = conn.execute("select cursor from ops.extract_state where source = 'mercadopago'").fetchone()
        assert cursor is not None  # a sorted walk keeps the cursor of its last committed page

        summary = run(fresh_db, config, clock)["payments"]
        assert summary["status"] == "ok" and summary["requests"] > summary["pages"]
        with psycopg.connect(fresh_db) as conn:
            quarantined = conn.execute("select count(*) from ops.quarantine where source = 'mercadopago'").fetchone()[0]
        assert quarantined, "some payments were served malformed"
        want = served(business)
        got = landed(fresh_db)
        broken = set(want) - set(got)
        assert got.items() <= want.items() and len(broken) <= quarantined

        business.advance_day()
        for pid in list(business.mercadopago["payments"])[:3]:  # refunds and chargebacks move old payments
            business.touch("mercadopago", "payments", pid)
        run(fresh_db, config, clock)
        got = landed(fresh_db)
        assert {k: want for k, want in served(business).items() if k in got} == got


def test_the_simulator_refuses_a_search_past_its_offset_cap_in_mercado_pagos_shape():
    with simulator() as (business, config, _clock):
        walk = MercadoPagoConnector(config, retry=RetryPolicy(attempts=1))
        with pytest.raises(SourceError) as caught:
            walk.http.request("GET", "/v1/payments/search", obj="payments",
                              params={"begin_date": "NOW-12MONTHS", "offset": 9500, "limit": 1000})
        assert caught.value.status == 400 and '"code":1000' in caught.value.outcome
        assert walk.count("payments") == len(business.mercadopago["payments"])


def test_puente_check_accepts_the_token_and_says_where_to_make_a_refused_one():
    from puente.sources.mercadopago.check import check

    with simulator() as (_business, config, _clock):
        assert [(f.check, f.ok) for f in check(config)] == [("connection", True), ("credentials", True)]
        refused = check(MercadoPagoConfig(config.url, "APP_USR-not-this-one"))
    assert [(f.check, f.ok, f.blocking) for f in refused] == [("credentials", False, True)]
    assert "invalid access token" in refused[0].message and "Production credentials" in refused[0].message
    assert "APP_USR-not-this-one" not in refused[0].message


def test_the_configuration_comes_from_a_connection_or_the_environment_and_hides_the_token():
    from types import SimpleNamespace

    from puente.config import MissingSetting

    default = MercadoPagoConfig.from_connection(SimpleNamespace(host="", port=None, password=TOKEN))
    assert (default.url, default.access_token, default.origin) == (API, TOKEN, "connection puente_mercadopago")
    proxied = MercadoPagoConfig.from_connection(SimpleNamespace(host="pagos.internal", port=8443, password=TOKEN))
    assert proxied.url == "https://pagos.internal:8443"
    with pytest.raises(MissingSetting, match="puente_mercadopago.*password"):
        MercadoPagoConfig.from_connection(SimpleNamespace(host="", port=None, password=None))
    from_env = MercadoPagoConfig.from_env({"PUENTE_MERCADOPAGO_ACCESS_TOKEN": TOKEN})
    assert from_env.url == API and MercadoPagoConfig.from_env(from_env.to_env()) == from_env
    with pytest.raises(MissingSetting, match="PUENTE_MERCADOPAGO_ACCESS_TOKEN"):
        MercadoPagoConfig.from_env({})
    assert TOKEN not in repr(from_env)


def test_mercado_pago_is_opt_in_and_the_local_simulators_serve_its_payments_when_the_business_runs_it(
        monkeypatch, tmp_path):
    from puente import runtime
    from puente.simulators import Credentials

    def serve_args() -> list[str]:
        return runtime.SimulatorProcess(Credentials(), port=1, seed=7, customers=10, start="2026-11-16",
                                        log_path=tmp_path / "sim.log")._args

    monkeypatch.delenv("PUENTE_SYSTEMS", raising=False)
    monkeypatch.setenv("PUENTE_CONFIG", str(tmp_path / "puente.yml"))
    (tmp_path / "puente.yml").write_text("systems: [odoo, hubspot, shopify]\n")
    assert "mercadopago" not in [s.name for s in registry.configured()] and "--mercadopago" not in serve_args()
    monkeypatch.setenv("PUENTE_SYSTEMS", "odoo,hubspot,shopify,mercadopago")
    assert [s.name for s in registry.configured()][-1] == "mercadopago" and serve_args()[-1] == "--mercadopago"


def test_payments_changed_while_paging_or_stamped_late_are_never_pushed_out_of_the_walk(fresh_db):
    from puente.simulators import FaultRates, Faults

    rates = FaultRates(changed_while_paging=0.5, late_update=0.3)
    with simulator(Faults(seed=4, mercadopago=rates, late_by_seconds=1800)) as (business, config, clock):
        # Payments are updated (refunded, charged back) while the walk pages, some stamped half an
        # hour back: none is pushed out of the walk (every payment lands, the count agrees), and a
        # payment changed after its page was read is read the next night.
        for night in range(2):
            summary = run(fresh_db, config, clock)["payments"]
            assert summary["status"] == "ok" and set(landed(fresh_db)) == set(served(business))
            assert night == 0 or summary["updated"] > 0
            business.advance_day()
    with simulator(business=business) as (_, config, clock):  # a night with nobody at work
        run(fresh_db, config, clock)
        assert landed(fresh_db) == served(business)
