"""What every connector hands to the loader: pages of records and the cursor to store after them.

A connector walks one object of its system and yields ``Page`` after ``Page``. Each record is
kept as the API returned it (``payload``), reduced to its declared fields where the object
declares them (``SourceObject.landed_fields``, minimum data), beside what the loader needs to land it:
its id, its updated-at as the API wrote it, and whether the source says it is deleted or
archived. The connector reads those leniently (a malformed record gives ``None``) and the loader
decides: a record without an id or a readable updated-at goes to ``ops.quarantine``.

``Page.cursor`` is the value ``ops.extract_state`` may hold once the page is committed; ``None``
means "leave the stored cursor as it is" (walks that are not sorted by updated-at can only move
the cursor after their last page). A connector never hands back a cursor older than the one it
was given. The extraction stores at most the moment the walk started on the source's clock
(``source_time``, the ``Date`` of the source's answers), so one record stamped in the future
cannot carry the cursor past records that have yet to change (``puente.extract``).

Every connector reads ``lookback`` seconds before the stored cursor: a change that becomes
visible late, stamped before records already read (a long ERP transaction commits with the
write_date of its start; a search index lags behind), is still picked up the next night. The
overlap lands as "unchanged". ``until`` bounds a walk from above (a backfill of a date range).

Besides pages, a connector answers two cheap questions used after each object's extraction:
``count(obj)``, how many live records the source reports (reconciliation), and
``list_ids(obj)``, the ids the source still holds, or ``None`` where the API itself reports
deletions (HubSpot's ``archived=true``); raw rows missing from that set are flagged ``_deleted``.
What the count counts in raw is declared with each object (``puente.sources.spec.SourceObject``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from puente.sources.http import HttpClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    payload: Any
    source_id: str | None
    updated_at: str | None
    deleted: bool = False


@dataclass(frozen=True)
class Page:
    records: list[Record]
    cursor: str | None


DEFAULT_LOOKBACK = 3600.0  # seconds re-read before the stored cursor


class Connector(Protocol):
    source: str
    objects: tuple[str, ...]

    @property
    def requests_made(self) -> int: ...

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]: ...

    def cursor_at(self, moment: datetime) -> str:
        """``moment`` in this source's cursor format (for backfills and the cursor's cap)."""
        ...

    def cursor_moment(self, cursor: str) -> datetime:
        """The moment a cursor of this source stands for (the inverse of ``cursor_at``)."""
        ...

    @property
    def source_time(self) -> datetime | None:
        """The source's clock at its latest answer (HTTP ``Date``), None when it sent none."""
        ...

    def count(self, obj: str) -> int: ...

    def list_ids(self, obj: str) -> set[str] | None: ...

    def close(self) -> None: ...


class HttpConnector:
    """What every connector over one ``HttpClient`` (``self.http``) shares: the requests it made,
    the source's clock at its latest answer, closing it, and a cursor read back as the moment of its
    ISO 8601 timestamp (a source whose cursor is another format overrides ``cursor_moment``)."""

    http: HttpClient

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    @property
    def source_time(self) -> datetime | None:
        return self.http.source_time

    def close(self) -> None:
        self.http.close()

    def cursor_moment(self, cursor: str) -> datetime:
        return parse_timestamp(cursor)


def parse_timestamp(value: Any) -> datetime:
    """A source timestamp as an aware UTC datetime; raises ValueError when it is not one.

    Accepts the three wire formats of contracts.md: Odoo's ``"YYYY-MM-DD HH:MM:SS"`` (UTC, no
    zone), HubSpot's ``...Z`` and Shopify's ``...-05:00``.
    """
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp string, got {value!r}")
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def get(payload: Any, *path: str) -> Any:
    """``payload[path[0]][path[1]]...``, or None where the record is not shaped that way."""
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def text_id(value: Any) -> str | None:
    """An id as text (Odoo and Shopify ids are integers, HubSpot's strings); None if absent.

    A float is the integer it holds (``11.0``, as some JSON writers send integers); a Shopify
    GraphQL global id (``gid://shopify/Order/11``) is its number, the id REST gives the record.
    """
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str) and value.startswith("gid://shopify/") and value.rpartition("/")[2].isdigit():
        return value.rpartition("/")[2]
    return str(value) if isinstance(value, int | str) else None


def latest(records: Iterable[Record]) -> Record | None:
    """The record with the greatest readable updated-at (ignoring unreadable ones), or None."""
    best, best_at = None, None
    for record in records:
        try:
            at = parse_timestamp(record.updated_at)
        except ValueError:
            continue
        if best_at is None or at > best_at:
            best, best_at = record, at
    return best


def offset_walk(system: str, obj: str, cursor: str | None,
                passes: list[Iterable[tuple[int | None, list[Record]]]]) -> Iterator[Page]:
    """The pages of a walk that pages by offset (``page=1, 2, …``) through one or more listings
    (``passes``: each an iterable of ``(the listing's total as the page reports it, its records)``,
    read lazily), none of them sorted by updated-at (WooCommerce, Tienda Nube).

    The cursor (the greatest readable updated-at, never older than ``cursor``) comes only with the
    last page of the last pass, so a crash mid-walk reruns the walk from the stored cursor. A
    record that leaves a listing while it is paged shifts unread records back onto a page already
    read: when a pass's total shrinks, the cursor stays where it was, so that the next run reads
    the window again (a record entering the listing only repeats one, harmlessly).
    """
    newest: Record | None = Record(None, None, cursor) if cursor else None
    shrunk = False
    for number, listing in enumerate(passes, 1):
        first_total: int | None = None
        pages = iter(listing)
        page = next(pages, None)
        while page is not None:
            total, records = page
            first_total = total if first_total is None else first_total
            if total is not None and first_total is not None and total < first_total:
                shrunk = True
            newest = latest([*records, *([newest] if newest else [])])
            page = next(pages, None)
            done = page is None and number == len(passes)
            if done and shrunk:
                log.warning("%s %s: records left the listing while it was paged; the cursor stays where it was "
                            "so that the next run reads this window again", system, obj)
            yield Page(records, newest.updated_at if done and newest and not shrunk else None)
