"""WooCommerce REST API v3 (base URL ``https://{site}/wp-json/wc/v3``).

What it relies on, per the WooCommerce REST API docs (see ``settings.py``):

- HTTP Basic with the REST API key: consumer key as user, consumer secret as password. The
  secret travels only in the ``Authorization`` header, never in a query string (WooCommerce also
  takes ``consumer_key``/``consumer_secret`` as parameters, which would put it in every log).
- ``GET /{orders,products}?modified_after=<cursor minus lookback>&dates_are_gmt=true&orderby=id
  &order=asc&per_page=100&status=any`` (and ``modified_before`` for a backfill's upper bound);
  further pages are the ``Link: <…page=2…>; rel="next"`` URL, used as given (WordPress builds it
  from the request's own query). When a host strips ``Link``, ``X-WP-TotalPages`` says whether
  there is a next page. A ``Link`` to another scheme, host or port is refused: the key would
  travel there.
- The walk is ordered by id, not by modification: pages are offsets, and in id order a record
  changed while the walk pages can only enter the set (the page boundary then repeats a record,
  harmlessly), where in modification order it would jump to the end and push an unread record
  back onto a page already read. So the cursor (the greatest ``date_modified_gmt`` seen) is
  stored only with the last page, and a crash mid-walk reruns the walk from the previous cursor.
  A record leaving the set mid-walk (trashed) does shift unread records back: when
  ``X-WP-Total`` shrinks during a walk, the cursor is left where it was, so the next night
  rereads the window.
- Trashed orders and products (``status: trash``) are not in ``status=any``; a second pass asks
  ``status=trash`` with the same filters, and they land with ``_deleted``. Deleted for good, a
  record simply vanishes: ``list_ids`` walks ``?_fields=id`` for the id-set comparison, and
  ``count`` is ``X-WP-Total`` of a one-record page (``status=any``: trashed records not counted).
- Customers have no modification filter (only ``orderby`` id/include/name/registered_date,
  ``email`` and ``role``): their walk reads every page and keeps the records whose
  ``date_modified_gmt`` is at or after the cursor minus the look-back (and at or before
  ``until``). A small business's store holds a few thousand accounts, 100 a request: a few dozen
  requests a night. A record whose date cannot be read is kept, for the loader to quarantine.
- ``_fields`` asks for the fields Puente declares (``settings.py``, minimum data), nested objects
  with dots (``billing.email``); each record is projected to the declaration before it lands all
  the same (WordPress cannot filter inside ``line_items``, and a plugin may answer in full).
- ``date_modified_gmt`` is ISO 8601 without offset, in UTC; cursors are written the same way.
- No rate limit in WooCommerce itself; the host's 429 and 503 (with ``Retry-After``) are retried
  by the shared HTTP client (``puente.sources.http``).
"""

from __future__ import annotations

import base64
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
from puente.sources.fields import wordpress_fields
from puente.sources.http import HttpClient, SourceError, header_int, json_list, next_link
from puente.sources.woocommerce.config import WooCommerceConfig
from puente.sources.woocommerce.settings import EXTRA_PARAMS, PAGE_LIMIT, RESOURCES, SYSTEM, WooResource

URL_SETTING = ("the store's URL (host of the Airflow connection puente_woocommerce, or PUENTE_WOOCOMMERCE_URL): "
               "https://{site}, the API is below /wp-json/wc/v3")


def basic_auth(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")


def gmt(moment: datetime) -> str:
    """A moment as WooCommerce writes ``*_gmt`` dates: ISO 8601 in UTC, without offset."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class WooCommerceConnector(HttpConnector):
    source = "woocommerce"
    objects = tuple(r.name for r in RESOURCES)

    def __init__(self, config: WooCommerceConfig, *, page_size: int = PAGE_LIMIT,
                 lookback: float = DEFAULT_LOOKBACK, **http_options: Any):
        self._page_size = page_size
        self._resources = {r.name: r for r in RESOURCES}
        self.lookback = lookback
        self.http = HttpClient(SYSTEM, config.url,
                               headers={"Authorization": basic_auth(config.consumer_key, config.consumer_secret)},
                               **http_options)

    def cursor_at(self, moment: datetime) -> str:
        return gmt(moment)

    def count(self, obj: str) -> int:
        self._resource(obj)
        response = self.http.request("GET", obj, obj=obj, params={"per_page": 1, "_fields": "id", **EXTRA_PARAMS[obj]})
        total = header_int(response, "X-WP-Total")
        if total is None:
            raise SourceError(SYSTEM, obj, f"GET {obj}", "no X-WP-Total header in the answer",
                              f"Check {URL_SETTING}")
        return total

    def list_ids(self, obj: str) -> set[str]:
        ids: set[str] = set()
        params = {"per_page": PAGE_LIMIT, "orderby": "id", "order": "asc", "_fields": "id", **EXTRA_PARAMS[obj]}
        for response in self._pages(obj, params):
            ids.update(i for i in (text_id(get(r, "id")) for r in self._results(response, obj)) if i)
        return ids

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]:
        resource = self._resource(obj)
        since = parse_timestamp(cursor) - timedelta(seconds=self.lookback) if cursor else None
        upto = parse_timestamp(until) if until else None

        def listing(status: dict[str, str]) -> Iterator[tuple[int | None, list[Record]]]:
            params: dict[str, Any] = {"per_page": self._page_size, "orderby": "id", "order": "asc", **status,
                                      "_fields": ",".join(wordpress_fields(resource.landed_fields))}
            if resource.modified_filter:
                params["dates_are_gmt"] = "true"
                if since:
                    params["modified_after"] = gmt(since)
                if upto:
                    params["modified_before"] = gmt(upto)
            for response in self._pages(obj, params):
                records = [_record(resource, r) for r in self._results(response, obj)]
                if not resource.modified_filter:
                    records = [r for r in records if _changed_within(r, since, upto)]
                yield header_int(response, "X-WP-Total"), records

        passes = [dict(EXTRA_PARAMS[obj])] + ([{"status": "trash"}] if resource.trash else [])
        yield from offset_walk(SYSTEM, obj, cursor, [listing(status) for status in passes])

    def _pages(self, obj: str, params: dict[str, Any]) -> Iterator[httpx.Response]:
        """Every page of one listing: the ``Link`` next URL as given, else ``X-WP-TotalPages``."""
        url: str | None = obj
        query: dict[str, Any] | None = params
        page = 1
        while url is not None:
            response = self.http.request("GET", url, obj=obj, params=query)
            yield response
            link = next_link(response.headers.get("Link"))
            total_pages = header_int(response, "X-WP-TotalPages")
            if link is not None:
                url, query = self._follow(link, obj), None
            elif total_pages is not None and page < total_pages:
                url, query = obj, {**params, "page": page + 1}
            else:
                url = None
            page += 1

    def _follow(self, url: str, obj: str) -> str:
        """The next-page URL, refusing one on another scheme, host or port (the key would travel there)."""
        return self.http.follow(url, obj, f"GET {obj}",
                                f"Check {URL_SETTING}; a WordPress whose 'Site Address' (Settings > General) is not "
                                f"the address Puente uses writes its links to the other one")

    def _results(self, response: httpx.Response, obj: str) -> list[Any]:
        return json_list(response, SYSTEM, obj, f"Check {URL_SETTING}")

    def _resource(self, obj: str) -> WooResource:
        try:
            return self._resources[obj]
        except KeyError:
            raise ValueError(f"woocommerce has no object {obj!r}; known: {list(self.objects)}") from None



def _changed_within(record: Record, since: datetime | None, upto: datetime | None) -> bool:
    """Whether a record changed in the window; a record whose date cannot be read is kept (the
    loader quarantines it with the reason)."""
    try:
        at = parse_timestamp(record.updated_at)
    except ValueError:
        return True
    return (since is None or at >= since) and (upto is None or at <= upto)


def _record(resource: WooResource, result: Any) -> Record:
    return Record(payload=resource.landed(result), source_id=text_id(get(result, resource.key)),
                  updated_at=get(result, resource.cursor),
                  deleted=resource.trash and get(result, "status") == "trash")
