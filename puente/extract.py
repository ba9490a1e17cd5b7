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
cursor; ``full_refresh`` walks everything and sets the cursor from what it read.

Time comes from the source (``_SourceClock``): the ``Date`` of its answers, this machine's clock
only for a source that sends none. A stored cursor never passes the moment the object's walk
started on that clock, so one record stamped in the future (2099-01-01 typed by hand, a server with
a wrong clock) cannot move it past records that have yet to change: that record is landed, flagged
in ``ops.record_flags`` (``puente.load``) and read again every night until it is stamped right,
while the cursor stays at the walk's start (the next walk starts ``lookback`` before it). A stored
cursor already in the future (left by an earlier version) is not trusted: the object is walked
whole once, and the summary says so.

Minimum data: an object that declares its landed fields (``SourceObject.landed_fields``) lands
only those (its connector projects every record). Before its walk, the extraction compares the
declaration with the one its raw rows were last pruned to (``ops.landed_fields``); when they
differ (rows landed before the declaration existed, or a field since removed from it), every raw
row and quarantined payload of the object is projected to the declaration, in one transaction.
A field added to the declaration fills in as records change, or at once with a full refresh.

One extraction of an object runs at a time: it holds a PostgreSQL advisory lock on the object
for its whole walk (released with its session, so also when its process dies or its warehouse
connection is lost). Holding it, the extraction marks any batch of the object still ``running``
as ``interrupted``: the run that opened it ended without closing it. Its committed rows and cursor
stay; the new run resumes from that cursor.

A failing object marks its batch ``failed`` with the error and the other objects still run;
the call then raises ``ExtractionFailed`` naming every failure.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from puente.field_crypto import FieldKeys
from puente.load import FUTURE_TOLERANCE, LoadCounts, load_page
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
PRUNE_ROWS = 2_000  # raw rows read at a time when pruning them to a new declaration of landed fields
# A block is committed after this long even when it is not full, so a slow source (rate limits,
# retries) never holds more than this much work uncommitted.
BLOCK_SECONDS = 30.0
# How long an extraction waits for another extraction of the same object to finish.
LOCK_WAIT = "15min"


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
    future_stamped: int
    erased_skipped: int  # records an operator erased, served unchanged since: not landed (puente.erasure)
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
                   connector: Connector | None = None, block_rows: int | None = None,
                   field_keys: FieldKeys | None = None) -> dict[str, dict[str, Any]]:
    """Extract ``objects`` (default: all of the source) into raw; returns a summary per object.

    ``full_refresh`` ignores the stored cursors and sets them from what it reads.
    ``since``/``until`` (dates, datetimes or ISO strings; dates are midnight UTC, ``until``
    exclusive) backfill that window of updated-at without touching the stored cursor; either
    may be left out. ``detect_deletes`` compares ids with the source where records vanish;
    ``reconcile_counts`` checks counts afterwards (a mismatch fails the object).
    ``connector`` replaces the one built from ``config`` (tests, custom HTTP options).
    ``block_rows`` is the number of rows landed per transaction (default: ``block_rows_for()``).
    ``field_keys`` (``puente.field_crypto``): the key that seals the phones and tax ids of every
    record landed or quarantined; None seals nothing.
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
    connector = connector or build_connector(
        source, config, **({"warehouse_url": url} if registry.source(source).keeps_tokens else {}))
    summary: dict[str, dict[str, Any]] = {}
    try:
        unknown = set(objects or ()) - set(connector.objects)
        if connector.source != source or unknown:
            raise ValueError(f"{source} has no object(s) {sorted(unknown)}; known: {list(connector.objects)}"
                             if unknown else f"a {connector.source} connector cannot extract {source}")
        window = (connector.cursor_at(start) if start else None, connector.cursor_at(end) if end else None)
        # The name lets an operator (or a chaos test) find the extraction in pg_stat_activity.
        with connect(url, autocommit=True, application_name=f"puente extract {source}") as conn:
            ensure_reconciliation(conn)
            for obj in objects or connector.objects:
                try:
                    done = _extract_object(conn, connector, obj, logical_date, full_refresh,
                                           window if (start or end) else None, detect_deletes, reconcile_counts,
                                           block_rows, field_keys)
                except psycopg.OperationalError as exc:
                    if not conn.broken:
                        raise
                    raise ExtractionFailed(
                        f"{source}: lost the warehouse connection while extracting {obj} ({exc}). What was "
                        "committed stays; the next extraction of the object marks this batch interrupted and "
                        "resumes from the stored cursor: rerun the task", summary) from exc
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
                    block_rows: int = DEFAULT_BLOCK_ROWS, field_keys: FieldKeys | None = None) -> ObjectSummary:
    source = connector.source
    target = raw_object(source, obj)
    batch_id = f"{source}.{obj}.{logical_date.isoformat()}.{uuid.uuid4().hex[:8]}"
    _lock_object(conn, source, obj)
    try:
        _close_interrupted(conn, source, obj, batch_id)
        _prune_to_declaration(conn, source, obj, target)
        return _walk_object(conn, connector, obj, target, batch_id, logical_date, full_refresh, window,
                            detect_deletes, reconcile_counts, block_rows, field_keys)
    finally:
        if not conn.broken:  # a lost session has released its locks with it
            conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (_lock_name(source, obj),))


def _lock_name(source: str, obj: str) -> str:
    return f"puente extract {source} {obj}"


def _lock_object(conn: psycopg.Connection, source: str, obj: str) -> None:
    """Wait (at most LOCK_WAIT) until no other session extracts ``obj``, then hold its lock."""
    with conn.transaction():
        conn.execute(f"set local lock_timeout = '{LOCK_WAIT}'")
        try:
            conn.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (_lock_name(source, obj),))
        except psycopg.errors.LockNotAvailable:
            raise Refused(f"{source} {obj}: another extraction of this object has been running for over "
                          f"{LOCK_WAIT} (see ops.load_batches where status = 'running' and "
                          f"pg_stat_activity where application_name = 'puente extract {source}')") from None


def _close_interrupted(conn: psycopg.Connection, source: str, obj: str, batch_id: str) -> None:
    """Mark the object's batches still ``running`` as ``interrupted``: holding the object's lock,
    this session is the only extraction of it, so whoever opened them is gone."""
    closed = conn.execute(
        "update ops.load_batches set status = 'interrupted', finished_at = now(), message = "
        "'interrupted: the run that opened this batch ended without closing it (lost warehouse connection, "
        "killed worker) after ' || rows_received || ' rows committed; they and the cursor stay, and batch ' "
        "|| %s || ' resumed from that cursor' "
        "where source = %s and object = %s and status = 'running' returning batch_id",
        (batch_id, source, obj)).fetchall()
    if closed:
        log.warning("%s %s: %d earlier batch(es) never finished, marked interrupted: %s", source, obj,
                    len(closed), ", ".join(row[0] for row in closed))


def _prune_to_declaration(conn: psycopg.Connection, source: str, obj: str, target: RawObject) -> None:
    """Project the object's raw rows and quarantined payloads to its declared fields when they were
    last pruned to another declaration (or never); see the module's docstring."""
    spec = registry.source_object(source, obj)
    if not spec.landed_fields:
        return
    declared = ",".join(spec.landed_fields)
    with conn.transaction():
        row = conn.execute("select fields from ops.landed_fields where source = %s and object = %s",
                           (source, obj)).fetchone()
        if row and row[0] == declared:
            return
        table, pruned = sql.Identifier("raw", target.table), 0
        with conn.cursor(name="puente_prune") as read, conn.cursor() as write:  # server-side: a block at a time
            read.execute(sql.SQL("select source_id, record from {}").format(table))
            while rows := read.fetchmany(PRUNE_ROWS):
                changed = [(Jsonb(kept), source_id) for source_id, record in rows
                           if (kept := spec.landed(record)) != record]
                write.executemany(sql.SQL("update {} set record = %s where source_id = %s").format(table), changed)
                pruned += len(changed)
        quarantined = []
        for quarantine_id, payload in conn.execute(
                "select quarantine_id, payload from ops.quarantine where source = %s and object = %s", (source, obj)):
            try:
                record = json.loads(payload)
            except ValueError:
                continue  # not JSON: nothing the declaration could name
            if (kept := spec.landed(record)) != record:
                quarantined.append((json.dumps(kept, default=repr, allow_nan=True), quarantine_id))
        with conn.cursor() as cur:
            cur.executemany("update ops.quarantine set payload = %s where quarantine_id = %s", quarantined)
        conn.execute("insert into ops.landed_fields (source, object, fields) values (%s, %s, %s) "
                     "on conflict (source, object) do update set fields = excluded.fields, pruned_at = now()",
                     (source, obj, declared))
    if pruned or quarantined:
        log.warning("%s %s: %d raw row(s) and %d quarantined payload(s) held fields Puente does not declare; "
                    "they were removed (minimum data, ops.landed_fields)", source, obj, pruned, len(quarantined))


def _walk_object(conn: psycopg.Connection, connector: Connector, obj: str, target: RawObject, batch_id: str,
                 logical_date: date, full_refresh: bool, window: tuple[str | None, str | None] | None,
                 detect_deletes: bool, reconcile_counts: bool, block_rows: int,
                 field_keys: FieldKeys | None = None) -> ObjectSummary:
    source = connector.source
    row = conn.execute("select cursor from ops.extract_state where source = %s and object = %s",
                       (source, obj)).fetchone()
    stored = row[0] if row else None
    conn.execute(
        "insert into ops.load_batches (batch_id, source, object, logical_date, cursor_before, cursor_after) "
        "values (%s, %s, %s, %s, %s, %s)", (batch_id, source, obj, logical_date, stored, stored))
    started, requests_before = time.monotonic(), connector.requests_made
    totals, pages, cursor = LoadCounts(), 0, stored  # what is committed
    clock = _SourceClock(connector)
    block = _Block(cursor, clock)  # what is received and not yet committed
    status, message = "ok", None
    flagged, checked = 0, None
    lower, upper = window if window else (None if full_refresh else stored, None)

    def commit_block() -> None:
        nonlocal pages, cursor
        counts = _commit_block(conn, target, obj, block, batch_id, field_keys)
        pages, cursor = pages + block.pages, block.cursor
        totals.add(counts)
        log.info("%s %s pages %d-%d committed: %d rows (%d new, %d updated, %d unchanged, %d quarantined, "
                 "%d stamped in the future), cursor %s", source, obj, pages - block.pages + 1, pages,
                 counts.received, counts.inserted, counts.updated, counts.unchanged, counts.quarantined,
                 counts.future_stamped, cursor)
        block.clear()

    try:
        walk = _pages(connector, obj, lower, upper, clock, trust_lower=bool(window) or full_refresh)
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
        message = clock.note
        flagged, checked = _after_pages(conn, connector, obj, target, batch_id, logical_date,
                                        detect_deletes, reconcile_counts)
    except Refused as exc:
        status, message = "failed", str(exc)
        log.error("%s %s: %s", source, obj, message)
    except Exception as exc:  # the batch records any failure; extract_source raises it after all objects
        status, message = "failed", f"{type(exc).__name__}: {exc}"
        log.error("%s %s failed after %d committed pages (cursor %s): %s", source, obj, pages, cursor, message,
                  exc_info=not isinstance(exc, SourceError | psycopg.OperationalError))
    conn.execute("update ops.load_batches set status = %s, message = %s, finished_at = now() "
                 "where batch_id = %s", (status, message, batch_id))
    summary = ObjectSummary(
        batch_id=batch_id, status=status, pages=pages, **asdict(totals), cursor_before=stored,
        cursor_after=cursor, requests=connector.requests_made - requests_before,
        seconds=round(time.monotonic() - started, 3), message=message, flagged_deleted=flagged,
        reconciliation=checked or None)
    if status == "ok":
        log.info("%s %s done: %d pages, %d received, %d new, %d updated, %d quarantined, %d stamped in the "
                 "future, %d flagged deleted, %d requests, %.1f s", source, obj, pages, summary.received,
                 summary.inserted, summary.updated, summary.quarantined, summary.future_stamped, flagged,
                 summary.requests, summary.seconds)
    return summary


class _SourceClock:
    """The source's time: the ``Date`` of its latest answer, or this machine's clock when it sends
    none. ``start`` is the moment the object's walk started on it (the first page's answer)."""

    def __init__(self, connector: Connector):
        self._connector = connector
        self._started_here = datetime.now(UTC)
        self.start: datetime | None = None
        self.note: str | None = None  # what the summary should tell about the walk

    def now(self) -> datetime:
        return getattr(self._connector, "source_time", None) or datetime.now(UTC)

    def mark_start(self) -> None:
        self.start = getattr(self._connector, "source_time", None) or self._started_here

    def capped(self, cursor: str) -> str:
        """``cursor``, or the walk's start in the source's cursor format when it lies beyond it."""
        if self.start is None or self._connector.cursor_moment(cursor) <= self.start:
            return cursor
        return self._connector.cursor_at(self.start)


def _pages(connector: Connector, obj: str, lower: str | None, upper: str | None, clock: _SourceClock,
           trust_lower: bool) -> Iterator[Page]:
    """The pages of the walk from ``lower``; the walk's start is read off the first answer. A
    stored cursor (not ``trust_lower``) already beyond the source's clock was moved there by a record
    from the future (before cursors were capped): everything after it may have been missed, so the
    object is walked whole instead."""
    walk = iter(connector.extract(obj, lower, upper) if upper else connector.extract(obj, lower))
    first = next(walk, None)
    clock.mark_start()
    if lower is not None and not trust_lower and connector.cursor_moment(lower) > clock.start + FUTURE_TOLERANCE:
        close = getattr(walk, "close", None)
        if close is not None:
            close()
        clock.note = (f"the stored cursor {lower} was ahead of {connector.source}'s clock "
                      f"({clock.start.isoformat()}), moved there by a record stamped in the future: the "
                      "object was walked whole, and its cursor set from what it read")
        log.warning("%s %s: %s", connector.source, obj, clock.note)
        walk = iter(connector.extract(obj, None))
        first = next(walk, None)
    if first is not None:
        yield first
    yield from walk


class _Block:
    """API pages received and not yet committed, and the cursor their commit allows."""

    def __init__(self, cursor: str | None, clock: _SourceClock):
        self.cursor = cursor
        self.clock = clock
        self.clear()

    def clear(self) -> None:
        self.records: list[Record] = []
        self.pages = 0
        self.moved = False  # whether a page of this block carried a cursor
        self.started = time.monotonic()
        self.read_at: datetime | None = None  # the source's clock at the block's latest page

    def add(self, page: Page, keep_cursor: bool) -> None:
        if not self.pages:
            self.started = time.monotonic()
        self.records.extend(page.records)
        self.pages += 1
        self.read_at = self.clock.now()
        if keep_cursor and page.cursor is not None:
            self.cursor, self.moved = self.clock.capped(page.cursor), True


def _commit_block(conn: psycopg.Connection, target: RawObject, obj: str, block: _Block,
                  batch_id: str, field_keys: FieldKeys | None = None) -> LoadCounts:
    """Land ``block`` and move the cursor and the batch counters in ONE transaction."""
    with conn.transaction():
        counts = load_page(conn, target, block.records, batch_id, block.read_at, field_keys)
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
            "rows_future_stamped = rows_future_stamped + %s, rows_erased_skipped = rows_erased_skipped + %s, "
            "cursor_after = %s where batch_id = %s",
            (counts.received, counts.inserted, counts.updated, counts.unchanged,
             counts.quarantined, counts.future_stamped, counts.erased_skipped, block.cursor, batch_id))
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
