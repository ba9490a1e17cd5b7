"""Land a batch of source records in its raw table: validate, quarantine, COPY, one upsert.

``extract.py`` calls it once per block of API pages (5,000 rows by default), not once per page:
the fixed cost of a call (the temporary table, the upsert statement, the commit around it) is
what made page-sized calls reach only 0.38 of a plain ``COPY`` (bench/RESULTS.md, "Loading").
The per-row work is kept to the JSON encoding plus a few cheap checks; rows are plain tuples.

A record that cannot be landed (not a JSON object, no id, an updated-at that does not parse,
a value PostgreSQL's jsonb refuses: NUL, bytes that were not UTF-8, a lone UTF-16 surrogate;
nesting deeper than ``puente.sources.http.MAX_JSON_DEPTH`` levels, whether the HTTP layer cut it,
``TOO_DEEP``, or its parser read it whole)
goes to ``ops.quarantine`` with the reason and the batch id (``ops.load_batches`` gives its
source, object and logical date); the rest still loads. Within a block the same id may come
twice (an API returning an object again after it changed during paging): the version with the
latest updated-at wins.

A record stamped later than the source's own clock when it was read (``read_at``, the ``Date``
of the source's answer) by more than ``FUTURE_TOLERANCE`` is landed as it is, and flagged: one
row in ``ops.record_flags`` with the field, the value and the reason, counted in the batch's
``rows_future_stamped``. Such a stamp is not trusted to order versions either: a version in raw
stamped in the future is replaced by the one the source serves now, even if that one's stamp is
earlier (the record was corrected at the source).

Good records are copied into a temporary table with ``COPY`` and merged with ONE
``insert ... on conflict do update ... where raw.record is distinct from excluded.record``, so
re-landing a record that did not change rewrites nothing, and a version older than the one in
raw (a stale read from a lagging replica or search index) never replaces it: it counts as
unchanged. ``xmax = 0`` in ``returning`` tells a
fresh insert from an update (PostgreSQL sets ``xmax`` only on the updated row version), which
gives the inserted / updated / unchanged counts without a second query.

A record an operator erased (``puente.erasure``: its keyed hash in ``ops.erased_records``) is
not landed again from the source's old data: skipped, and counted in ``rows_erased_skipped``,
unless the source changed it after the erasure (its updated-at is later), which lands it as any
new version. Quarantine keeps that promise too: such a record rejected as malformed (a broken
cursor re-serving old rows with an updated-at that does not parse) is quarantined with its key,
its cursor and the reason only, never its data.

The caller owns the transaction: ``extract.py`` commits the block, the cursor of its last page
and the batch counters together.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import psycopg

from puente import sealed_keys
from puente.erasure import ERASED_RECORD
from puente.field_crypto import FieldKeys
from puente.sources import registry
from puente.sources.base import Record
from puente.sources.http import MAX_JSON_DEPTH, TOO_DEEP
from puente.warehouse import RawObject

log = logging.getLogger(__name__)

# jsonb refuses the NUL character; json.dumps writes it as \u0000 (after an even number of \).
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
_ENCODER = json.JSONEncoder(allow_nan=False, ensure_ascii=False, separators=(",", ":"))
_TOO_DEEP_ENCODED = _ENCODER.encode(TOO_DEEP)[1:-1]
# A quarantined payload is kept this deep; what lies deeper is replaced by a marker.
QUARANTINE_DEPTH = 64
# A record stamped later than the source's clock (when it answered) by more than this comes from
# the future: far more than the clock differences between a service's own servers.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass
class LoadCounts:
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    future_stamped: int = 0  # landed, and flagged in ops.record_flags
    erased_skipped: int = 0  # erased by an operator, unchanged at the source since: not landed again

    def add(self, other: LoadCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# A landable record: (source_id, JSON document, updated-at, deleted). A plain tuple, not a
# dataclass: at a million rows a night every microsecond per row is a second.
_Row = tuple[str, str, datetime, bool]


class Malformed(ValueError):
    """Why a record cannot be landed as it is."""


def _validate(record: Record, encode=_ENCODER.encode, fromisoformat=datetime.fromisoformat) -> _Row:
    payload, source_id, stamp = record.payload, record.source_id, record.updated_at
    if not isinstance(payload, dict):
        raise Malformed(f"not a JSON object but {type(payload).__name__}")
    if source_id is None:
        raise Malformed("no id")
    try:  # parse_timestamp, inlined: this runs once per row
        if not isinstance(stamp, str):
            raise ValueError
        updated_at = fromisoformat(stamp)
    except ValueError:
        raise Malformed(f"updated-at {stamp!r} is not a timestamp") from None
    updated_at = updated_at.replace(tzinfo=UTC) if updated_at.tzinfo is None else updated_at.astimezone(UTC)
    try:
        document = encode(payload)
    except (TypeError, ValueError) as exc:
        raise Malformed(f"not representable as JSON: {exc}") from None
    except RecursionError:
        raise Malformed(f"nested {_depth(payload):,} levels deep, deeper than the JSON encoder goes") from None
    # Deeper than the HTTP layer lets a page through (it cuts only what its parser cannot read):
    # the same limit for every record, however it was parsed. Counting brackets is the cheap test.
    if document.count("[") + document.count("{") > MAX_JSON_DEPTH and _depth(payload) > MAX_JSON_DEPTH:
        raise Malformed(f"nested {_depth(payload):,} levels deep, deeper than Puente lands ({MAX_JSON_DEPTH}); "
                        "no real record nests so deep")
    if "\\u0000" in document and _NUL_ESCAPE.search(document):  # the cheap test first
        if _TOO_DEEP_ENCODED in document:
            raise Malformed(TOO_DEEP.lstrip("\x00"))
        raise Malformed("contains a NUL character (\\u0000), which PostgreSQL jsonb cannot store")
    if not document.isascii():
        _check_unicode(document)
    return source_id, document, updated_at, record.deleted


def _check_unicode(document: str) -> None:
    """Raise Malformed when ``document`` holds a lone surrogate, which UTF-8 cannot encode: a
    byte the source sent that was not UTF-8 (read by the HTTP layer as U+DC80..U+DCFF,
    "surrogateescape") or a string cut inside an emoji (HubSpot escapes ``\\ud83d`` alone)."""
    try:
        document.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(document[exc.start])
        if 0xDC80 <= char <= 0xDCFF:
            raise Malformed(f"text is not valid UTF-8: byte 0x{char - 0xDC00:02x} at character {exc.start} "
                            "(the source sent text in another encoding, or cut a character in two)") from None
        raise Malformed(f"text is not valid Unicode: a lone UTF-16 surrogate (\\u{char:04x}) at character "
                        f"{exc.start}, e.g. a string cut inside an emoji") from None


def _depth(value: object) -> int:
    """How deeply ``value`` nests lists and dicts, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _pruned(value: object, keep: int = QUARANTINE_DEPTH) -> object:
    """A copy of ``value`` whose lists and dicts deeper than ``keep`` levels are replaced by a
    marker, built without recursion (so a payload nested 5,000 levels deep can still be kept)."""
    top: list = [None]
    stack: list[tuple[Any, Any, object, int]] = [(top, 0, value, 0)]
    while stack:
        parent, key, item, depth = stack.pop()
        if not isinstance(item, dict | list):
            parent[key] = item
        elif depth >= keep:
            parent[key] = f"... ({_depth(item):,} more levels, cut)"
        else:
            copy = dict.fromkeys(item) if isinstance(item, dict) else [None] * len(item)
            parent[key] = copy
            children = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend((copy, child_key, child, depth + 1) for child_key, child in children)
    return top[0]


def _quarantine_payload(payload: object) -> str:
    # ASCII, with \\u escapes: NUL and lone surrogates are kept as text PostgreSQL can store
    try:
        return json.dumps(payload, default=repr, allow_nan=True)
    except (RecursionError, ValueError):  # too deep, or a cycle
        return json.dumps(_pruned(payload), default=repr, allow_nan=True)


def _erased_among(conn: psycopg.Connection, raw_object: RawObject,
                  rejected: list[tuple[Record, str]]) -> dict[str, tuple[datetime, str]]:
    """The rejected records an erasure scrubbed (``ops.erased_records``): id -> (erased at, erasure)."""
    # an id with NUL or a lone surrogate never landed in raw, so no erasure scrubbed it
    ids = sorted({r.source_id for r, _ in rejected
                  if isinstance(r.source_id, str) and _storable(r.source_id) == r.source_id})
    if not ids:
        return {}
    rows = conn.execute(_ERASED_IDS, (ids, raw_object.source, raw_object.object,
                                      f"{raw_object.source}/{raw_object.object}/")).fetchall()
    return {source_id: (erased_at, erasure_id) for source_id, erased_at, erasure_id in rows}


def _quarantined(raw_object: RawObject, record: Record, reason: str, erased: tuple[datetime, str] | None,
                 field_keys: FieldKeys | None = None) -> tuple[str, str]:
    """(payload, reason) as ``ops.quarantine`` keeps a rejected record. The record of an erased
    person that the source has not changed since the erasure (or whose updated-at cannot tell:
    a broken cursor re-serving old rows) keeps only its key and cursor: the erasure's promise
    holds in quarantine too, and the operator still sees which record came back and why. With
    ``field_keys``, the phones and tax ids its source declares (``PersonalData.sensitive``) are
    sealed."""
    obj = registry.source_object(raw_object.source, raw_object.object)
    if erased is not None:
        erased_at, erasure_id = erased
        try:
            stamp = datetime.fromisoformat(record.updated_at) if isinstance(record.updated_at, str) else None
        except ValueError:
            stamp = None
        if stamp is not None and stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        if stamp is None or stamp <= erased_at:
            payload = record.payload
            kept = {f: payload[f] for f in (obj.key, obj.cursor) if f in payload} if isinstance(payload, dict) else {}
            return (_quarantine_payload(kept),
                    f"{reason}; the record of a person erased by erasure {erasure_id}, served again unchanged "
                    "since (or with an updated-at that cannot tell): only its key and cursor are kept")
    if field_keys is not None and obj.personal.sensitive:
        return _quarantine_payload(field_keys.seal_record(record.payload, obj.personal.sensitive)), reason
    return _quarantine_payload(record.payload), reason


def _sealed(conn: psycopg.Connection, raw_object: RawObject, records: Sequence[Record],
            field_keys: FieldKeys) -> Sequence[Record]:
    """``records`` with the phones and tax ids their source declares (``PersonalData.sensitive``)
    sealed, their identity keys derived from the clear values first (``puente.sealed_keys``)."""
    personal = registry.source_object(raw_object.source, raw_object.object).personal
    paths = personal.sensitive
    if not paths:
        return records
    clear: list[tuple[str, str]] = []
    sealed = []
    for record in records:
        if isinstance(record.payload, dict):
            clear.extend(sealed_keys.clear_kinds(record.payload, personal.sensitive_kinds))
            record = replace(record, payload=field_keys.seal_record(record.payload, paths))
        sealed.append(record)
    sealed_keys.derive(conn, clear, field_keys)
    return sealed


def _storable(source_id: str | None) -> str | None:
    """The id as text PostgreSQL can store: JSON-escaped when it holds NUL or a lone surrogate."""
    if source_id is None:
        return None
    try:
        source_id.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(source_id)[1:-1]
    return json.dumps(source_id)[1:-1] if "\x00" in source_id else source_id


def _dedupe(rows: list[_Row]) -> list[_Row]:
    """One row per id: the latest updated-at wins; on a tie, the later one in the page."""
    newest: dict[str, _Row] = {}
    for row in rows:
        kept = newest.get(row[0])
        if kept is None or row[2] >= kept[2]:
            newest[row[0]] = row
    # Usually nothing to drop: then the rows keep their order and no second list is built.
    return rows if len(newest) == len(rows) else list(newest.values())


@cache
def _stamp_field(raw_object: RawObject) -> str:
    """The record field holding the object's updated-at (``write_date``, ``updatedAt``, …)."""
    return registry.source(raw_object.source).object(raw_object.object).cursor


def _flag_future(conn: psycopg.Connection, raw_object: RawObject, rows: list[_Row], batch_id: str,
                 read_at: datetime) -> int:
    """Flag the rows stamped after ``read_at`` (the source's clock) + FUTURE_TOLERANCE; how many."""
    limit = read_at + FUTURE_TOLERANCE
    future = [row for row in rows if row[2] > limit]
    if future:
        field = _stamp_field(raw_object)
        with conn.cursor() as cur:
            cur.executemany(
                "insert into ops.record_flags (batch_id, source, object, source_id, field, value, reason) "
                "values (%s, %s, %s, %s, %s, %s, %s)",
                [(batch_id, raw_object.source, raw_object.object, row[0], field, row[2].isoformat(),
                  f"stamped {row[2] - read_at} after the source's clock when it was read "
                  f"({read_at.isoformat()}): landed as it is; the cursor stays at the extraction's start, so "
                  "the record is read again every night until the source stamps it right")
                 for row in future])
    return len(future)


def load_page(conn: psycopg.Connection, raw_object: RawObject, records: Sequence[Record],
              batch_id: str, read_at: datetime | None = None, field_keys: FieldKeys | None = None) -> LoadCounts:
    """Land ``records`` in ``raw_object``'s table inside the caller's transaction.

    ``read_at`` is the source's clock when it served them (None: no record is judged to be from
    the future). ``field_keys`` seals the phones and tax ids of every record, landed or
    quarantined (``puente.field_crypto``, ``puente.sealed_keys``; None: kept as served)."""
    counts = LoadCounts(received=len(records))
    if field_keys is not None:
        records = _sealed(conn, raw_object, records, field_keys)
    good: list[_Row] = []
    rejected: list[tuple[Record, str]] = []
    for record in records:
        try:
            good.append(_validate(record))
        except Malformed as exc:
            rejected.append((record, str(exc)))
    if rejected:
        erased = _erased_among(conn, raw_object, rejected)
        with conn.cursor() as cur:
            cur.executemany(
                "insert into ops.quarantine (batch_id, source, object, source_id, payload, reason) "
                "values (%s, %s, %s, %s, %s, %s)",
                [(batch_id, raw_object.source, raw_object.object, _storable(record.source_id),
                  *_quarantined(raw_object, record, reason, erased.get(record.source_id), field_keys))
                 for record, reason in rejected],
            )
        counts.quarantined = len(rejected)
    rows = _dedupe(good)
    if not rows:
        return counts
    if read_at is not None:
        counts.future_stamped = _flag_future(conn, raw_object, rows, batch_id, read_at)
    with conn.cursor() as cur:
        # One temporary table per session, emptied by every commit: creating and dropping it in
        # every page's transaction churns the catalog and costs more than the page itself.
        cur.execute(
            "create temp table if not exists _puente_page (source_id text, record jsonb, "
            "source_updated_at timestamptz, _deleted boolean) on commit delete rows"
        )
        cur.execute("delete from _puente_page")
        with cur.copy("copy _puente_page (source_id, record, source_updated_at, _deleted) from stdin") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        cur.execute(_SKIP_ERASED, (raw_object.source, raw_object.object,
                                   f"{raw_object.source}/{raw_object.object}/"))
        counts.erased_skipped = cur.rowcount
        cur.execute(_BACK_AFTER_ERASURE, (raw_object.source, raw_object.object,
                                          f"{raw_object.source}/{raw_object.object}/"))
        back, erasures = cur.fetchone()
        if back:
            log.warning("%d record(s) of %s.%s erased by erasure(s) %s land again: the source changed them after "
                        "the erasure (the person came back, or the record was edited); if the person's data should "
                        "be gone, erase them in %s and run `puente erase` again", back, raw_object.source,
                        raw_object.object, ", ".join(erasures), raw_object.source)
        table = raw_object.qualified_table
        cur.execute(
            f"""
            with upserted as (
                insert into {table} as raw (source_id, record, source_updated_at, _loaded_at, _batch_id, _deleted)
                select source_id, record, source_updated_at, now(), %s, _deleted from _puente_page
                on conflict (source_id) do update set
                    record = excluded.record,
                    source_updated_at = excluded.source_updated_at,
                    _loaded_at = excluded._loaded_at,
                    _batch_id = excluded._batch_id,
                    _deleted = excluded._deleted
                where (raw.record is distinct from excluded.record
                       or raw._deleted is distinct from excluded._deleted)
                  and (raw.source_updated_at is null
                       or excluded.source_updated_at >= raw.source_updated_at
                       or raw.source_updated_at > %s)
                returning xmax = 0 as inserted
            )
            select count(*) filter (where inserted), count(*) filter (where not inserted) from upserted
            """,
            (batch_id, read_at + FUTURE_TOLERANCE if read_at is not None else "infinity"),
        )
        counts.inserted, counts.updated = cur.fetchone()
    counts.unchanged = len(good) - counts.inserted - counts.updated - counts.erased_skipped
    return counts


# The page's records an erasure scrubbed and the source has not changed since.
_SKIP_ERASED = f"""
delete from _puente_page as p
using ops.erased_records as e, ops.erasure_key as k
where {ERASED_RECORD.format(id="p.source_id")}
  and p.source_updated_at <= e.erased_at
"""

# The page's records an erasure scrubbed that the source changed since: they land again (new data
# the business holds), and the operator is told (a warning in the log).
_BACK_AFTER_ERASURE = f"""
select count(*), coalesce(array_agg(distinct e.erasure_id), '{{}}')
from _puente_page as p, ops.erased_records as e, ops.erasure_key as k
where {ERASED_RECORD.format(id="p.source_id")}
  and p.source_updated_at > e.erased_at
"""

# Which of the ids (of a page's rejected records) an erasure scrubbed: when, and which erasure.
_ERASED_IDS = f"""
select i.source_id, e.erased_at, e.erasure_id
from unnest(%s::text[]) as i(source_id), ops.erasure_key as k, ops.erased_records as e
where {ERASED_RECORD.format(id="i.source_id")}
"""
