"""Shopify Admin REST API (version in the base URL, e.g. ``.../admin/api/2025-01``).

What it relies on, per Shopify's REST Admin docs:

- ``X-Shopify-Access-Token`` authenticates an Admin API access token.
- ``GET /{resource}.json?updated_at_min=<cursor>&limit=250`` (``status=any`` on orders, whose
  default is only open orders) returns the first page; further pages are the URL in the
  ``Link: <...page_info=...>; rel="next"`` response header, used exactly as given: a
  ``page_info`` request may carry only ``limit`` (and ``fields``), the filters travel inside
  ``page_info``. No ``Link`` next means the last page.
- ``fields=<comma list>`` asks for the top-level fields Puente declares (``settings.py``, minimum
  data); Shopify keeps it in the ``Link`` URLs. Each record is projected to the declaration before
  it lands all the same: the nested keys of ``line_items`` or ``default_address`` cannot be asked
  for, and an endpoint may ignore ``fields``.
- The result is not ordered by ``updated_at``, so the cursor (the greatest ``updated_at``
  seen) is stored only with the last page: a crash mid-walk reruns the walk from the previous
  cursor, and the upsert makes the overlap harmless.
- Rate limit: a leaky bucket (40 requests, leaking 2 per second on standard plans), reported in
  ``X-Shopify-Shop-Api-Call-Limit: 32/40``. Near the top of the bucket the connector pauses long
  enough for it to drain back below 80 %; a 429 carries ``Retry-After`` (the HTTP layer waits).
- Products with ``status`` ``archived`` land with ``_deleted`` (contracts: deleted or archived).
- The walk asks ``updated_at_min`` = cursor minus ``lookback`` (a record changed while an earlier
  walk paged past it is stamped before that walk's newest record), and ``updated_at_max`` for a
  backfill's upper bound.
- Deletes: a deleted customer, order or product simply disappears. ``list_ids`` walks
  ``{resource}.json?fields=id`` (250 ids per request) for the id-set comparison; ``count`` is
  ``{resource}/count.json`` (orders with ``status=any``), which counts archived products too.
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
    latest,
    parse_timestamp,
    text_id,
)
from puente.sources.fields import top_level
from puente.sources.http import HttpClient, SourceError, next_link
from puente.sources.shopify.config import ShopifyConfig
from puente.sources.shopify.settings import (
    API_VERSION,
    EXTRA_PARAMS,
    HIGH_WATER,
    LEAK_PER_SECOND,
    PAGE_LIMIT,
    RESOURCES,
    SYSTEM,
    ShopifyResource,
)

URL_SETTING = "the base URL (host of the Airflow connection puente_shopify, or PUENTE_SHOPIFY_URL)"

def throttle_seconds(call_limit: str | None) -> float:
    """How long to pause after a response whose bucket use is ``call_limit`` (``"32/40"``)."""
    try:
        used, size = (int(n) for n in (call_limit or "").split("/"))
    except ValueError:
        return 0.0
    return max(0.0, (used - HIGH_WATER * size) / LEAK_PER_SECOND)


class ShopifyConnector(HttpConnector):
    source = "shopify"
    objects = tuple(r.name for r in RESOURCES)

    def __init__(self, config: ShopifyConfig, *, page_size: int = PAGE_LIMIT, lookback: float = DEFAULT_LOOKBACK,
                 **http_options: Any):
        self._page_size = page_size
        self._resources = {r.name: r for r in RESOURCES}
        self.lookback = lookback
        self.http = HttpClient(SYSTEM, config.url, headers={"X-Shopify-Access-Token": config.token},
                               **http_options)

    def cursor_at(self, moment: datetime) -> str:
        return parse_timestamp(moment.isoformat()).isoformat(timespec="seconds")

    def count(self, obj: str) -> int:
        response = self._get(f"{obj}/count.json", obj, dict(EXTRA_PARAMS[obj]))
        try:
            return int(response.json()["count"])
        except (ValueError, KeyError, TypeError):
            raise SourceError(SYSTEM, obj, f"GET {obj}/count.json", f"no count in {response.text[:200]!r}",
                              f"Check {URL_SETTING}: it must end with /admin/api/<version>") from None

    def list_ids(self, obj: str) -> set[str]:
        ids: set[str] = set()
        url: str | None = f"{obj}.json"
        params: dict[str, Any] | None = {"limit": PAGE_LIMIT, "fields": "id", **EXTRA_PARAMS[obj]}
        while url is not None:
            response = self._get(url, obj, params)
            ids.update(i for i in (text_id(get(r, "id")) for r in self._results(response, obj)) if i)
            url, params = self._follow(next_link(response.headers.get("Link")), obj), None
        return ids

    def _get(self, url: str, obj: str, params: dict[str, Any] | None) -> httpx.Response:
        response = self.http.request("GET", url, obj=obj, params=params)
        pause = throttle_seconds(response.headers.get("X-Shopify-Shop-Api-Call-Limit"))
        if pause:
            self.http.sleep(pause)
        return response

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]:
        url: str | None = f"{obj}.json"
        params: dict[str, Any] | None = {"limit": self._page_size, **EXTRA_PARAMS[obj],
                                         "fields": ",".join(top_level(self._resources[obj].landed_fields))}
        if cursor:
            start = parse_timestamp(cursor) - timedelta(seconds=self.lookback)
            params["updated_at_min"] = start.astimezone(UTC).isoformat(timespec="seconds")
        if until:
            params["updated_at_max"] = until
        newest: Record | None = Record(None, None, cursor) if cursor else None
        while url is not None:
            response = self._get(url, obj, params)
            records = [_record(self._resources[obj], r) for r in self._results(response, obj)]
            newest = latest([*records, *([newest] if newest else [])])
            url, params = self._follow(next_link(response.headers.get("Link")), obj), None
            yield Page(records, newest.updated_at if url is None and newest else None)

    def _follow(self, url: str | None, obj: str) -> str | None:
        """The next-page URL, refusing one on another scheme, host or port (the token must not
        travel there, nor in clear)."""
        return self.http.follow(url, obj, f"GET {obj}.json",
                                f"Check {URL_SETTING}: it must be https://{{shop}}.myshopify.com/admin/api/{API_VERSION}")

    def _results(self, response: httpx.Response, obj: str) -> list[Any]:
        try:
            results = response.json().get(obj)
        except (ValueError, AttributeError):
            results = None
        if not isinstance(results, list):
            raise SourceError(SYSTEM, obj, f"GET {response.request.url.path}",
                              f"HTTP {response.status_code} without a '{obj}' list: {response.text[:200]!r}",
                              f"Check {URL_SETTING}: it must end with /admin/api/<version>")
        return results


def _record(resource: ShopifyResource, result: Any) -> Record:
    return Record(payload=resource.landed(result), source_id=text_id(get(result, resource.key)),
                  updated_at=get(result, resource.cursor),
                  deleted=resource.name == "products" and get(result, "status") == "archived")
