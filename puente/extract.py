"""Incremental extraction of one source into ``raw.*``, page by page, resumable.

For each object: open a batch in ``ops.load_batches``, read the cursor from
``ops.extract_state``, ask the connector for the pages changed since, and land them in blocks:
API pages (250 Shopify orders, 100 HubSpot contacts…) are buffered until a block holds
``block_rows`` rows (``PUENTE_LOAD_BLOCK_ROWS``, default 5,000) or has waited
``BLOCK_SECONDS``, then the block is loaded and committed in ONE transaction together with
the cursor of its last page and the batch counters. One commit and one upsert per block
instead of per page is what makes the loader reach half of a plain ``COPY``
(bench/RESULTS.md, "Loading"). The stored cursor therefore never moves ahead of committed
rows. A crash loses at most the block in flight (the pages received since the last commit):
the rerun starts from the last committed cursor, and since every connector asks for
``updated-at >= cursor`` and the loader upserts by source id, the overlap lands as
"unchanged" — no duplicates, no gaps. When the source itself fails mid-walk (retries
exhausted, budget spent), the pages already received are complete and are committed with
their cursor before the object fails, exactly as if they had been committed one by one.

After the pages, two checks per object (see ``_after_pages``): deletes where records just
vanish (Odoo ``unlink``, Shopify deletions) are found by comparing the ids the source still holds
(one cheap ids-only listing) with raw, and flagged ``_deleted``; then the source's own count is
reconciled with raw (``puente.reconcile``). Both run every night: at SME scale the ids-only
listing is one request per 50,000 Odoo records and one per 250 Shopify records (100,000 Shopify
orders: 400 requests, under four minutes within the standard plan's 2 requests/s).

A backfill (``since``/``until``) walks only that window of updated-at and never moves the stored
cursor; ``full_refresh`` walks everything (and the cursor advances as pages commit).

A failing object marks its batch ``failed`` with the error and the other objects still run;
the call then raises ``ExtractionFailed`` naming every failure.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any
from urllib.parse import urlsplit

import psycopg

from puente.load import LoadCounts, load_page
from puente.reconcile import ensure_reconciliation, reconcile
from puente.sources import registry
from puente.sources.base import Connector, Page, Record
from puente.sources.http import SourceError
from puente.sources.spec import SourceConfig
from puente.warehouse import RawObject, connect, raw_object

log = logging.getLogger(__name__)

# Requests per source and night unless PUENTE_<SOURCE>_MAX_REQUESTS says otherwise: far under
# HubSpot's daily 250,000 (Starter/Pro private apps) and what Shopify's 2 requests/s allow in a
# few hours, far over what an SME's incremental night needs (a few hundred).
DEFAULT_MAX_REQUESTS = 20_000
# Flagging more than this share of an object's live raw rows as deleted in one night is refused:
# an ids listing that comes back short (a permission or filter change) must not wipe raw.
MAX_DELETE_SHARE = 0.5
# Rows per load transaction unless PUENTE_LOAD_BLOCK_ROWS says otherwise (1 = one page each).
DEFAULT_BLOCK_ROWS = 5_000
# A block is committed after this long even when it is not full, so a slow source (rate limits,
# retries) never holds more than this much work uncommitted.
BLOCK_SECONDS = 30.0


class Refused(RuntimeError):
    """A check that stops an object's batch (reconciliation mismatch, implausible deletes)."""


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
    flagged_deleted: int = 0
    reconciliation: dict[str, Any] | None = field(default=None)
    settings: str | None = None  # where the source's settings came from (connection or environment)


def max_requests_for(source: str, env: dict[str, str] | None = None) -> int:
    """The request budget of ``source`` for one run: ``PUENTE_<SOURCE>_MAX_REQUESTS`` or the default."""
    value = (os.environ if env is None else env).get(f"PUENTE_{source.upper()}_MAX_REQUESTS")
    try:
        return int(value) if value else DEFAULT_MAX_REQUESTS
    except ValueError:
        raise ValueError(f"PUENTE_{source.upper()}_MAX_REQUESTS must be a whole number, got {value!r}") from None


def block_rows_for(env: dict[str, str] | None = None) -> int:
    """Rows per load transaction: ``PUENTE_LOAD_BLOCK_ROWS`` or the default (5,000)."""
    value = (os.environ if env is None else env).get("PUENTE_LOAD_BLOCK_ROWS")
    try:
        rows = int(value) if value else DEFAULT_BLOCK_ROWS
    except ValueError:
        rows = 0
    if rows < 1:
        raise ValueError(f"PUENTE_LOAD_BLOCK_ROWS must be a whole number of at least 1, got {value!r}")
    return rows


def build_connector(source: str, config: SourceConfig, **options: Any) -> Connector:
    """The connector for ``source`` (from the registry); ``options`` go to it and its ``HttpClient``
    (e.g. ``max_requests``, ``sleep``, ``page_size``, ``lookback``). The request budget defaults to
    ``max_requests_for(source)``."""
    options.setdefault("max_requests", max_requests_for(source))
    return registry.build_connector(source, config, **options)


def _moment(value: date | datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime.combine(value, dtime(), UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def extract_source(url: str, source: str, config: SourceConfig,
                   logical_date: date, objects: list[str] | None = None, full_refresh: bool = False,
                   *, since: date | datetime | str | None = None, until: date | datetime | str | None = None,
                   detect_deletes: bool = True, reconcile_counts: bool = True,
                   connector: Connector | None = None, block_rows: int | None = None) -> dict[str, dict[str, Any]]:
    """Extract ``objects`` (default: all of the source) into raw; returns a summary per object.

    ``full_refresh`` ignores the stored cursors (the cursors still advance as pages commit).
    ``since``/``until`` (dates, datetimes or ISO strings; dates are midnight UTC, ``until``
    exclusive) backfill that window of updated-at without touching the stored cursor; either
    may be left out. ``detect_deletes`` compares ids with the source where records vanish;
    ``reconcile_counts`` checks counts afterwards (a mismatch fails the object).
    ``connector`` replaces the one built from ``config`` (tests, custom HTTP options).
    ``block_rows`` is the number of rows landed per transaction (default: ``block_rows_for()``).
    Where the settings came from (``config.origin``: an Airflow connection, or ``PUENTE_<SOURCE>_*``
    variables, the local simulators' among them) is logged and kept in every object's summary.
    """
    start, end = _moment(since), _moment(until)
    if start and end and start >= end:
        raise ValueError(f"backfill window is empty: since {start.isoformat()} is not before until {end.isoformat()}")
    block_rows = block_rows_for() if block_rows is None else block_rows
    if block_rows < 1:
        raise ValueError(f"block_rows must be at least 1, got {block_rows}")
    origin = config.origin
    log.info("%s: extracting from %s with settings from %s", source, _where(config), origin)
    connector = connector or build_connector(source, config)
    summary: dict[str, dict[str, Any]] = {}
    try:
        unknown = set(objects or ()) - set(connector.objects)
        if connector.source != source or unknown:
            raise ValueError(f"{source} has no object(s) {sorted(unknown)}; known: {list(connector.objects)}"
                             if unknown else f"a {connector.source} connector cannot extract {source}")
        window = (connector.cursor_at(start) if start else None, connector.cursor_at(end) if end else None)
        with connect(url, autocommit=True) as conn:
            ensure_reconciliation(conn)
            for obj in objects or connector.objects:
                done = _extract_object(conn, connector, obj, logical_date, full_refresh,
                                       window if (start or end) else None, detect_deletes, reconcile_counts,
                                       block_rows)
                summary[obj] = asdict(replace(done, settings=origin))
    finally:
        connector.close()
    failed = {obj: s["message"] for obj, s in summary.items() if s["status"] == "failed"}
    if failed:
        details = "; ".join(f"{obj}: {message}" for obj, message in failed.items())
        raise ExtractionFailed(f"{source}: {len(failed)} of {len(summary)} objects failed "
                               f"(batches in ops.load_batches): {details}", summary)
    return summary


def _where(config: SourceConfig) -> str:
    """The source's base URL without credentials, query or fragment (what a log may show)."""
    parts = urlsplit(config.url)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{host}{parts.path}"


def _extract_object(conn: psycopg.Connection, connector: Connector, obj: str, logical_date: date,
                    full_refresh: bool, window: tuple[str | None, str | None] | None = None,
                    detect_deletes: bool = True, reconcile_counts: bool = True,
                    block_rows: int = DEFAULT_BLOCK_ROWS) -> ObjectSummary:
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
    totals, pages, cursor = LoadCounts(), 0, stored  # what is committed
    block = _Block(cursor)  # what is received and not yet committed
    status, message = "ok", None
    flagged, checked = 0, None
    lower, upper = window if window else (None if full_refresh else stored, None)

    def commit_block() -> None:
        nonlocal pages, cursor
        counts = _commit_block(conn, target, obj, block, batch_id)
        pages, cursor = pages + block.pages, block.cursor
        totals.add(counts)
        log.info("%s %s pages %d-%d committed: %d rows (%d new, %d updated, %d unchanged, %d quarantined), "
                 "cursor %s", source, obj, pages - block.pages + 1, pages, counts.received, counts.inserted,
                 counts.updated, counts.unchanged, counts.quarantined, cursor)
        block.clear()

    try:
        walk = iter(connector.extract(obj, lower, upper) if upper else connector.extract(obj, lower))
        while True:
            try:
                page = next(walk)
            except StopIteration:
                break
            except Exception:
                # The source failed mid-walk: the pages received so far are complete, so they land
                # (with their cursor) before the object fails, as if each had been committed alone.
                if block.pages:
                    try:
                        commit_block()
                    except Exception:
                        log.exception("%s %s: could not land the %d rows received before the source failed",
                                      source, obj, len(block.records))
                raise
            block.add(page, keep_cursor=window is None)
            log.info("%s %s page %d: %d rows received, cursor %s (block of %d rows pending)", source, obj,
                     pages + block.pages, len(page.records), page.cursor, len(block.records))
            if len(block.records) >= block_rows or time.monotonic() - block.started >= BLOCK_SECONDS:
                commit_block()
        if block.pages:
            commit_block()
        flagged, checked = _after_pages(conn, connector, obj, target, batch_id, logical_date,
                                        detect_deletes, reconcile_counts)
    except Refused as exc:
        status, message = "failed", str(exc)
        log.error("%s %s: %s", source, obj, message)
    except Exception as exc:  # the batch records any failure; extract_source raises it after all objects
        status, message = "failed", f"{type(exc).__name__}: {exc}"
        log.error("%s %s failed after %d committed pages (cursor %s): %s", source, obj, pages, cursor, message,
                  exc_info=not isinstance(exc, SourceError))  # a SourceError says it all; anything else is a bug
    conn.execute("update ops.load_batches set status = %s, message = %s, finished_at = now() "
                 "where batch_id = %s", (status, message, batch_id))
    summary = ObjectSummary(
        batch_id=batch_id, status=status, pages=pages, **asdict(totals), cursor_before=stored,
        cursor_after=cursor, requests=connector.requests_made - requests_before,
        seconds=round(time.monotonic() - started, 3), message=message, flagged_deleted=flagged,
        reconciliation=checked or None)
    if status == "ok":
        log.info("%s %s done: %d pages, %d received, %d new, %d updated, %d quarantined, %d flagged deleted, "
                 "%d requests, %.1f s", source, obj, pages, summary.received, summary.inserted, summary.updated,
                 summary.quarantined, flagged, summary.requests, summary.seconds)
    return summary


class _Block:
    """API pages received and not yet committed, and the cursor their commit allows."""

    def __init__(self, cursor: str | None):
        self.cursor = cursor
        self.clear()

    def clear(self) -> None:
        self.records: list[Record] = []
        self.pages = 0
        self.moved = False  # whether a page of this block carried a cursor
        self.started = time.monotonic()

    def add(self, page: Page, keep_cursor: bool) -> None:
        if not self.pages:
            self.started = time.monotonic()
        self.records.extend(page.records)
        self.pages += 1
        if keep_cursor and page.cursor is not None:
            self.cursor, self.moved = page.cursor, True


def _commit_block(conn: psycopg.Connection, target: RawObject, obj: str, block: _Block,
                  batch_id: str) -> LoadCounts:
    """Land ``block`` and move the cursor and the batch counters in ONE transaction."""
    with conn.transaction():
        counts = load_page(conn, target, block.records, batch_id)
        if block.moved:
            conn.execute(
                "insert into ops.extract_state (source, object, cursor, batch_id, updated_at) "
                "values (%s, %s, %s, %s, now()) on conflict (source, object) do update set "
                "cursor = excluded.cursor, batch_id = excluded.batch_id, updated_at = now()",
                (target.source, obj, block.cursor, batch_id))
        conn.execute(
            "update ops.load_batches set rows_received = rows_received + %s, "
            "rows_inserted = rows_inserted + %s, rows_updated = rows_updated + %s, "
            "rows_unchanged = rows_unchanged + %s, rows_quarantined = rows_quarantined + %s, "
            "cursor_after = %s where batch_id = %s",
            (counts.received, counts.inserted, counts.updated, counts.unchanged,
             counts.quarantined, block.cursor, batch_id))
    return counts


def _after_pages(conn: psycopg.Connection, connector: Connector, obj: str, target: RawObject, batch_id: str,
                 logical_date: date, detect_deletes: bool, reconcile_counts: bool) -> tuple[int, dict | None]:
    """Flag vanished records, then reconcile counts; returns (flagged, reconciliation) or raises Refused."""
    ids = connector.list_ids(obj) if detect_deletes else None
    source_count = connector.count(obj) if reconcile_counts else None
    if ids is None and source_count is None:
        return 0, None
    table = target.qualified_table
    flagged, result = 0, None
    with conn.transaction(), conn.cursor() as cur:
        if ids is not None:
            cur.execute("create temp table _puente_source_ids (source_id text primary key) on commit drop")
            with cur.copy("copy _puente_source_ids (source_id) from stdin") as copy:
                for source_id in ids:
                    copy.write_row((source_id,))
            live = cur.execute(f"select count(*) from {table} where not _deleted").fetchone()[0]
            gone = cur.execute(f"select count(*) from {table} r where not r._deleted and not exists "
                               f"(select 1 from _puente_source_ids s where s.source_id = r.source_id)").fetchone()[0]
            if gone > 10 and gone > MAX_DELETE_SHARE * live:
                raise Refused(
                    f"{target.source} {obj}: the source lists {len(ids)} ids, so {gone} of the {live} live "
                    f"records in {table} would be flagged deleted; refusing more than {MAX_DELETE_SHARE:.0%} in "
                    "one night. Check the API user's access rights and record rules; if the deletes are real, "
                    f"flag them by hand: update {table} set _deleted = true where source_id in (…)")
            flagged = cur.execute(
                f"update {table} r set _deleted = true, _batch_id = %s, _loaded_at = now() "
                f"where not r._deleted and not exists "
                f"(select 1 from _puente_source_ids s where s.source_id = r.source_id)", (batch_id,)).rowcount
            if flagged:
                log.info("%s %s: %d records no longer in the source, flagged _deleted", target.source, obj, flagged)
        if source_count is not None:
            result = reconcile(conn, target, source_count, batch_id, logical_date, flagged,
                               "_puente_source_ids" if ids is not None else None)
    if result is not None and not result.ok:
        raise Refused(result.message())
    return flagged, result.as_dict() if result else None
