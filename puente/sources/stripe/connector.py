"""Stripe's charges, payment intents, refunds and balance transactions (``settings.py`` cites the docs).

Each object is read in two passes over one window, ``[stored cursor - lookback, now]``:

1. **New objects**: ``GET /v1/<object>?created[gte]=<window start>&limit=100``, newest first, the
   next page asked with ``starting_after`` = the last id read until ``has_more`` is false. Paging by
   id is stable: an object created while the walk pages goes to the head of the list, behind the
   walk, and cannot shift one it has not read yet. A request that fails mid-walk (429, 5xx, a
   timeout) is retried by the shared HTTP client with the same ``starting_after``: the walk goes on
   from the page it was on.
2. **Changes to objects created earlier**: Stripe stamps an object only with ``created``; a charge
   refunded or disputed days later changes without a new ``created``, so the first pass would
   never see it again. The second pass reads ``GET /v1/events`` of the object's types
   (``charge.refunded``, ``charge.updated``, ``payment_intent.canceled``, ``refund.updated``, …,
   ``StripeObject.event_types``) created in the same window, and lands each event's ``data.object``
   (the object as it was after that change) stamped with the event's ``created``, oldest first, so
   the latest version wins in raw. A dispute's events carry the dispute, not the charge: the charge
   it names is read again (``GET /v1/charges/{id}``) and stamped with the event. Balance
   transactions have no update events: what lands of them (amounts, fees, type, source) never changes.

The cursor is the latest moment read in either pass (an object's ``created`` or an event's), in
ISO 8601 UTC; it is stored with the walk's last page only, because the first pass goes from the
newest object to the oldest: a crash mid-walk reruns the window from the stored cursor, and what
was landed already comes back as "unchanged".

Stripe keeps events 30 days. When the window begins earlier than that (Puente did not run for
about four weeks, or a backfill), events no longer say what changed, and the walk lists the
object whole instead (no ``created`` filter): a list serves every object as it is now, so the
changes are read from it, stamped with the moment of the walk's start (see ``_full_relist``).

Stripe's lists report no total, and Stripe deletes none of these objects: ``count`` and
``list_ids`` answer None (no count reconciliation, no deletes to detect). Retries (429, 5xx,
timeouts) are the shared HTTP client's (``puente.sources.http``); records are projected to the
declared fields before they land (minimum data). A record without an id or with a ``created``
that is not a Unix time is handed over with None there, and the loader quarantines it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from puente.sources.base import DEFAULT_LOOKBACK, HttpConnector, Page, Record, get, parse_timestamp, text_id
from puente.sources.http import HttpClient, SourceError
from puente.sources.stripe.config import StripeConfig
from puente.sources.stripe.settings import (
    API_VERSION,
    EVENT_MARGIN_DAYS,
    EVENT_RETENTION_DAYS,
    EVENTS_PATH,
    OBJECTS,
    PAGE_LIMIT,
    SYSTEM,
    StripeObject,
)

log = logging.getLogger(__name__)
URL_SETTING = ("the API's base URL (host of the Airflow connection puente_stripe, or PUENTE_STRIPE_URL; "
               "https://api.stripe.com by default)")
MAX_EVENT_TYPES = 20  # types[] takes at most 20 event names


def stamp(moment: datetime) -> str:
    """A moment as Puente writes Stripe's cursors: ISO 8601 in UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def unix_stamp(value: Any) -> str | None:
    """Stripe's ``created`` (Unix seconds) as a cursor stamp; None when it is not a Unix time."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        return stamp(datetime.fromtimestamp(value, UTC))
    except (OverflowError, OSError, ValueError):
        return None


class StripeConnector(HttpConnector):
    source = "stripe"
    objects = tuple(o.name for o in OBJECTS)

    def __init__(self, config: StripeConfig, *, page_size: int = PAGE_LIMIT, lookback: float = DEFAULT_LOOKBACK,
                 now: datetime | None = None, **http_options: Any):
        if not 1 <= page_size <= PAGE_LIMIT:
            raise ValueError(f"page_size must be between 1 and {PAGE_LIMIT}, got {page_size}")
        self._page_size = page_size
        self._objects = {o.name: o for o in OBJECTS}
        self.lookback = lookback
        self._now = now  # for tests: the moment the event retention is measured from (else Stripe's clock)
        self.http = HttpClient(SYSTEM, config.url, headers={"Authorization": f"Bearer {config.secret_key}",
                                                            "Stripe-Version": API_VERSION}, **http_options)

    def cursor_at(self, moment: datetime) -> str:
        return stamp(moment)

    def count(self, obj: str) -> None:
        self._object(obj)
        return None  # Stripe's lists report no total

    def list_ids(self, obj: str) -> None:
        self._object(obj)
        return None  # Stripe deletes no charge, payment intent, refund or balance transaction

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]:
        spec = self._object(obj)
        since = parse_timestamp(cursor) - timedelta(seconds=self.lookback) if cursor else None
        newest = parse_timestamp(cursor) if cursor else None
        created: dict[str, Any] = {}
        if until:
            created["created[lte]"] = int(parse_timestamp(until).timestamp())
        relist = since is not None and not until and self._events_gone(since)
        if relist:
            log.warning("stripe %s: the window begins %s, before the %d days Stripe keeps events; listing every "
                        "%s instead, to read the changes from their current state", obj, stamp(since),
                        EVENT_RETENTION_DAYS, spec.stripe_object)
        elif since is not None:
            created["created[gte]"] = int(since.timestamp())
        started = stamp(self._clock()) if relist else None
        for records in self._list(spec.path, obj, created):
            landed = [self._record(spec, item, started) for item in records]
            newest = _later(newest, landed)
            yield Page(landed, None)
        if since is not None and not relist and (spec.event_types or spec.refetch_types):
            for records in self._events(spec, created):
                newest = _later(newest, records)
                yield Page(records, None)
        yield Page([], stamp(newest) if newest else None)

    # ------------------------------------------------------------------ the two passes

    def _list(self, path: str, obj: str, params: dict[str, Any]) -> Iterator[list[Any]]:
        """The pages of one list, newest first, paged by ``starting_after``."""
        after: str | None = None
        while True:
            query = {**params, "limit": self._page_size, **({"starting_after": after} if after else {})}
            body = self._get(path, obj, query)
            data, more = get(body, "data"), get(body, "has_more")
            if not isinstance(data, list) or not isinstance(more, bool):
                raise SourceError(SYSTEM, obj, f"GET {path}", f"an answer that is not a Stripe list: "
                                  f"{str(body)[:200]!r}", f"Check {URL_SETTING}")
            yield data
            if not more or not data:
                return
            ids = [text_id(get(item, "id")) for item in data]
            last = next((i for i in reversed(ids) if i), None)
            if last is None:
                raise SourceError(SYSTEM, obj, f"GET {path}", "a page whose objects all lack an id, so the next "
                                  "page cannot be asked for", "Report this to Puente's maintainers")
            after = last

    def _events(self, spec: StripeObject, created: dict[str, Any]) -> Iterator[list[Record]]:
        """The object's versions the events of the window hold, oldest first within each page."""
        types = [*spec.event_types, *spec.refetch_types]
        for start in range(0, len(types), MAX_EVENT_TYPES):
            params = {**created, "types[]": types[start: start + MAX_EVENT_TYPES]}
            for events in self._list(EVENTS_PATH, spec.name, params):
                records = []
                for event in reversed(events):
                    at = unix_stamp(get(event, "created"))
                    held = get(event, "data", "object")
                    if get(held, "object") == spec.stripe_object:
                        records.append(self._record(spec, held, at))
                    elif get(event, "type") in spec.refetch_types:
                        named = text_id(get(held, spec.refetch_field))
                        if named is not None:
                            again = self._get(f"{spec.path}/{named}", spec.name, {})
                            records.append(self._record(spec, again, at))
                yield records

    # ------------------------------------------------------------------ helpers

    def _events_gone(self, since: datetime) -> bool:
        return since < self._clock() - timedelta(days=EVENT_RETENTION_DAYS - EVENT_MARGIN_DAYS)

    def _clock(self) -> datetime:
        """Stripe's clock (the ``Date`` of its latest answer; one small request asks it first)."""
        if self._now is not None:
            return self._now
        if self.http.source_time is None:
            self._get(EVENTS_PATH, "events", {"limit": 1})
        return self.http.source_time or datetime.now(UTC)

    def _record(self, spec: StripeObject, item: Any, at: str | None) -> Record:
        """An object as it lands: stamped ``at`` (an event's moment), else its own ``created``."""
        own = unix_stamp(get(item, spec.cursor))
        return Record(payload=spec.landed(item), source_id=text_id(get(item, spec.key)),
                      updated_at=(at or own) if own else None)

    def _get(self, path: str, obj: str, params: dict[str, Any]) -> Any:
        response = self.http.request("GET", path, obj=obj, params=params)
        try:
            return response.json()
        except ValueError:
            raise SourceError(SYSTEM, obj, f"GET {path}", f"HTTP {response.status_code} that is not JSON: "
                              f"{response.text[:200]!r}", f"Check {URL_SETTING}") from None

    def _object(self, obj: str) -> StripeObject:
        try:
            return self._objects[obj]
        except KeyError:
            raise ValueError(f"stripe has no object {obj!r}; known: {list(self.objects)}") from None


def _later(newest: datetime | None, records: list[Record]) -> datetime | None:
    for record in records:
        if record.updated_at:
            at = parse_timestamp(record.updated_at)
            newest = at if newest is None or at > newest else newest
    return newest
