"""Incremental extraction of one source into ``raw.*``, page by page, resumable.

For each object: open a batch in ``ops.load_batches``, read the cursor from
``ops.extract_state``, ask the connector for the pages changed since, and commit each page
in ONE transaction together with the cursor it allows and the batch counters. A crash
therefore loses at most the page in flight: the rerun starts from the last committed cursor,
and since every connector asks for ``updated-at >= cursor`` and the loader upserts by source
id, the overlap lands as "unchanged" — no duplicates, no gaps.

A failing object marks its batch ``failed`` with the error and the other objects still run;
the call then raises ``ExtractionFailed`` naming every failure.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import psycopg

from puente.config import HubSpotConfig, OdooConfig, ShopifyConfig
from puente.load import LoadCounts, load_page
from puente.sources.base import Connector
from puente.sources.http import SourceError
from puente.warehouse import connect, raw_object

log = logging.getLogger(__name__)

SOURCES = ("odoo", "hubspot", "shopify")


class ExtractionFailed(RuntimeError):
    """One or more objects failed; ``summary`` holds what did load (and each failure)."""

    def __init__(self, message: str, summary: dict[str, dict[str, Any]]):
        super().__init__(message)
        self.summary = summary


@dataclass
class ObjectSummary:
    batch_id: str
    status: str
    pages: int
    received: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    cursor_before: str | None
    cursor_after: str | None
    requests: int
    seconds: float
    message: str | None = None


def build_connector(source: str, config: OdooConfig | HubSpotConfig | ShopifyConfig, **options: Any) -> Connector:
    """The connector for ``source``; ``options`` go to it and its ``HttpClient`` (e.g.
    ``max_requests``, ``sleep``, ``page_size``)."""
    if source == "odoo":
        from puente.sources.odoo import OdooConnector
        return OdooConnector(config, **options)
    if source == "hubspot":
        from puente.sources.hubspot import HubSpotConnector
        return HubSpotConnector(config, **options)
    if source == "shopify":
        from puente.sources.shopify import ShopifyConnector
        return ShopifyConnector(config, **options)
    raise ValueError(f"unknown source {source!r}; Puente extracts {', '.join(SOURCES)}")


def extract_source(url: str, source: str, config: OdooConfig | HubSpotConfig | ShopifyConfig,
                   logical_date: date, objects: list[str] | None = None, full_refresh: bool = False,
                   *, connector: Connector | None = None) -> dict[str, dict[str, Any]]:
    """Extract ``objects`` (default: all of the source) into raw; returns a summary per object.

    ``full_refresh`` ignores the stored cursors (the cursors still advance as pages commit).
    ``connector`` replaces the one built from ``config`` (tests, custom HTTP options).
    """
    connector = connector or build_connector(source, config)
    summary: dict[str, dict[str, Any]] = {}
    try:
        unknown = set(objects or ()) - set(connector.objects)
        if connector.source != source or unknown:
            raise ValueError(f"{source} has no object(s) {sorted(unknown)}; known: {list(connector.objects)}"
                             if unknown else f"a {connector.source} connector cannot extract {source}")
        with connect(url, autocommit=True) as conn:
            for obj in objects or connector.objects:
                summary[obj] = asdict(_extract_object(conn, connector, obj, logical_date, full_refresh))
    finally:
        connector.close()
    failed = {obj: s["message"] for obj, s in summary.items() if s["status"] == "failed"}
    if failed:
        details = "; ".join(f"{obj}: {message}" for obj, message in failed.items())
        raise ExtractionFailed(f"{source}: {len(failed)} of {len(summary)} objects failed "
                               f"(batches in ops.load_batches): {details}", summary)
    return summary


def _extract_object(conn: psycopg.Connection, connector: Connector, obj: str, logical_date: date,
                    full_refresh: bool) -> ObjectSummary:
    source = connector.source
    target = raw_object(source, obj)
    batch_id = f"{source}.{obj}.{logical_date.isoformat()}.{uuid.uuid4().hex[:8]}"
    row = conn.execute("select cursor from ops.extract_state where source = %s and object = %s",
                       (source, obj)).fetchone()
    stored = row[0] if row else None
    conn.execute(
        "insert into ops.load_batches (batch_id, source, object, logical_date, cursor_before, cursor_after) "
        "values (%s, %s, %s, %s, %s, %s)", (batch_id, source, obj, logical_date, stored, stored))
    started, requests_before = time.monotonic(), connector.requests_made
    totals, pages, cursor = LoadCounts(), 0, stored
    status, message = "ok", None
    try:
        for page in connector.extract(obj, None if full_refresh else stored):
            with conn.transaction():
                counts = load_page(conn, target, page.records, batch_id)
                if page.cursor is not None:
                    cursor = page.cursor
                    conn.execute(
                        "insert into ops.extract_state (source, object, cursor, batch_id, updated_at) "
                        "values (%s, %s, %s, %s, now()) on conflict (source, object) do update set "
                        "cursor = excluded.cursor, batch_id = excluded.batch_id, updated_at = now()",
                        (source, obj, cursor, batch_id))
                conn.execute(
                    "update ops.load_batches set rows_received = rows_received + %s, "
                    "rows_inserted = rows_inserted + %s, rows_updated = rows_updated + %s, "
                    "rows_unchanged = rows_unchanged + %s, rows_quarantined = rows_quarantined + %s, "
                    "cursor_after = %s where batch_id = %s",
                    (counts.received, counts.inserted, counts.updated, counts.unchanged,
                     counts.quarantined, cursor, batch_id))
            pages += 1
            totals.add(counts)
            log.info("%s %s page %d: %d rows (%d new, %d updated, %d unchanged, %d quarantined), cursor %s",
                     source, obj, pages, counts.received, counts.inserted, counts.updated,
                     counts.unchanged, counts.quarantined, cursor)
    except Exception as exc:  # the batch records any failure; extract_source raises it after all objects
        status, message = "failed", f"{type(exc).__name__}: {exc}"
        log.error("%s %s failed after %d committed pages (cursor %s): %s", source, obj, pages, cursor, message,
                  exc_info=not isinstance(exc, SourceError))  # a SourceError says it all; anything else is a bug
    conn.execute("update ops.load_batches set status = %s, message = %s, finished_at = now() "
                 "where batch_id = %s", (status, message, batch_id))
    summary = ObjectSummary(
        batch_id=batch_id, status=status, pages=pages, **asdict(totals), cursor_before=stored,
        cursor_after=cursor, requests=connector.requests_made - requests_before,
        seconds=round(time.monotonic() - started, 3), message=message)
    if status == "ok":
        log.info("%s %s done: %d pages, %d received, %d new, %d updated, %d quarantined, %d requests, %.1f s",
                 source, obj, pages, summary.received, summary.inserted, summary.updated,
                 summary.quarantined, summary.requests, summary.seconds)
    return summary
