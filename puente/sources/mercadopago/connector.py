"""Mercado Pago payments, read through the payments search (``settings.py`` cites the docs).

- ``GET /v1/payments/search?range=date_last_updated&begin_date=<cursor minus lookback>
  &sort=date_last_updated&criteria=asc&offset=0&limit=…`` with the access token as a Bearer
  header; ``end_date`` only for a backfill's upper bound (left out, the search ends ``NOW``). The
  first night begins at ``NOW-12MONTHS``: the search serves no older payment.
- The walk pages by moment, not by offset: each next search begins at the ``date_last_updated``
  of the last payment read, from offset 0. Offsets over a list sorted by a field that changes
  are not safe: a payment updated while the walk pages moves to the end of the order, every
  payment after its old place shifts one back, and the one at the page boundary slips into a
  page already read and is never read, while the cursor moves past it
  (``tests/sources/test_mercadopago.py`` shows it). A fresh search from the last moment read
  cannot skip anything that is at or after it. The payments of that very moment come back at the
  head of the next page and are dropped there. Only when a whole page shares the moment it began
  at does the walk use the offset within that moment.
- So the walk is also ordered by the cursor: each page's greatest ``date_last_updated`` is stored
  once the page is committed, and a crash mid-walk resumes from the last committed page.
- The search stops at ``offset + limit`` = ``OFFSET_CAP``; the walk narrows its date range at
  every page, so it reaches the cap only when more payments than that share one millisecond,
  and then stops with an error rather than skip payments.
- ``count`` is ``paging.total`` of a one-result search over what the first night reads
  (reconciliation). Payments are never deleted, so ``list_ids`` has nothing to compare: None.
- Retries (429, 5xx, timeouts) are the shared HTTP client's (``puente.sources.http``); the
  answer is projected to the declared fields before it lands (minimum data).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from puente.sources.base import (
    DEFAULT_LOOKBACK,
    HttpConnector,
    Page,
    Record,
    get,
    latest,
    parse_timestamp,
    text_id,
)
from puente.sources.http import HttpClient, SourceError
from puente.sources.mercadopago.config import MercadoPagoConfig
from puente.sources.mercadopago.settings import (
    FIRST_BEGIN,
    OBJECTS,
    OFFSET_CAP,
    PAGE_LIMIT,
    SYSTEM,
    MercadoPagoObject,
)

MP_ZONE = timezone(timedelta(hours=-4))  # the zone Mercado Pago writes its dates in
URL_SETTING = ("the API's base URL (host of the Airflow connection puente_mercadopago, or PUENTE_MERCADOPAGO_URL; "
               "https://api.mercadopago.com by default)")


def wire_date(moment: datetime) -> str:
    """A moment as Mercado Pago writes its dates: milliseconds and the -04:00 offset."""
    return moment.astimezone(MP_ZONE).isoformat(timespec="milliseconds")


def query_date(moment: datetime) -> str:
    """A moment as ``begin_date``/``end_date``: ISO 8601 in UTC with milliseconds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MercadoPagoConnector(HttpConnector):
    source = "mercadopago"
    objects = tuple(o.name for o in OBJECTS)

    def __init__(self, config: MercadoPagoConfig, *, page_size: int = PAGE_LIMIT, offset_cap: int = OFFSET_CAP,
                 lookback: float = DEFAULT_LOOKBACK, **http_options: Any):
        if not 1 <= page_size <= min(PAGE_LIMIT, offset_cap):
            raise ValueError(f"page_size must be between 1 and {min(PAGE_LIMIT, offset_cap)}, got {page_size}")
        self._page_size, self._offset_cap = page_size, offset_cap
        self._objects = {o.name: o for o in OBJECTS}
        self.lookback = lookback
        self.http = HttpClient(SYSTEM, config.url, headers={"Authorization": f"Bearer {config.access_token}"},
                               **http_options)

    def cursor_at(self, moment: datetime) -> str:
        return wire_date(moment)

    def count(self, obj: str) -> int:
        spec = self._object(obj)
        body = self._search(spec, {"range": spec.cursor, "begin_date": FIRST_BEGIN, "offset": 0, "limit": 1})
        total = get(body, "paging", "total")
        if not isinstance(total, int):
            raise SourceError(SYSTEM, obj, f"GET {spec.path}", "no paging.total in the answer", f"Check {URL_SETTING}")
        return total

    def list_ids(self, obj: str) -> None:
        self._object(obj)
        return None  # payments are never deleted

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]:
        spec = self._object(obj)
        begin: str = (query_date(parse_timestamp(cursor) - timedelta(seconds=self.lookback)) if cursor
                      else FIRST_BEGIN)
        newest: Record | None = Record(None, None, cursor) if cursor else None
        offset = 0  # only within one moment: see _next_begin
        seen: set[tuple[str | None, Any]] = set()  # the previous page's payments, read again at its last moment
        while True:
            params: dict[str, Any] = {"range": spec.cursor, "begin_date": begin, "sort": spec.cursor,
                                      "criteria": "asc", "offset": offset, "limit": self._page_size}
            if until:
                params["end_date"] = query_date(parse_timestamp(until))
            body = self._search(spec, params)
            records = [_record(spec, r) for r in _results(body, obj, spec.path)]
            fresh = [r for r in records if (r.source_id, r.updated_at) not in seen]
            newest = latest([*fresh, *([newest] if newest else [])])
            yield Page(fresh, newest.updated_at if newest else None)
            total = get(body, "paging", "total")
            if len(records) < self._page_size or not isinstance(total, int) or offset + len(records) >= total:
                return
            seen = {(r.source_id, r.updated_at) for r in records}
            begin, offset = self._next_begin(obj, begin, offset, records)

    def _next_begin(self, obj: str, begin: str, offset: int, records: list[Record]) -> tuple[str, int]:
        """Where the next search starts: at the moment of the last payment read, from offset 0 (a
        fresh search, so that no payment can slip into what was read). Only when a whole page
        shares the moment it began at does the walk page on with the offset within that moment,
        up to the search's offset cap."""
        last = latest(records)
        moment = parse_timestamp(last.updated_at) if last else None
        started = None if begin.startswith("NOW") else parse_timestamp(begin)
        if moment is not None and (started is None or moment > started):
            return query_date(moment), 0
        offset += len(records)
        if offset + self._page_size > self._offset_cap:
            raise SourceError(SYSTEM, obj, "GET payments/search", f"more than {self._offset_cap} payments updated "
                              f"at {begin}, more than one search can page through",
                              "The range cannot be narrowed further; report this to Puente's maintainers "
                              "with the date above")
        return begin, offset

    def _search(self, spec: MercadoPagoObject, params: dict[str, Any]) -> Any:
        response = self.http.request("GET", spec.path, obj=spec.name, params=params)
        try:
            return response.json()
        except ValueError:
            raise SourceError(SYSTEM, spec.name, f"GET {spec.path}", f"HTTP {response.status_code} that is not "
                              f"JSON: {response.text[:200]!r}", f"Check {URL_SETTING}") from None

    def _object(self, obj: str) -> MercadoPagoObject:
        try:
            return self._objects[obj]
        except KeyError:
            raise ValueError(f"mercadopago has no object {obj!r}; known: {list(self.objects)}") from None


def _results(body: Any, obj: str, path: str) -> list[Any]:
    results = get(body, "results")
    if not isinstance(results, list):
        raise SourceError(SYSTEM, obj, f"GET {path}", f"an answer without a results list: {str(body)[:200]!r}",
                          f"Check {URL_SETTING}")
    return results


def _record(spec: MercadoPagoObject, result: Any) -> Record:
    return Record(payload=spec.landed(result), source_id=text_id(get(result, spec.key)),
                  updated_at=get(result, spec.cursor))



