"""Mercado Libre orders, read through the orders search by seller (``settings.py`` cites the docs).

- ``GET /orders/search?seller=<user id>&order.date_last_updated.from=<cursor minus lookback>
  &sort=date_asc&offset=…&limit=…`` (``order.date_last_updated.to`` for a backfill's upper
  bound), with the access token of ``auth.py`` as a Bearer header. An answer 401 (the access
  token expired mid-run, or was revoked) refreshes it once and repeats the request.
- The search sorts by the sale's creation, not by the filtered ``date_last_updated``: an order
  that changes while the walk pages stays where it is (and a new sale is appended at the end),
  so offsets are stable, but the cursor (the greatest ``date_last_updated`` read) can only be
  stored with the walk's last page (``offset_walk``); a crash mid-walk reruns it from the
  stored cursor.
- The offset cap: a search may not page past ``OFFSET_CAP``. Before paging, each window's
  ``paging.total`` is read with a one-order search; a window that holds more than the cap is
  split in two halves of time, again and again, and the halves are walked one after another.
- Each order is completed with what the search does not carry: the document the buyer gave for
  the invoice (``GET /orders/{id}/billing_info``, a 404 when the buyer gave none) as
  ``billing_info: {doc_type, doc_number}``, and its shipment (``GET /shipments/{id}``) as
  ``shipment: {status, substatus, last_updated, date_shipped, date_delivered, shipping_cost,
  receiver_address, destination_type, receiver_city, receiver_state}`` (the destination's
  street line and ``type``), and, for an order of a cart (``pack_id`` not null), its pack
  (``GET /packs/{pack_id}``, asked once per pack and walk: a cart's orders come together) as
  ``pack: {status, order_ids}``, the cart's orders as Mercado Libre lists them, so that the
  activation can wait for all of them (a 404: ``pack`` null). The order is then projected to the declared fields (minimum data):
  the buyer's names, nickname and document and the door the sale went to land, nothing else of
  theirs (not the receiver's name, nor the phone, which the API masks).
- A record without an id or with an unreadable ``date_last_updated`` lands in quarantine
  (``puente.load``); it is not completed (there is no id to ask about).
- Orders are never deleted (a cancelled sale keeps its id), so ``list_ids`` is None; ``count``
  is ``paging.total`` of a one-order search over the sales updated in the ``SEARCH_DAYS`` before
  the newest update the walk saw (or its cursor), as raw's side counts them
  (``settings.py``); before any walk, over everything the search serves.
- Retries (429 with Mercado Libre's ``too_many_requests`` error, 5xx, timeouts) are the shared
  HTTP client's (``puente.sources.http``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from puente.sources.base import (
    DEFAULT_LOOKBACK,
    HttpConnector,
    Page,
    Record,
    get,
    latest,
    offset_walk,
    parse_timestamp,
    text_id,
)
from puente.sources.http import HttpClient, SourceError
from puente.sources.mercadolibre.auth import MeliAuth, TokenStore, WarehouseTokenStore
from puente.sources.mercadolibre.config import MercadoLibreConfig
from puente.sources.mercadolibre.settings import (
    EARLIEST,
    OBJECTS,
    OFFSET_CAP,
    PACK_PATH,
    PAGE_LIMIT,
    SEARCH_DAYS,
    SEARCH_PATH,
    SYSTEM,
    MeliObject,
)

URL_SETTING = ("the API's base URL (host of the Airflow connection puente_mercadolibre, or PUENTE_MERCADOLIBRE_URL; "
               "https://api.mercadolibre.com by default)")
Window = tuple[datetime | None, datetime | None]


def query_date(moment: datetime) -> str:
    """A moment as the search's date filters take it: milliseconds and the UTC offset ``-00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "-00:00")


class MercadoLibreConnector(HttpConnector):
    source = "mercadolibre"
    objects = tuple(o.name for o in OBJECTS)

    def __init__(self, config: MercadoLibreConfig, *, page_size: int = PAGE_LIMIT, offset_cap: int = OFFSET_CAP,
                 lookback: float = DEFAULT_LOOKBACK, token_store: TokenStore | None = None,
                 warehouse_url: str | None = None, **http_options: Any):
        if not 1 <= page_size <= min(PAGE_LIMIT, offset_cap):
            raise ValueError(f"page_size must be between 1 and {min(PAGE_LIMIT, offset_cap)}, got {page_size}")
        self._page_size, self._offset_cap = page_size, offset_cap
        self._objects = {o.name: o for o in OBJECTS}
        self.lookback = lookback
        self.http = HttpClient(SYSTEM, config.url, headers={"Accept": "application/json"}, **http_options)
        token_store = WarehouseTokenStore(warehouse_url) if token_store is None else token_store
        self.auth = MeliAuth(self.http, config.client_id, config.client_secret, config.refresh_token, token_store)
        self._seller = config.seller_id
        self._anchor: datetime | None = None  # the newest update the walk saw (reconciliation's window)
        self._packs: dict[str, dict[str, Any] | None] = {}  # pack id -> what lands of it, for one walk

    def close(self) -> None:
        super().close()
        closer = getattr(self.auth.store, "close", None)
        if closer is not None:
            closer()

    @property
    def seller(self) -> str:
        seller = self._seller or self.auth.user_id
        if not seller:
            raise SourceError(SYSTEM, "orders", "POST /oauth/token", "no seller id: the token answer named no user_id",
                              "Set seller_id in the extra of the connection puente_mercadolibre")
        return seller

    def cursor_at(self, moment: datetime) -> str:
        return moment.astimezone(UTC).isoformat(timespec="milliseconds")

    def count(self, obj: str) -> int:
        self._object(obj)
        return self._total((self._anchor - timedelta(days=SEARCH_DAYS) if self._anchor else None, None))

    def list_ids(self, obj: str) -> None:
        self._object(obj)
        return None  # orders are never deleted

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]:
        spec = self._object(obj)
        start = parse_timestamp(cursor) - timedelta(seconds=self.lookback) if cursor else None
        end = parse_timestamp(until) if until else None
        windows = self._windows((start, end))
        self._packs = {}
        self._anchor = parse_timestamp(cursor) if cursor else None

        def listing(window: Window) -> Iterator[tuple[int | None, list[Record]]]:
            offset = 0
            while True:
                body = self._search(window, offset, self._page_size)
                results = _results(body)
                total = get(body, "paging", "total")
                records = [self._record(spec, r) for r in results]
                newest = latest(r for r in records if r.source_id is not None)  # what raw can hold
                if newest is not None and (self._anchor is None or
                                           parse_timestamp(newest.updated_at) > self._anchor):
                    self._anchor = parse_timestamp(newest.updated_at)
                yield (total if isinstance(total, int) else None, records)
                offset += len(results)
                if not results or not isinstance(total, int) or offset >= total:
                    return

        yield from offset_walk(SYSTEM, obj, cursor, [listing(w) for w in windows])

    # ------------------------------------------------------------------ the windows

    def _windows(self, window: Window) -> list[Window]:
        """``window`` as consecutive windows of time, each holding no more orders than the offset cap."""
        if self._total(window) + self._page_size <= self._offset_cap:
            return [window]
        low = window[0] or parse_timestamp(EARLIEST)
        high = window[1] or self.http.source_time or datetime.now(UTC)
        if high - low <= timedelta(milliseconds=2):
            raise SourceError(SYSTEM, "orders", f"GET {SEARCH_PATH}", f"more than {self._offset_cap} orders updated "
                              f"at {query_date(low)}, more than one search can page through",
                              "The window cannot be narrowed further; report this to Puente's maintainers "
                              "with the date above")
        middle = low + (high - low) / 2
        return [*self._windows((window[0], middle - timedelta(milliseconds=1))), *self._windows((middle, window[1]))]

    def _total(self, window: Window) -> int:
        total = get(self._search(window, 0, 1), "paging", "total")
        if not isinstance(total, int):
            raise SourceError(SYSTEM, "orders", f"GET {SEARCH_PATH}", "no paging.total in the answer",
                              f"Check {URL_SETTING}")
        return total

    # ------------------------------------------------------------------ requests

    def _search(self, window: Window, offset: int, limit: int) -> Any:
        params: dict[str, Any] = {"seller": self.seller, "sort": "date_asc", "offset": offset, "limit": limit}
        if window[0] is not None:
            params["order.date_last_updated.from"] = query_date(window[0])
        if window[1] is not None:
            params["order.date_last_updated.to"] = query_date(window[1])
        return self._get(SEARCH_PATH, "orders", params)

    def _get(self, path: str, obj: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             missing_ok: bool = False) -> Any:
        """One GET with the access token; a 401 refreshes it once and repeats the request; a 404 is
        None when ``missing_ok``."""
        for attempt in (1, 2):
            header = self.auth.header()
            response = self.http.request("GET", path, obj=obj, params=params, headers={**header, **(headers or {})},
                                         passthrough=(401, 404))
            if response.status_code == 401 and attempt == 1:
                self.auth.refresh(header["Authorization"].removeprefix("Bearer "))
                continue
            if response.status_code == 401:
                raise SourceError(SYSTEM, obj, f"GET {path}", f"HTTP 401 with a fresh access token: {response.text[:200]!r}",
                                  "The seller's authorisation does not reach these sales: check seller_id and that "
                                  "the seller authorised Puente's application", 401)
            if response.status_code == 404:
                if missing_ok:
                    return None
                raise SourceError(SYSTEM, obj, f"GET {path}", f"HTTP 404: {response.text[:200]!r}",
                                  f"Check {URL_SETTING}", 404)
            try:
                return response.json()
            except ValueError:
                raise SourceError(SYSTEM, obj, f"GET {path}", f"HTTP {response.status_code} that is not JSON: "
                                  f"{response.text[:200]!r}", f"Check {URL_SETTING}") from None
        raise AssertionError("unreachable")

    def _record(self, spec: MeliObject, order: Any) -> Record:
        oid = text_id(get(order, "id"))
        if oid is not None and isinstance(order, dict):
            order = {**order, "billing_info": self._billing(oid), "shipment": self._shipment(get(order, "shipping", "id")),
                     "pack": self._pack(get(order, "pack_id"))}
        return Record(payload=spec.landed(order), source_id=oid, updated_at=get(order, spec.cursor))

    def _billing(self, oid: str) -> dict[str, Any] | None:
        return billing_info(self._get(f"/orders/{oid}/billing_info", "orders", headers={"x-version": "2"},
                                      missing_ok=True))

    def _shipment(self, shipment_id: Any) -> dict[str, Any] | None:
        sid = text_id(shipment_id)
        if sid is None:
            return None
        return shipment(self._get(f"/shipments/{sid}", "orders", headers={"x-format-new": "true"}, missing_ok=True))

    def _pack(self, pack_id: Any) -> dict[str, Any] | None:
        pid = text_id(pack_id)
        if pid is None:
            return None
        if pid not in self._packs:
            self._packs[pid] = pack(self._get(PACK_PATH.format(pack_id=pid), "orders", missing_ok=True))
        return self._packs[pid]

    def _object(self, obj: str) -> MeliObject:
        try:
            return self._objects[obj]
        except KeyError:
            raise ValueError(f"mercadolibre has no object {obj!r}; known: {list(self.objects)}") from None


def billing_info(body: Any) -> dict[str, Any] | None:
    """What lands of an order's billing data (``GET /orders/{id}/billing_info``; None: the buyer gave none)."""
    ident = get(body, "buyer", "billing_info", "identification")
    if not isinstance(ident, dict):
        return None
    return {"doc_type": ident.get("type"), "doc_number": ident.get("number")}


def shipment(body: Any) -> dict[str, Any] | None:
    """What lands of an order's shipment (``GET /shipments/{id}``)."""
    if not isinstance(body, dict):
        return None
    history = body.get("status_history") if isinstance(body.get("status_history"), dict) else {}
    return {"status": body.get("status"), "substatus": body.get("substatus"), "last_updated": body.get("last_updated"),
            "date_shipped": history.get("date_shipped"), "date_delivered": history.get("date_delivered"),
            "shipping_cost": get(body, "lead_time", "cost"),
            "receiver_address": get(body, "destination", "shipping_address", "address_line"),
            "destination_type": get(body, "destination", "type"),
            "receiver_city": get(body, "destination", "shipping_address", "city", "name"),
            "receiver_state": get(body, "destination", "shipping_address", "state", "name")}


def pack(body: Any) -> dict[str, Any] | None:
    """What lands of a cart's pack (``GET /packs/{id}``): its status and its orders' ids."""
    if not isinstance(body, dict):
        return None
    orders = body.get("orders") if isinstance(body.get("orders"), list) else []
    return {"status": body.get("status"), "order_ids": [text_id(get(o, "id")) for o in orders]}


def _results(body: Any) -> list[Any]:
    results = get(body, "results")
    if not isinstance(results, list):
        raise SourceError(SYSTEM, "orders", f"GET {SEARCH_PATH}", f"an answer without a results list: "
                          f"{str(body)[:200]!r}", f"Check {URL_SETTING}")
    return results
