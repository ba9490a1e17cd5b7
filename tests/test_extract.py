"""Extraction end to end: the simulators over HTTP, a real PostgreSQL, nothing mocked.

The simulators run on a manual clock and the connectors sleep by advancing it, so rate limits,
Retry-After and the Shopify bucket all act for real while no test ever waits. Page sizes are
small so that every object spans several pages.
"""

from __future__ import annotations

import json
import math
import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg
import psycopg.types.json
import pytest

from puente.extract import ExtractionFailed, build_connector, extract_source
from puente.sources import registry
from puente.sources.base import parse_timestamp
from puente.sources.hubspot import HubSpotConfig
from puente.sources.odoo import OdooConfig
from puente.sources.shopify import ShopifyConfig
from puente.sources.tiendanube import TiendaNubeConfig
from puente.sources.woocommerce import WooCommerceConfig
from puente.warehouse import raw_object

TODAY = date(2026, 11, 16)
SOURCES = ("odoo", "hubspot", "shopify", "woocommerce", "tiendanube")
UPDATED_AT = {"odoo": "write_date", "hubspot": "updatedAt", "shopify": "updated_at",
              "woocommerce": "date_modified_gmt", "tiendanube": "updated_at"}
SMALL_PAGES = {"odoo": {"page_size": 20}, "hubspot": {"list_limit": 10, "search_limit": 10},
               "shopify": {"page_size": 20}, "woocommerce": {"page_size": 20}, "tiendanube": {"page_size": 20}}


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


CREDENTIALS = None


@contextmanager
def start_simulators(faults=None, business=None):
    """The simulators over a fresh business (or ``business``) on a manual clock, served over HTTP."""
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    global CREDENTIALS
    business = business or Business(seed=11, customers=150, start=TODAY, history_days=200, woocommerce=True,
                                   tiendanube=True)
    CREDENTIALS = CREDENTIALS or Credentials()
    credentials, clock = CREDENTIALS, ManualClock()
    app = create_app(business, credentials, limits=Limits(clock=clock), faults=faults)
    with SimulatorServer(app) as server:
        base = server.base_url
        yield Sim(business, clock, {
            "odoo": OdooConfig(f"{base}/odoo", credentials.odoo_db, credentials.odoo_login,
                               credentials.odoo_api_key),
            "hubspot": HubSpotConfig(f"{base}/hubspot", credentials.hubspot_token),
            "shopify": ShopifyConfig(f"{base}/shopify/admin/api/2025-01", credentials.shopify_token),
            "woocommerce": WooCommerceConfig(f"{base}/woocommerce/wp-json/wc/v3", credentials.woocommerce_key,
                                             credentials.woocommerce_secret),
            "tiendanube": TiendaNubeConfig(f"{base}/tiendanube/v1/3100427", credentials.tiendanube_token,
                                           "Puente tests (puente@localhost)"),
        })


@pytest.fixture
def sim():
    with start_simulators() as running:
        yield running


def expected(business, source: str, obj: str) -> dict[str, str]:
    """What the source holds: id -> updated-at, as the API serves it."""
    table = {"odoo": business.odoo, "hubspot": business.hubspot, "shopify": business.shopify,
             "woocommerce": business.woocommerce, "tiendanube": business.tiendanube}[source][obj]
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
        # pages, then the ids-only listing (250 a request) and count.json
        assert all(s["requests"] == s["pages"] + max(1, math.ceil(s["received"] / 250)) + 1
                   for s in first.values())

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
    moved = 0
    for _ in range(5):  # a small business's CRM may see a day without any change: take the next
        day = sim.business.advance_day()
        nightly = sim.extract(fresh_db, source)
        assert_exact(fresh_db, sim, source)
        for obj, summary in nightly.items():
            created = day["created"].get(f"{source}/{obj}", 0)
            changed = day["changed"].get(f"{source}/{obj}", 0)
            assert (summary["inserted"], summary["updated"]) == (created, changed), obj
            moved += created + changed
            assert summary["received"] < full[obj]["received"] or full[obj]["received"] < 40, obj
        if moved:
            break
    assert moved > 0, "five simulated days should change something in every source"
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
    with start_simulators(Faults(seed=5, odoo=rates, hubspot=rates, shopify=rates, woocommerce=rates,
                                 tiendanube=rates)) as faulty:
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

    def __getattr__(self, name):  # source_time, cursor_moment… come from the real connector
        return getattr(self.inner, name)

    def close(self) -> None:
        self.inner.close()

    def extract(self, obj, cursor):
        for n, page in enumerate(self.inner.extract(obj, cursor), 1):
            yield page
            if n == self.pages:
                raise ConnectionResetError("simulated crash after page 2")


@pytest.mark.parametrize(("source", "obj"), [("odoo", "sale.order"), ("hubspot", "contacts"),
                                             ("shopify", "orders"), ("woocommerce", "orders"),
                                             ("tiendanube", "orders")])
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
    # Sorted walks (Odoo) keep the cursor of page 2; unsorted ones (HubSpot list, the shops) keep none yet.
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
    with pytest.raises(ValueError, match="unknown source 'pipedrive'.*odoo, hubspot, salesforce, shopify"):
        build_connector("pipedrive", sim.configs["odoo"])


def test_wrong_credentials_fail_the_batch_with_advice_and_no_secret(fresh_db, sim):
    config = HubSpotConfig(sim.configs["hubspot"].url, "pat-na1-wrong-token")
    with pytest.raises(ExtractionFailed) as caught:
        extract_source(fresh_db, "hubspot", config, TODAY, objects=["contacts"])
    message = str(caught.value)
    assert "HTTP 401" in message and "check the token" in message
    assert "pat-na1-wrong-token" not in message


# ------------------------------------------------------------------------------------------
# Issue 4: a bad night, deletes, drift, backfill, reconciliation
# ------------------------------------------------------------------------------------------

BAD_NIGHT = dict(too_many_requests=0.10, server_error=0.02, timeout=0.005, disconnect=0.01, malformed=0.03)


def truth(business, faults, source: str, obj: str) -> tuple[dict[str, str], set[str], int]:
    """What raw must hold after a first night (id -> updated-at), the ids quarantine must hold,
    and how many records quarantine must hold without an id."""
    from puente.simulators.limits import must_quarantine

    want, bad_ids, no_id = {}, set(), 0
    for rid, stamp in expected(business, source, obj).items():
        if business.is_deleted(source, obj, int(rid)):
            continue
        kind = faults.malformed(source, obj, int(rid) if source != "hubspot" else rid, stamp)
        if source == "hubspot":  # HubSpot ids are strings on the wire, as the injector sees them
            kind = faults.malformed(source, obj, rid, stamp)
        if not must_quarantine(source, kind):
            want[rid] = stamp
        elif kind == "missing_id":
            no_id += 1
        else:
            bad_ids.add(rid)
    return want, bad_ids, no_id


def quarantined(url: str, source: str, obj: str) -> tuple[set[str], int, list[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select source_id, payload, reason from ops.quarantine where source = %s "
                            "and object = %s", (source, obj)).fetchall()
    return ({r[0] for r in rows if r[0]}, len({r[1] for r in rows if r[0] is None}), [r[2] for r in rows])


def raw_state(url: str, source: str) -> dict:
    with psycopg.connect(url) as conn:
        return {obj: sorted(conn.execute(f"select source_id, record, _deleted, _batch_id from "
                                         f"{raw_object(source, obj).qualified_table}").fetchall())
                for obj in registry.source(source).object_names}


@pytest.mark.parametrize("source", SOURCES)
def test_a_bad_night_crash_and_rerun_end_exact_with_bad_records_quarantined(fresh_db, source):
    import httpx

    from puente.simulators import FaultRates, Faults

    faults = Faults(seed=8, hang_seconds=0.6, **{source: FaultRates(**BAD_NIGHT)})
    with start_simulators(faults) as bad:
        timeout = {"timeout": httpx.Timeout(0.4)}
        objects = list(build_connector(source, bad.configs[source]).objects)
        crashing = CrashAfter(bad.connector(source, **timeout), pages=2)
        with pytest.raises(ExtractionFailed, match="simulated crash"):
            extract_source(fresh_db, source, bad.configs[source], TODAY, objects=objects[:1], connector=crashing)
        night = extract_source(fresh_db, source, bad.configs[source], TODAY,
                               connector=bad.connector(source, **timeout))
        assert sum(s["requests"] for s in night.values()) > sum(s["pages"] for s in night.values())
        malformed_seen = 0
        for obj in objects:
            want, bad_ids, no_id = truth(bad.business, faults, source, obj)
            assert landed(fresh_db, source, obj) == want, f"{source} {obj}: raw differs from the source"
            ids, without_id, reasons = quarantined(fresh_db, source, obj)
            assert ids == bad_ids and without_id == no_id, f"{source} {obj}: quarantine differs"
            assert all(("no id" in r or "updated-at" in r or "Unicode" in r) for r in reasons)
            malformed_seen += len(bad_ids) + no_id
            check = night[obj]["reconciliation"]
            assert check["ok"] and check["source_count"] == check["raw_live"] + check["quarantined_outstanding"]
        assert malformed_seen > 0, "the night should have served malformed records"
        before = raw_state(fresh_db, source)
        rerun = extract_source(fresh_db, source, bad.configs[source], TODAY,
                               connector=bad.connector(source, **timeout))
        assert all(s["inserted"] == s["updated"] == s["flagged_deleted"] == 0 for s in rerun.values())
        assert raw_state(fresh_db, source) == before


@pytest.mark.parametrize("source", SOURCES)
def test_changes_while_paging_and_late_updates_are_caught_by_the_next_night(fresh_db, source):
    from puente.simulators import FaultRates, Faults

    faults = Faults(seed=4, late_by_seconds=1800, **{source: FaultRates(changed_while_paging=0.2,
                                                                        late_update=0.2)})
    with start_simulators(faults) as moving:
        moving.extract(fresh_db, source)
        moving.business.advance_day()
        night = moving.extract(fresh_db, source)  # pages while records change, some stamped 30 min ago
        assert sum(s["updated"] for s in night.values()) > 0
    with start_simulators(business=moving.business) as quiet:  # the next night, nobody at work
        quiet.extract(fresh_db, source)
        assert_exact(fresh_db, quiet, source)


@pytest.mark.parametrize(("source", "obj", "how"), [
    ("odoo", "sale.order.line", "delete"), ("odoo", "res.partner", "archive"),
    ("shopify", "customers", "delete"), ("shopify", "products", "delete"), ("hubspot", "contacts", "delete"),
    ("woocommerce", "customers", "delete"), ("woocommerce", "orders", "archive"),
    ("tiendanube", "customers", "delete"), ("tiendanube", "products", "delete")])
def test_a_deleted_record_is_flagged_the_next_night(fresh_db, sim, source, obj, how):
    def flags() -> dict[str, bool]:
        with psycopg.connect(fresh_db) as conn:
            return dict(conn.execute(f"select source_id, _deleted from {raw_object(source, obj).qualified_table}"))

    sim.extract(fresh_db, source, objects=[obj])
    victim = sim.business.ids(source, obj)[3]
    before = flags()
    assert before[str(victim)] is False
    getattr(sim.business, how)(source, obj, victim)
    night = sim.extract(fresh_db, source, objects=[obj])[obj]
    assert flags() == {**before, str(victim): True}  # the victim, and nothing else, is flagged
    # archived (Odoo) or trashed (WooCommerce) records land flagged with the change itself
    assert night["flagged_deleted"] == (1 if how == "delete" and source != "hubspot" else 0)
    assert night["reconciliation"]["ok"]


def test_an_id_listing_that_comes_back_short_flags_nothing(fresh_db, sim):
    sim.extract(fresh_db, "shopify", objects=["customers"])
    for rid in sim.business.ids("shopify", "customers")[:-5]:
        sim.business.delete("shopify", "customers", rid)
    with pytest.raises(ExtractionFailed, match="would be flagged deleted; refusing more than 50%"):
        sim.extract(fresh_db, "shopify", objects=["customers"])
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from raw.shopify_customers where _deleted").fetchone()[0] == 0


@pytest.mark.parametrize(("source", "obj", "new", "gone", "reported"), [
    ("odoo", "res.partner", "x_loyalty_tier", "street", "no longer has the field(s) ['street']"),
    ("hubspot", "contacts", "loyalty_tier", "tax_id", "has no property ['tax_id']"),
    ("shopify", "customers", "loyalty_tier", "note", None)])  # Shopify lists no fields: a gone one is just absent
def test_schema_drift_a_new_field_never_lands_and_a_vanished_declared_one_is_reported(
        fresh_db, sim, caplog, source, obj, new, gone, reported):
    sim.extract(fresh_db, source, objects=[obj])
    sim.business.add_field(source, obj, new, lambda record: "gold")
    sim.business.drop_field(source, obj, gone)
    victim = sim.business.ids(source, obj)[0]
    sim.business.touch(source, obj, victim)  # the drift shows on records as they change
    with caplog.at_level("WARNING"):
        night = sim.extract(fresh_db, source, objects=[obj])[obj]
    assert night["status"] == "ok" and night["updated"] >= 1
    with psycopg.connect(fresh_db) as conn:
        record = conn.execute(f"select record from {raw_object(source, obj).qualified_table} where source_id = %s",
                              (str(victim),)).fetchone()[0]
    fields = record["properties"] if source == "hubspot" else record
    assert new not in fields and gone not in fields  # minimum data: what Puente does not declare never lands
    assert registry.source_object(source, obj).landed(record) == record and fields  # the declared rest did
    if reported:
        assert reported in caplog.text
    if source != "hubspot":  # HubSpot raw carries only the properties asked for
        assert landed(fresh_db, source, obj) == expected(sim.business, source, obj)


@pytest.mark.parametrize("source", ["shopify", "woocommerce", "tiendanube"])
def test_only_declared_fields_land_and_rows_landed_before_are_pruned(fresh_db, sim, source):
    shop = getattr(sim.business, source)
    customer, earlier, order = list(shop["customers"].values())[:2] + [next(iter(shop["orders"].values()))]
    # what the shop holds and Puente does not use: a birth date a plugin keeps, a note on an order
    customer["meta_data"] = [{"id": 1, "key": "date_of_birth", "value": "1990-04-12"}]
    order["customer_note" if source == "woocommerce" else "note"] = "Dejar con el portero, cédula 1020304050"
    lines_key = "products" if source == "tiendanube" else "line_items"
    spec = registry.source(source)
    with psycopg.connect(fresh_db) as conn:  # a customer landed whole by an earlier version of Puente
        conn.execute(f"insert into {raw_object(source, 'customers').qualified_table} (source_id, record, "
                     "source_updated_at, _batch_id) values (%s, %s, now(), 'before')",
                     (str(earlier["id"]), psycopg.types.json.Jsonb(earlier)))
    sim.extract(fresh_db, source, objects=["customers", "orders"])
    with psycopg.connect(fresh_db) as conn:
        landed = {obj: dict(conn.execute(f"select source_id, record from {raw_object(source, obj).qualified_table}"))
                  for obj in ("customers", "orders")}
        pruned_to = dict(conn.execute("select object, fields from ops.landed_fields where source = %s", (source,)))
    for obj, records in landed.items():
        declared = spec.object(obj)
        assert all(declared.landed(r) == r for r in records.values()), f"{source} {obj}: undeclared fields landed"
        assert pruned_to[obj] == ",".join(declared.landed_fields)
    text = json.dumps(landed, ensure_ascii=False)
    assert "date_of_birth" not in text and "1020304050" not in text and "meta_data" not in text
    assert "addresses" not in landed["customers"][str(earlier["id"])]  # the earlier row is pruned too
    # what Puente uses did land: an order's lines with their SKUs, a customer's email
    lines = landed["orders"][str(order["id"])][lines_key]
    assert lines and all(line["sku"] == sold["sku"] for line, sold in zip(lines, order[lines_key], strict=True))
    assert landed["customers"][str(customer["id"])]["email"] == customer["email"]


@pytest.mark.parametrize(("source", "obj", "extra"), [
    ("odoo", "res.partner", {"x_fecha_nacimiento": "1990-04-12", "comment": "nota privada del vendedor"}),
    ("hubspot", "contacts", {"properties": {"fecha_de_nacimiento": "1990-04-12", "hs_object_id": "1"},
                             "propertiesWithHistory": {"email": []}})])
def test_crm_and_erp_rows_landed_whole_before_are_pruned_to_the_declaration(fresh_db, sim, source, obj, extra):
    earlier = dict(sim.business.table(source, obj)[sim.business.ids(source, obj)[0]])
    if source == "hubspot":
        extra["properties"] = {**earlier["properties"], **extra["properties"]}
    with psycopg.connect(fresh_db) as conn:  # as an earlier version of Puente landed it: with what it did not use
        conn.execute(f"insert into {raw_object(source, obj).qualified_table} (source_id, record, source_updated_at, "
                     "_batch_id) values (%s, %s, now(), 'before')",
                     (str(earlier["id"]), psycopg.types.json.Jsonb({**earlier, **extra})))
    sim.extract(fresh_db, source, objects=[obj])
    declared = registry.source_object(source, obj)
    with psycopg.connect(fresh_db) as conn:
        records = [r for (r,) in conn.execute(f"select record from {raw_object(source, obj).qualified_table}")]
        (pruned_to,) = conn.execute("select fields from ops.landed_fields where source = %s and object = %s",
                                    (source, obj)).fetchone()
    assert records and all(declared.landed(r) == r for r in records), f"{source} {obj}: undeclared fields in raw"
    text = json.dumps(records, ensure_ascii=False)
    assert "1990-04-12" not in text and "nota privada" not in text and "propertiesWithHistory" not in text
    assert pruned_to == ",".join(declared.landed_fields)


def test_a_reconciliation_mismatch_fails_with_the_numbers(fresh_db, sim):
    sim.extract(fresh_db, "odoo", objects=["res.partner"])
    total = len(expected(sim.business, "odoo", "res.partner"))
    with psycopg.connect(fresh_db) as conn:  # a record lost in raw, e.g. deleted by hand
        conn.execute("delete from raw.odoo_res_partner where source_id = '7'")
    with pytest.raises(ExtractionFailed, match=rf"reconciliation failed for odoo res.partner: the source reports "
                                               rf"{total} live records, raw holds {total - 1} live \+ 0 quarantined "
                                               rf"= {total - 1} \(1 missing from raw\)"):
        sim.extract(fresh_db, "odoo", objects=["res.partner"])
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("select status, source_count, raw_live, difference from ops.reconciliation "
                            "order by reconciliation_id").fetchall()
        batch = conn.execute("select status, message from ops.load_batches order by started_at desc limit 1").fetchone()
    assert rows == [("ok", total, total, 0), ("mismatch", total, total - 1, 1)]
    assert batch[0] == "failed" and "1 missing" in batch[1]
    refresh = sim.extract(fresh_db, "odoo", objects=["res.partner"], full_refresh=True)["res.partner"]
    assert refresh["inserted"] == 1 and refresh["reconciliation"]["ok"]


def test_a_backfill_reloads_a_window_and_leaves_the_cursor(fresh_db, sim):
    sim.extract(fresh_db, "shopify", objects=["orders"])
    with psycopg.connect(fresh_db) as conn:
        cursor = conn.execute("select cursor from ops.extract_state where object = 'orders'").fetchone()[0]
        lost = conn.execute("delete from raw.shopify_orders where source_updated_at >= '2026-10-01' and "
                            "source_updated_at < '2026-10-08' returning source_id").fetchall()
    assert lost
    with pytest.raises(ExtractionFailed, match="missing from raw"):
        sim.extract(fresh_db, "shopify", objects=["orders"])
    back = sim.extract(fresh_db, "shopify", objects=["orders"], since="2026-10-01", until="2026-10-08")["orders"]
    assert back["status"] == "ok" and back["inserted"] == len(lost)
    assert back["received"] < len(expected(sim.business, "shopify", "orders")) / 2
    assert landed(fresh_db, "shopify", "orders") == expected(sim.business, "shopify", "orders")
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select cursor from ops.extract_state where object = 'orders'").fetchone()[0] == cursor
    with pytest.raises(ValueError, match="backfill window is empty"):
        sim.extract(fresh_db, "shopify", since="2026-10-08", until="2026-10-01")


def test_the_request_budget_comes_from_the_environment(monkeypatch):
    from puente.extract import DEFAULT_MAX_REQUESTS, max_requests_for

    assert max_requests_for("hubspot", {}) == DEFAULT_MAX_REQUESTS
    assert max_requests_for("hubspot", {"PUENTE_HUBSPOT_MAX_REQUESTS": "900"}) == 900
    with pytest.raises(ValueError, match="PUENTE_ODOO_MAX_REQUESTS must be a whole number"):
        max_requests_for("odoo", {"PUENTE_ODOO_MAX_REQUESTS": "lots"})
    monkeypatch.setenv("PUENTE_SHOPIFY_MAX_REQUESTS", "3")
    connector = build_connector("shopify", ShopifyConfig("http://127.0.0.1:9", "t"))
    assert connector.http.max_requests == 3


def test_the_block_size_comes_from_the_environment():
    from puente.extract import DEFAULT_BLOCK_ROWS, block_rows_for

    assert block_rows_for({}) == DEFAULT_BLOCK_ROWS
    assert block_rows_for({"PUENTE_LOAD_BLOCK_ROWS": "250"}) == 250
    for bad in ("lots", "0", "-5"):
        with pytest.raises(ValueError, match="PUENTE_LOAD_BLOCK_ROWS must be a whole number of at least 1"):
            block_rows_for({"PUENTE_LOAD_BLOCK_ROWS": bad})


# ------------------------------------------------------------------------------------------
# Blocks: API pages are buffered and committed several at a time with the last page's cursor
# ------------------------------------------------------------------------------------------

class Killed(BaseException):
    """The worker dies (SIGKILL, out of memory): no handler runs, whatever is not committed is lost."""


class Served:
    """A connector that remembers every page it hands over and is killed after the n-th."""

    def __init__(self, inner, kill_after: int | None = None):
        self.inner, self.kill_after, self.pages = inner, kill_after, []
        self.source, self.objects = inner.source, inner.objects

    @property
    def requests_made(self) -> int:
        return self.inner.requests_made

    def __getattr__(self, name):  # list_ids, count, live_in_raw… come from the real connector
        return getattr(self.inner, name)

    def close(self) -> None:
        self.inner.close()

    def extract(self, obj, cursor):
        for page in self.inner.extract(obj, cursor):
            self.pages.append(page)
            yield page
            if len(self.pages) == self.kill_after:
                raise Killed


@pytest.mark.parametrize("how", ["killed while pages are buffered", "the block's transaction fails"])
def test_a_crash_in_the_middle_of_a_block_resumes_without_duplicates_or_gaps(fresh_db, sim, monkeypatch, how):
    """Blocks of 50 rows over pages of 20: pages 1-3 are the first block, pages 4-6 the second. The
    crash hits the second block, either while its pages are still arriving (pages 4-5 received,
    then the worker dies) or while it is written (its rows are in raw, then the commit fails). Either
    way the first block stays committed with page 3's cursor, nothing of the second is left, and a
    rerun ends exact with every record inserted once."""
    import puente.extract

    source, obj = "odoo", "sale.order"  # a sorted walk: every page carries its cursor
    want = expected(sim.business, source, obj)
    assert len(want) > 6 * 20, "the object should span more than two blocks"
    served = Served(sim.connector(source), kill_after=5 if how.startswith("killed") else None)
    if how.startswith("killed"):
        with pytest.raises(Killed):
            extract_source(fresh_db, source, sim.configs[source], TODAY, objects=[obj], connector=served,
                           block_rows=50)
    else:
        real, calls = puente.extract.load_page, []

        def failing_second_block(conn, target, records, batch_id, *args):
            counts = real(conn, target, records, batch_id, *args)
            calls.append(len(records))
            if len(calls) == 2:
                in_raw = conn.execute(f"select count(*) from {target.qualified_table}").fetchone()[0]
                assert in_raw == 120, "the second block's rows were written before the failure"
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            return counts

        monkeypatch.setattr(puente.extract, "load_page", failing_second_block)
        with pytest.raises(ExtractionFailed, match="server closed the connection") as caught:
            extract_source(fresh_db, source, sim.configs[source], TODAY, objects=[obj], connector=served,
                           block_rows=50)
        summary = caught.value.summary[obj]
        assert calls == [60, 60] and len(served.pages) == 6
        assert summary["pages"] == 3 and summary["received"] == 60  # what is committed, nothing more
        assert summary["cursor_after"] == served.pages[2].cursor
        monkeypatch.setattr(puente.extract, "load_page", real)

    first_block = {r.source_id for page in served.pages[:3] for r in page.records}
    with psycopg.connect(fresh_db) as conn:
        stored = conn.execute("select cursor from ops.extract_state where source = %s and object = %s",
                              (source, obj)).fetchone()[0]
        batch = conn.execute("select rows_received, rows_inserted, cursor_after from ops.load_batches").fetchone()
    # The cursor is the first block's last page's, never ahead of what raw holds, and raw holds
    # exactly the first block: nothing of the pages received or written after it.
    assert stored == served.pages[2].cursor and batch == (60, 60, stored)
    in_raw = set(landed(fresh_db, source, obj))
    assert in_raw == first_block
    assert {rid for rid, stamp in want.items() if stamp < stored} <= in_raw  # the walk is sorted by write_date

    rerun = Served(sim.connector(source))
    night = extract_source(fresh_db, source, sim.configs[source], TODAY, objects=[obj], connector=rerun,
                           block_rows=50)[obj]
    assert night["status"] == "ok" and night["cursor_before"] == stored
    assert rerun.pages[0].records[0].updated_at <= stored  # resumed from the stored cursor (with lookback)
    assert landed(fresh_db, source, obj) == want  # no gaps
    assert batch[1] + night["inserted"] == len(want)  # no duplicates: every record inserted once
    assert night["pages"] == len(rerun.pages) and night["received"] == sum(len(p.records) for p in rerun.pages)


# ------------------------------------------------------------------------------------------
# Issue 10: time comes from the source; a record from the future cannot poison a cursor
# ------------------------------------------------------------------------------------------

FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
# One object per source that changes on most simulated days.
BUSY = {"odoo": "sale.order", "hubspot": "deals", "shopify": "orders", "woocommerce": "orders",
        "tiendanube": "orders"}


def stamp_in_2099(business, source: str, obj: str) -> str:
    """One record of ``obj`` changed with an updated-at of 2099-01-01 (a clock or a hand gone wrong)."""
    victim = business.ids(source, obj)[5]
    business.touch(source, obj, victim, late_by=-(FUTURE - business.now()).total_seconds())
    return str(victim)


def flags(url: str, source: str, obj: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("select source_id, field, reason from ops.record_flags where source = %s "
                            "and object = %s", (source, obj)).fetchall()


def stored_cursor(url: str, source: str, obj: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("select cursor from ops.extract_state where source = %s and object = %s",
                            (source, obj)).fetchone()[0]


@pytest.mark.parametrize("source", SOURCES)
def test_a_record_from_the_future_is_flagged_and_later_updates_are_not_missed(fresh_db, sim, source):
    obj = BUSY[source]
    sim.extract(fresh_db, source, objects=[obj])
    victim = stamp_in_2099(sim.business, source, obj)
    night = sim.extract(fresh_db, source, objects=[obj])[obj]
    assert night["status"] == "ok" and night["future_stamped"] == 1
    assert landed(fresh_db, source, obj)[victim] == expected(sim.business, source, obj)[victim]  # landed
    ((flagged, field, reason),) = flags(fresh_db, source, obj)
    assert (flagged, field) == (victim, UPDATED_AT[source]) and "after the source's clock" in reason
    connector = sim.connector(source)
    assert connector.cursor_moment(night["cursor_after"]) <= sim.business.now()  # never past the walk's start
    changed = 0
    for _ in range(5):  # the next nights' real changes all arrive
        day = sim.business.advance_day()
        changed += day["changed"].get(f"{source}/{obj}", 0) + day["created"].get(f"{source}/{obj}", 0)
        later = sim.extract(fresh_db, source, objects=[obj])[obj]
        assert later["status"] == "ok" and later["reconciliation"]["ok"]
        assert landed(fresh_db, source, obj) == expected(sim.business, source, obj)
        if changed:
            break
    assert changed, "five simulated days should change the object"
    with psycopg.connect(fresh_db) as conn:
        counted = conn.execute("select sum(rows_future_stamped) from ops.load_batches where source = %s",
                               (source,)).fetchone()[0]
    assert counted == len(flags(fresh_db, source, obj)) >= 2  # read (and flagged) again every night


@pytest.mark.parametrize("source", SOURCES)
def test_a_cursor_poisoned_earlier_heals_and_a_full_refresh_resets_it(fresh_db, sim, source):
    """A cursor left in 2099 by an earlier version: the next night walks the object whole (and
    says so); a full refresh sets the cursor from what it read, never from the 2099 record."""
    obj = BUSY[source]
    sim.extract(fresh_db, source, objects=[obj])
    stamp_in_2099(sim.business, source, obj)
    poisoned = sim.connector(source).cursor_at(FUTURE)
    with psycopg.connect(fresh_db) as conn:
        conn.execute("update ops.extract_state set cursor = %s where source = %s and object = %s",
                     (poisoned, source, obj))
    for _ in range(5):  # changes made after the poisoning
        day = sim.business.advance_day()
        if day["changed"].get(f"{source}/{obj}", 0) + day["created"].get(f"{source}/{obj}", 0):
            break
    healed = sim.extract(fresh_db, source, objects=[obj])[obj]
    assert healed["status"] == "ok" and "walked whole" in healed["message"]
    assert healed["received"] == len(expected(sim.business, source, obj))
    assert landed(fresh_db, source, obj) == expected(sim.business, source, obj)
    connector = sim.connector(source)
    assert connector.cursor_moment(stored_cursor(fresh_db, source, obj)) <= sim.business.now()

    refresh = sim.extract(fresh_db, source, objects=[obj], full_refresh=True)[obj]
    assert refresh["status"] == "ok" and refresh["message"] is None
    assert connector.cursor_moment(refresh["cursor_after"]) <= sim.business.now()


def test_a_future_stamp_corrected_at_the_source_replaces_the_landed_version(fresh_db, sim):
    source, obj = "odoo", "res.partner"
    sim.extract(fresh_db, source, objects=[obj])
    victim = stamp_in_2099(sim.business, source, obj)
    sim.extract(fresh_db, source, objects=[obj])
    sim.business.advance_day()
    record = sim.business.odoo[obj][int(victim)]  # someone fixes the record; Odoo stamps it now
    record.update(name="Corrected Name", write_date=sim.business.now().strftime("%Y-%m-%d %H:%M:%S"))
    sim.business.records.track(source, obj, int(victim))
    night = sim.extract(fresh_db, source, objects=[obj])[obj]
    assert night["updated"] >= 1 and night["future_stamped"] == 0
    assert landed(fresh_db, source, obj)[victim] == record["write_date"]


def test_the_source_clock_is_its_answers_date():
    import httpx

    from puente.sources.http import HttpClient

    dates = iter([[("Date", "Mon, 16 Nov 2026 23:59:59 GMT")], [],
                  [("Date", "Tue, 01 Dec 2026 10:00:00 GMT"), ("Date", "Wed, 17 Nov 2026 08:00:00 GMT")]])
    client = HttpClient("Shopify", "https://shop.example.test",
                        transport=httpx.MockTransport(lambda request: httpx.Response(200, headers=next(dates))))
    assert client.source_time is None
    seen = []
    for _ in range(3):
        client.request("GET", "/x", obj="orders")
        seen.append(client.source_time)
    # a later answer without Date keeps the last reading; of two, the last (the application's) counts
    assert seen == [datetime(2026, 11, 16, 23, 59, 59, tzinfo=UTC)] * 2 + [datetime(2026, 11, 17, 8, tzinfo=UTC)]


# ------------------------------------------------------------------------------------------
# Issue 10: a batch whose run vanished is marked interrupted by the next extraction
# ------------------------------------------------------------------------------------------

def test_a_lost_warehouse_connection_is_reported_and_its_batch_marked_interrupted_next_time(
        fresh_db, sim, monkeypatch):
    import puente.extract

    source, obj = "odoo", "sale.order"
    real, calls = puente.extract.load_page, []

    def connection_lost_in_second_block(conn, *args):
        calls.append(1)
        if len(calls) == 2:  # the server ends the session, as a restart or a network cut does
            with psycopg.connect(fresh_db, autocommit=True) as admin:
                admin.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                              "where application_name = 'puente extract odoo'")
        return real(conn, *args)

    monkeypatch.setattr(puente.extract, "load_page", connection_lost_in_second_block)
    with pytest.raises(ExtractionFailed, match="lost the warehouse connection while extracting sale.order"):
        extract_source(fresh_db, source, sim.configs[source], TODAY, objects=[obj],
                       connector=sim.connector(source), block_rows=50)
    monkeypatch.setattr(puente.extract, "load_page", real)
    with psycopg.connect(fresh_db) as conn:
        ((lost, status, committed),) = conn.execute("select batch_id, status, rows_received from "
                                                    "ops.load_batches").fetchall()
    assert status == "running" and committed == 60  # the first block, and no one left to close it

    night = sim.extract(fresh_db, source, objects=[obj])[obj]
    assert night["status"] == "ok"
    assert landed(fresh_db, source, obj) == expected(sim.business, source, obj)
    with psycopg.connect(fresh_db) as conn:
        status, message = conn.execute("select status, message from ops.load_batches where batch_id = %s",
                                       (lost,)).fetchone()
    assert status == "interrupted"
    assert "60 rows committed" in message and night["batch_id"] in message


def test_a_running_extraction_is_never_marked_interrupted(fresh_db, sim):
    """While one extraction of an object runs, a second waits for it instead of closing its batch."""
    import threading

    source, obj = "shopify", "customers"
    gate, inside = threading.Event(), threading.Event()

    class Held:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def extract(self, obj, cursor):
            for page in self.inner.extract(obj, cursor):
                inside.set()
                gate.wait(30)
                yield page

    first: dict = {}
    worker = threading.Thread(target=lambda: first.update(extract_source(
        fresh_db, source, sim.configs[source], TODAY, objects=[obj], connector=Held(sim.connector(source)))))
    worker.start()
    assert inside.wait(30)
    threading.Timer(2.0, gate.set).start()  # the first run goes on two seconds later
    second = sim.extract(fresh_db, source, objects=[obj])[obj]  # waits for the first, then runs
    with psycopg.connect(fresh_db) as conn:
        statuses = dict(conn.execute("select batch_id, status from ops.load_batches"))
    worker.join(30)
    assert first[obj]["status"] == second["status"] == "ok"
    assert statuses == {first[obj]["batch_id"]: "ok", second["batch_id"]: "ok"}
