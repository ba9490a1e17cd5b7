"""Tienda Nube / Nuvemshop API v1 (base URL ``https://api.tiendanube.com/v1/{store_id}``).

What it relies on, per the Tienda Nube API docs (see ``settings.py``):

- Every request carries ``Authentication: bearer <token>`` and a ``User-Agent`` naming the app
  and a contact (``config.py``). The token travels only in that header; errors and logs name
  the method and path, never headers.
- ``GET /{customers,orders,products}?updated_at_min=<cursor minus lookback>&per_page=200
  &fields=<declared>`` (and ``updated_at_max`` for a backfill's upper bound); further pages are
  the ``Link: <…>; rel="next"`` URL, used as given (and refused when it points at another
  scheme, host or port: the token would travel there). When a proxy strips ``Link``,
  ``X-Total-Count`` says whether there is a next page. A page past the last is a 404 whose
  description says ``Last page is N``: that is the end of the list, not an error.
- The docs promise no order for the lists, so the walk relies on none: the cursor (the greatest
  ``updated_at`` seen) is stored only with the last page, and a crash mid-walk reruns the walk
  from the previous cursor. Pages are offsets: a record that leaves the list mid-walk (an order
  refunded leaves the default list; a record changed after ``updated_at_max``) shifts unread
  records back. When ``X-Total-Count`` shrinks during a pass, the cursor stays where it was, so
  the next night rereads the window.
- Orders: the default list holds the authorized, pending and paid ones; the walk adds a pass
  per payment status it leaves out (``refunded``, ``voided``: cancelled orders), and ``count``
  and ``list_ids`` span the same passes. Orders are never deleted; customers and products are
  deleted for good and simply vanish (``list_ids`` walks ``fields=id`` for the id-set
  comparison; ``count`` adds up ``X-Total-Count`` of one-record pages).
- ``fields`` asks for the top-level fields Puente declares (``settings.py``, minimum data), and
  each record is projected to the declaration before it lands all the same (``fields`` cannot
  reach inside ``products`` or ``variants``).
- ``updated_at`` is ISO 8601 with the store's offset; cursors are written in UTC with an offset.
- Rate limit, a leaky bucket of 40 leaking 2 a second: after an answer whose
  ``X-Rate-Limit-Remaining`` leaves the bucket fuller than 80 %, the connector pauses until it
  drains back below. A 429 carries no ``Retry-After``: the HTTP layer waits
  ``X-Rate-Limit-Reset`` (milliseconds until the bucket is empty), then retries; 5xx answers
  are retried with backoff (``puente.sources.http``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from puente.sources.base import (
    DEFAULT_LOOKBACK,
    HttpConnector,
    Page,
    Record,
    get,
    offset_walk,
    parse_timestamp,
    text_id,
)
from puente.sources.fields import top_level
from puente.sources.http import HttpClient, SourceError, header_int, json_list, next_link, retry_after_seconds
from puente.sources.tiendanube.config import TiendaNubeConfig
from puente.sources.tiendanube.settings import (
    BUCKET_SIZE,
    HIGH_WATER,
    LEAK_PER_SECOND,
    PAGE_LIMIT,
    RESOURCES,
    SYSTEM,
    NubeResource,
)

URL_SETTING = ("the API URL and store id (host and login of the Airflow connection puente_tiendanube, or "
               "PUENTE_TIENDANUBE_URL): https://api.tiendanube.com/v1/{store_id}")
LAST_PAGE = "Last page is"


def rate_limit_wait(response: httpx.Response) -> float | None:
    """How long a refused request waits: ``Retry-After`` if a proxy sent one, else Tienda Nube's
    ``X-Rate-Limit-Reset`` (milliseconds until the bucket is empty)."""
    wait = retry_after_seconds(response)
    if wait is not None:
        return wait
    try:
        return max(0.0, float(response.headers["X-Rate-Limit-Reset"]) / 1000)
    except (KeyError, ValueError):
        return None


def throttle_seconds(response: httpx.Response) -> float:
    """How long to pause after an answer so that the bucket drains back below ``HIGH_WATER``."""
    try:
        size = int(response.headers.get("X-Rate-Limit-Limit", BUCKET_SIZE))
        used = size - int(response.headers["X-Rate-Limit-Remaining"])
    except (KeyError, ValueError):
        return 0.0
    return max(0.0, (used - HIGH_WATER * size) / LEAK_PER_SECOND)


class TiendaNubeConnector(HttpConnector):
    source = "tiendanube"
    objects = tuple(r.name for r in RESOURCES)

    def __init__(self, config: TiendaNubeConfig, *, page_size: int = PAGE_LIMIT,
                 lookback: float = DEFAULT_LOOKBACK, **http_options: Any):
        self._page_size = page_size
        self._resources = {r.name: r for r in RESOURCES}
        self.lookback = lookback
        self.http = HttpClient(SYSTEM, config.url, headers={"Authentication": f"bearer {config.token}",
                                                            "User-Agent": config.user_agent},
                               retry_after=rate_limit_wait, **http_options)

    def cursor_at(self, moment: datetime) -> str:
        return moment.astimezone(UTC).isoformat(timespec="seconds")

    def count(self, obj: str) -> int:
        total = 0
        for query in self._resource(obj).passes:
            response = self._get(obj, obj, {"per_page": 1, "fields": "id", **dict(query)})
            found = header_int(response, "X-Total-Count")
            if found is None and response.status_code == 404:
                found = 0  # nothing in this pass: "Last page is 0"
            if found is None:
                raise SourceError(SYSTEM, obj, f"GET {obj}", "no X-Total-Count header in the answer",
                                  f"Check {URL_SETTING}")
            total += found
        return total

    def list_ids(self, obj: str) -> set[str]:
        ids: set[str] = set()
        for query in self._resource(obj).passes:
            for response in self._pages(obj, {"per_page": PAGE_LIMIT, "fields": "id", **dict(query)}):
                ids.update(i for i in (text_id(get(r, "id")) for r in self._results(response, obj)) if i)
        return ids

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]:
        resource = self._resource(obj)
        params: dict[str, Any] = {"per_page": self._page_size, "fields": ",".join(top_level(resource.landed_fields))}
        if cursor:
            start = parse_timestamp(cursor) - timedelta(seconds=self.lookback)
            params["updated_at_min"] = self.cursor_at(start)
        if until:
            params["updated_at_max"] = self.cursor_at(parse_timestamp(until))

        def listing(query: dict[str, str]) -> Iterator[tuple[int | None, list[Record]]]:
            for response in self._pages(obj, {**params, **query}):
                yield (header_int(response, "X-Total-Count"),
                       [_record(resource, r) for r in self._results(response, obj)])

        yield from offset_walk(SYSTEM, obj, cursor, [listing(dict(query)) for query in resource.passes])

    def _pages(self, obj: str, params: dict[str, Any]) -> Iterator[httpx.Response]:
        """Every page of one listing: the ``Link`` next URL as given, else ``X-Total-Count``."""
        url: str | None = obj
        query: dict[str, Any] | None = params
        page = 1
        while url is not None:
            response = self._get(url, obj, query)
            yield response
            link = next_link(response.headers.get("Link"))
            total = header_int(response, "X-Total-Count")
            if response.status_code == 404:
                url = None
            elif link is not None:
                url, query = self._follow(link, obj), None
            elif total is not None and page * int(params["per_page"]) < total:
                url, query = obj, {**params, "page": page + 1}
            else:
                url = None
            page += 1

    def _get(self, url: str, obj: str, params: dict[str, Any] | None) -> httpx.Response:
        """One list request; a 404 past the last page ("Last page is N") comes back as an empty page,
        any other 404 is an error. Pauses afterwards when the bucket is nearly full."""
        response = self.http.request("GET", url, obj=obj, params=params, passthrough=(404,))
        if response.status_code == 404 and LAST_PAGE not in _description(response):
            raise SourceError(SYSTEM, obj, f"GET {response.request.url.path}",
                              f"HTTP 404: {response.text[:200]!r}", f"Check {URL_SETTING}", 404)
        pause = throttle_seconds(response)
        if pause:
            self.http.sleep(pause)
        return response

    def _follow(self, url: str, obj: str) -> str:
        """The next-page URL, refusing one on another scheme, host or port (the token would travel there)."""
        return self.http.follow(url, obj, f"GET {obj}", f"Check {URL_SETTING}")

    def _results(self, response: httpx.Response, obj: str) -> list[Any]:
        if response.status_code == 404:  # past the last page
            return []
        return json_list(response, SYSTEM, obj, f"Check {URL_SETTING}")

    def _resource(self, obj: str) -> NubeResource:
        try:
            return self._resources[obj]
        except KeyError:
            raise ValueError(f"tiendanube has no object {obj!r}; known: {list(self.objects)}") from None


def _description(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("description") or "") if isinstance(body, dict) else ""



def _record(resource: NubeResource, result: Any) -> Record:
    return Record(payload=resource.landed(result), source_id=text_id(get(result, resource.key)),
                  updated_at=get(result, resource.cursor))
