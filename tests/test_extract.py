"""Extraction end to end: the simulators over HTTP, a real PostgreSQL, nothing mocked.

The simulators run on a manual clock and the connectors sleep by advancing it, so rate limits,
Retry-After and the Shopify bucket all act for real while no test ever waits. Page sizes are
small so that every object spans several pages.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import psycopg
import pytest

from puente.config import HubSpotConfig, OdooConfig, ShopifyConfig
from puente.extract import ExtractionFailed, build_connector, extract_source
from puente.sources.base import parse_timestamp
from puente.warehouse import raw_object

TODAY = date(2026, 11, 16)
SOURCES = ("odoo", "hubspot", "shopify")
UPDATED_AT = {"odoo": "write_date", "hubspot": "updatedAt", "shopify": "updated_at"}
SMALL_PAGES = {"odoo": {"page_size": 20}, "hubspot": {"list_limit": 10, "search_limit": 10},
               "shopify": {"page_size": 20}}


@dataclass
class Sim:
    business: object
    clock: object
    configs: dict

    def connector(self, source: str, **options):
        return build_connector(source, self.configs[source], sleep=self.clock.advance, rng=random.Random(0),
                               **SMALL_PAGES[source], **options)

    def extract(self, url: str, source: str, **kwargs) -> dict:
        return extract_source(url, source, self.configs[source], TODAY, connector=self.connector(source), **kwargs)


@contextmanager
def start_simulators(faults=None):
    """The simulators over a fresh business on a manual clock, served over HTTP; yields ``Sim``."""
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    business = Business(seed=11, customers=150, start=TODAY, history_days=200)
    credentials, clock = Credentials(), ManualClock()
    app = create_app(business, credentials, limits=Limits(clock=clock), faults=faults)
    with SimulatorServer(app) as server:
        base = server.base_url
        yield Sim(business, clock, {
            "odoo": OdooConfig(f"{base}/odoo", credentials.odoo_db, credentials.odoo_login,
                               credentials.odoo_api_key),
            "hubspot": HubSpotConfig(f"{base}/hubspot", credentials.hubspot_token),
            "shopify": ShopifyConfig(f"{base}/shopify/admin/api/2025-01", credentials.shopify_token),
        })


@pytest.fixture
def sim():
    with start_simulators() as running:
        yield running


def expected(business, source: str, obj: str) -> dict[str, str]:
    """What the source holds: id -> updated-at, as the API serves it."""
    table = {"odoo": business.odoo, "hubspot": business.hubspot, "shopify": business.shopify}[source][obj]
    rows = table.values()
    if (source, obj) == ("odoo", "account.move"):
        rows = [r for r in rows if r["move_type"] in ("out_invoice", "out_refund")]
    return {str(r["id"]): r[UPDATED_AT[source]] for r in rows}


def landed(url: str, source: str, obj: str) -> dict[str, str]:
    table = raw_object(source, obj).qualified_table
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select source_id, record->>%s, source_updated_at from {table}",
                            (UPDATED_AT[source],)).fetchall()
    for _, wire, parsed in rows:
        assert parse_timestamp(wire) == parsed
    return {source_id: wire for source_id, wire, _ in rows}


def assert_exact(url: str, sim: Sim, source: str) -> None:
    for obj in build_connector(source, sim.configs[source]).objects:
        want, got = expected(sim.business, source, obj), landed(url, source, obj)
        assert set(got) == set(want), f"{source} {obj}: ids differ"
        assert got == want, f"{source} {obj}: some records are not their latest version"


@pytest.mark.parametrize("source", SOURCES)
def test_full_then_same_day_extraction(fresh_db, sim, source):
    first = sim.extract(fresh_db, source)
    assert_exact(fresh_db, sim, source)
    for obj, summary in first.items():
        assert summary["status"] == "ok"
        assert summary["received"] == summary["inserted"] == len(expected(sim.business, source, obj))
        assert summary["pages"] >= 2, f"{obj} should span pages"
        assert summary["cursor_before"] is None and summary["cursor_after"]
    if source == "shopify":  # the bucket was respected: no request was ever refused
        assert all(s["requests"] == s["pages"] for s in first.values())

    again = sim.extract(fresh_db, source)
    assert all(s["inserted"] == s["updated"] == s["quarantined"] == 0 for s in again.values())
    assert {obj: s["cursor_before"] for obj, s in again.items()} == {obj: s["cursor_after"] for obj, s in first.items()}
    with psycopg.connect(fresh_db) as conn:
        batches = conn.execute("select status, count(*) from ops.load_batches where source = %s group by 1",
                               (source,)).fetchall()
        states = conn.execute("select count(*) from ops.extract_state where source = %s", (source,)).fetchone()
    assert batches == [("ok", 2 * len(first))]
    assert states[0] == len(first)


@pytest.mark.parametrize("source", SOURCES)
def test_after_a_day_only_what_changed_is_fetched(fresh_db, sim, source):
    full = sim.extract(fresh_db, source)
    day = sim.business.advance_day()
    nightly = sim.extract(fresh_db, source)
    assert_exact(fresh_db, sim, source)
    moved = 0
    for obj, summary in nightly.items():
        created = day["created"].get(f"{source}/{obj}", 0)
        changed = day["changed"].get(f"{source}/{obj}", 0)
        assert (summary["inserted"], summary["updated"]) == (created, changed), obj
        moved += created + changed
        assert summary["received"] < full[obj]["received"] or full[obj]["received"] < 40, obj
    assert moved > 0, "the simulated day should change something in every source"
    if source == "hubspot":  # deals found by search carry the same associations as listed ones
        assert nightly["deals"]["received"] > 0
        with psycopg.connect(fresh_db) as conn:
            rows = conn.execute("select source_id, record #> '{associations,contacts,results}' "
                                "from raw.hubspot_deals").fetchall()
        links = sim.business.hubspot_associations
        assert {i: sorted(a["id"] for a in (found or [])) for i, found in rows} == {
            i: sorted(str(c) for c in links.get(("deals", int(i)), {}).get("contacts", [])) for i, _ in rows}


def test_injected_429s_and_5xx_still_end_exact(fresh_db):
    from puente.simulators import FaultRates, Faults

    rates = FaultRates(too_many_requests=0.15, server_error=0.1)
    with start_simulators(Faults(seed=5, odoo=rates, hubspot=rates, shopify=rates)) as faulty:
        for source in SOURCES:
            summary = faulty.extract(fresh_db, source)
            assert sum(s["requests"] for s in summary.values()) > sum(s["pages"] for s in summary.values())
            assert_exact(fresh_db, faulty, source)
        faulty.business.advance_day()
        for source in SOURCES:
            faulty.extract(fresh_db, source)
            assert_exact(fresh_db, faulty, source)


class CrashAfter:
    """A connector that dies right after handing over its n-th page (it was committed)."""

    def __init__(self, inner, pages: int):
        self.inner, self.pages = inner, pages
        self.source, self.objects = inner.source, inner.objects

    @property
    def requests_made(self) -> int:
        return self.inner.requests_made

    def close(self) -> None:
        self.inner.close()

    def extract(self, obj, cursor):
        for n, page in enumerate(self.inner.extract(obj, cursor), 1):
            yield page
            if n == self.pages:
                raise ConnectionResetError("simulated crash after page 2")


@pytest.mark.parametrize(("source", "obj"), [("odoo", "sale.order"), ("hubspot", "contacts"),
                                             ("shopify", "orders")])
def test_a_crash_mid_extraction_then_a_rerun_ends_exact(fresh_db, sim, source, obj):
    crashing = CrashAfter(sim.connector(source), pages=2)
    with pytest.raises(ExtractionFailed, match="1 of 1 objects failed.*simulated crash after page 2") as caught:
        extract_source(fresh_db, source, sim.configs[source], TODAY, objects=[obj], connector=crashing)
    crashed = caught.value.summary[obj]
    assert crashed["status"] == "failed" and crashed["pages"] == 2
    with psycopg.connect(fresh_db) as conn:
        status, message, rows = conn.execute(
            "select status, message, rows_received from ops.load_batches where batch_id = %s",
            (crashed["batch_id"],)).fetchone()
        cursor = conn.execute("select cursor from ops.extract_state where source = %s and object = %s",
                              (source, obj)).fetchone()
    assert status == "failed" and "simulated crash" in message and rows == crashed["received"] > 0
    # Sorted walks (Odoo) keep the cursor of page 2; unsorted ones (HubSpot list, Shopify) keep none yet.
    assert (cursor is not None) == (source == "odoo")

    rerun = sim.extract(fresh_db, source, objects=[obj])[obj]
    assert rerun["status"] == "ok"
    want = expected(sim.business, source, obj)
    assert landed(fresh_db, source, obj) == want
    assert crashed["inserted"] + rerun["inserted"] == len(want)  # nothing landed twice


def test_full_refresh_ignores_the_cursor(fresh_db, sim):
    sim.extract(fresh_db, "odoo", objects=["res.partner"])
    incremental = sim.extract(fresh_db, "odoo", objects=["res.partner"])["res.partner"]
    refresh = sim.extract(fresh_db, "odoo", objects=["res.partner"], full_refresh=True)["res.partner"]
    total = len(expected(sim.business, "odoo", "res.partner"))
    assert incremental["received"] < total
    assert refresh["received"] == refresh["unchanged"] == total


def test_unknown_object_and_source_are_refused_with_the_known_ones(fresh_db, sim):
    with pytest.raises(ValueError, match="odoo has no object.*'res.partner'"):
        sim.extract(fresh_db, "odoo", objects=["res.users"])
    with pytest.raises(ValueError, match="unknown source 'salesforce'.*odoo, hubspot, shopify"):
        build_connector("salesforce", sim.configs["odoo"])


def test_wrong_credentials_fail_the_batch_with_advice_and_no_secret(fresh_db, sim):
    config = HubSpotConfig(sim.configs["hubspot"].url, "pat-na1-wrong-token")
    with pytest.raises(ExtractionFailed) as caught:
        extract_source(fresh_db, "hubspot", config, TODAY, objects=["contacts"])
    message = str(caught.value)
    assert "HTTP 401" in message and "check the token" in message
    assert "pat-na1-wrong-token" not in message
