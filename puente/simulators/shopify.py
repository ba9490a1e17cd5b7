"""Shopify's Admin REST API, served from the simulated business at the connector's version.

What it reproduces, per Shopify's REST Admin reference (Customer, Order, Product, Location,
InventoryLevel, AccessScope), its versioning, pagination and rate-limit guides (see
/work/notes/activation-apis.md, part 2):

- Versions: ``/admin/api/{version}/…`` answers at the stable versions Shopify supports on the
  simulated date (2026-01 … 2026-10, and the connector's ``API_VERSION``); a request to an older,
  retired version falls forward to the oldest supported one with 200 OK, as Shopify does; any
  other version path is a 404. Every versioned answer says which version served it in
  ``X-Shopify-API-Version``.
- ``GET …/{customers,orders,products}.json``, their ``/count.json`` and ``/{id}.json``. Filters
  ``ids``, ``since_id``, ``created_at_min/max``, ``updated_at_min/max``; on orders ``status``
  (``open`` by default, ``closed``, ``cancelled``, ``any``), ``financial_status``,
  ``fulfillment_status``; on products ``status``. ``fields`` selects top-level fields; ``limit``
  is 50 by default and at most 250. Results are ordered by id. Without the ``read_all_orders``
  scope, orders created more than 60 days ago are simply not there (lists, counts, ``/{id}``).
- ``GET …/locations.json``, ``/locations/count.json``, ``/locations/{id}.json`` (the shop's one
  active location) and ``/locations/{id}/inventory_levels.json``.
- ``GET …/inventory_levels.json``: ``inventory_item_ids`` and/or ``location_ids`` (at least one,
  else 422), ``updated_at_min``, ``limit`` ≤ 250, Link paging; a level is ``{inventory_item_id,
  location_id, available, updated_at, admin_graphql_api_id}``, ``available`` null for an item
  whose quantity is not tracked.
- ``POST …/inventory_levels/set.json`` ``{location_id, inventory_item_id, available}``: absolute
  (sending it twice does no harm); 400 when a parameter is missing, 404 for an unknown item or
  location, 422 ``{"errors": ["Inventory item does not have inventory tracking enabled"]}`` for an
  untracked item. It sets the variant's ``inventory_quantity`` and the product's ``updated_at``
  (the simulated now), so the products extract sees the change. ``adjust.json`` (relative, not
  idempotent) is not simulated.
- ``GET /admin/oauth/access_scopes.json`` (no version): the token's scopes. A call needing a scope
  the token lacks answers 403 ``{"errors": "[API] This action requires merchant approval for
  <scope> scope."}``.
- Cursor pagination: the ``Link`` header carries ``<…?limit=…&page_info=…>; rel="next"`` (and
  ``rel="previous"`` after the first page). A request with ``page_info`` may only add ``limit``
  and ``fields``; any other parameter is a 400, as Shopify answers. The cursor keeps the first
  request's filters.
- ``POST …/graphql.json``: the GraphQL Admin API's ``inventorySetQuantities`` (up to 250 quantities
  a call, cost-based throttling, ``userErrors``), over the same inventory state as ``set.json``;
  see ``shopify_graphql``. It has its own cost bucket and does not count against the REST one.
- Authentication by ``X-Shopify-Access-Token``; a missing or wrong token gets Shopify's 401 body.
- The leaky bucket: 40 requests, leaking 2 per second; every answer (writes too) carries
  ``X-Shopify-Shop-Api-Call-Limit: n/40``; a full bucket answers 429 with ``Retry-After`` and
  Shopify's error body.
- Deletions as Shopify does them: a deleted record (``Business.delete``) is simply gone from
  lists, counts and ``/{id}.json`` (404). Archived products keep ``status: archived``.
- Injected faults (``Faults``): per request 429/5xx, hangs and dropped connections; per listing:
  malformed record versions, changes while paging and late updates. JSON answers escape
  non-ASCII characters, so a malformed string can reach the client.
- Datetimes in the shop's zone (``-05:00``); filter values with an offset are honoured, and
  values without one are read in the shop's zone, as Shopify does.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
import secrets
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from puente.simulators.business import BOGOTA, Business
from puente.simulators.business.shopify import LOCATION_ID
from puente.simulators.limits import CostBucket, FaultInjector, LeakyBucket, Limits
from puente.simulators.shopify_graphql import ShopifyGraphQL
from puente.simulators.systems import Credential, Simulated
from puente.simulators.wire import WireJSON, local_path, request_fault, service_app
from puente.sources.shopify.settings import API_VERSION

# Stable versions Shopify supports on the simulated date (each at least 12 months), and the connector's.
SUPPORTED_VERSIONS = tuple(sorted({"2026-01", "2026-04", "2026-07", "2026-10", API_VERSION}))
_VERSION = re.compile(r"^\d{4}-(01|04|07|10)$")
# Every scope Puente needs: the default grant of the simulated custom app.
SCOPES = ("read_customers", "read_orders", "read_all_orders", "read_products", "read_inventory", "write_inventory",
          "read_locations")
ORDERS_WINDOW_DAYS = 60  # without read_all_orders, only this many days of orders are served
RESOURCES = {"customers": "customer", "orders": "order", "products": "product"}
READ_SCOPE = {"customers": "read_customers", "orders": "read_orders", "products": "read_products",
              "locations": "read_locations", "inventory_levels": "read_inventory"}
LEVEL_FILTERS = ("inventory_item_ids", "location_ids", "updated_at_min")
DEFAULT_LIMIT, MAX_LIMIT = 50, 250
PAGE_INFO_COMPANIONS = {"limit", "fields", "page_info"}
COMMON_FILTERS = ("ids", "since_id", "created_at_min", "created_at_max", "updated_at_min", "updated_at_max")
EXTRA_FILTERS = {"orders": ("status", "financial_status", "fulfillment_status"), "products": ("status",),
                 "customers": ()}
KEY = {"inventory_levels": "inventory_item_id"}  # what a listing is ordered and paged by (else "id")
ORDER_STATUSES = {"open", "closed", "cancelled", "any"}
PAGINATION_DOCS = "https://shopify.dev/api/usage/pagination-rest"


class ShopifyError(Exception):
    """An error answer in Shopify's shape: ``{"errors": …}``."""

    def __init__(self, status: int, errors: Any):
        super().__init__(str(errors))
        self.status, self.errors = status, errors


def _parse_time(name: str, value: str) -> datetime:
    # An unencoded "+" in a query string arrives as a space: "…T10:00:00 05:00" means "+05:00".
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ShopifyError(400, {name: f"{name} is not a valid ISO 8601 date: {value!r}"}) from None
    return parsed.replace(tzinfo=BOGOTA) if parsed.tzinfo is None else parsed


def _ids(value: str) -> set[int]:
    try:
        return {int(v) for v in value.split(",") if v.strip()}
    except ValueError:
        raise ShopifyError(400, {"ids": f"ids must be comma-separated integers: {value!r}"}) from None


def _predicate(resource: str, filters: dict[str, str]) -> Callable[[dict], bool]:
    """The filters of one list request as a test on records."""
    tests: list[Callable[[dict], bool]] = []
    for name, value in filters.items():
        if name == "ids":
            wanted = _ids(value)
            tests.append(lambda r, w=wanted: r["id"] in w)
        elif name == "since_id":
            since = next(iter(_ids(value)), 0)
            tests.append(lambda r, s=since: r["id"] > s)
        elif name.endswith(("_min", "_max")):
            field, bound = name[:-4], _parse_time(name, value)
            if name.endswith("_min"):
                tests.append(lambda r, f=field, b=bound: datetime.fromisoformat(r[f]) >= b)
            else:
                tests.append(lambda r, f=field, b=bound: datetime.fromisoformat(r[f]) <= b)
        elif name == "status" and resource == "orders":
            if value not in ORDER_STATUSES:
                raise ShopifyError(400, {"status": f"status must be one of {sorted(ORDER_STATUSES)}"})
            tests.append({
                "open": lambda r: r["closed_at"] is None and r["cancelled_at"] is None,
                "closed": lambda r: r["closed_at"] is not None,
                "cancelled": lambda r: r["cancelled_at"] is not None,
                "any": lambda r: True}[value])
        elif name == "financial_status" and value != "any":
            tests.append(lambda r, v=value: r["financial_status"] == v)
        elif name == "fulfillment_status" and value != "any":
            wanted_status = None if value in ("unshipped", "unfulfilled") else value
            tests.append(lambda r, v=wanted_status: r["fulfillment_status"] == v)
        elif name == "status":
            tests.append(lambda r, v=value: r["status"] in v.split(","))
    return lambda r: all(t(r) for t in tests)


def served_version(requested: str) -> str | None:
    """The version that answers a request for ``requested``: itself when supported, the oldest
    supported one for a retired version (Shopify falls forward), None when there is no such version."""
    if requested in SUPPORTED_VERSIONS:
        return requested
    if _VERSION.match(requested) and requested < SUPPORTED_VERSIONS[0]:
        return SUPPORTED_VERSIONS[0]
    return None


def needed_scope(method: str, path: str) -> str | None:
    """The access scope a request needs (None: no scope, e.g. ``access_scopes.json``)."""
    match = re.match(r"^/admin/api/[^/]+/([a-z_]+)", path)
    if not match:
        return None
    resource = match.group(1)
    if resource == "inventory_levels" and method == "POST":
        return "write_inventory"
    if resource == "locations" and path.endswith("/inventory_levels.json"):
        return "read_inventory"
    return READ_SCOPE.get(resource)


def _encode(cursor: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(page_info: str, resource: str) -> dict:
    try:
        cursor = json.loads(base64.urlsafe_b64decode(page_info + "=" * (-len(page_info) % 4)))
    except (binascii.Error, ValueError):
        cursor = None
    if not isinstance(cursor, dict) or cursor.get("resource") != resource:
        raise ShopifyError(400, {"page_info": "page_info is invalid: use the value from the Link header as is"})
    return cursor


class Shop:
    """One shop's REST resources over the simulated business, as a token with ``scopes`` sees them."""

    def __init__(self, business: Business, scopes: Collection[str] = SCOPES):
        self.business = business
        self.all_orders = "read_all_orders" in scopes

    def list(self, resource: str, params: dict[str, str]) -> tuple[list[dict], dict | None, dict | None, int]:
        """One page: records, the cursors for the next and previous pages, and the limit used."""
        limit = self._limit(params)
        if "page_info" in params:
            extra = sorted(set(params) - PAGE_INFO_COMPANIONS)
            if extra:
                raise ShopifyError(400, {extra[0]: f"{extra[0]} cannot be passed when page_info is present. "
                                                   f"See {PAGINATION_DOCS} for more information."})
            cursor = _decode(params["page_info"], resource)
            filters, anchor, direction = cursor["filters"], cursor["anchor"], cursor["direction"]
        else:
            filters = self._filters(resource, params)
            anchor, direction = 0, "next"
        matches = self.matching(resource, filters)
        key = KEY.get(resource, "id")

        def record_key(record: dict) -> int:
            return record[key]
        if direction == "next":
            start = bisect.bisect_right(matches, anchor, key=record_key)
            page = matches[start:start + limit]
        else:
            end = bisect.bisect_left(matches, anchor, key=record_key)
            page = matches[max(0, end - limit):end]
        if not page:
            return [], None, None, limit
        first, last = page[0][key], page[-1][key]
        has_next = matches[-1][key] > last
        has_prev = "page_info" in params and matches[0][key] < first
        next_cursor = {"resource": resource, "filters": filters, "anchor": last, "direction": "next"}
        prev_cursor = {"resource": resource, "filters": filters, "anchor": first, "direction": "previous"}
        return page, next_cursor if has_next else None, prev_cursor if has_prev else None, limit

    def count(self, resource: str, params: dict[str, str]) -> int:
        return len(self.matching(resource, self._filters(resource, params)))

    def matching(self, resource: str, filters: dict[str, str]) -> list[dict]:
        """The records passing ``filters``, by id; memoised between writes, so paging scans once."""
        if resource == "inventory_levels":
            return self._levels(filters)

        def scan() -> list[dict]:
            test = _predicate(resource, filters)
            return [r for r in self.business.live("shopify", resource) if test(r) and self.visible(resource, r)]
        return self.business.memoised(("shopify", resource, self.all_orders, tuple(sorted(filters.items()))), scan)

    def visible(self, resource: str, record: dict) -> bool:
        """Without ``read_all_orders`` Shopify serves only the last 60 days of orders."""
        if resource != "orders" or self.all_orders:
            return True
        return datetime.fromisoformat(record["created_at"]) >= self.business.now() - timedelta(days=ORDERS_WINDOW_DAYS)

    def _levels(self, filters: dict[str, str]) -> list[dict]:
        """The inventory levels asked for, by inventory item id (the shop has one location)."""
        shop = self.business.shop
        items = _ids(filters["inventory_item_ids"]) if "inventory_item_ids" in filters else set(shop.inventory_items)
        if "location_ids" in filters and LOCATION_ID not in _ids(filters["location_ids"]):
            return []
        since = _parse_time("updated_at_min", filters["updated_at_min"]) if "updated_at_min" in filters else None
        levels = [shop.level(i) for i in sorted(items) if i in shop.inventory_items]
        return [lv for lv in levels if since is None or datetime.fromisoformat(lv["updated_at"]) >= since]

    @staticmethod
    def _filters(resource: str, params: dict[str, str]) -> dict[str, str]:
        if resource == "inventory_levels":
            filters = {k: v for k, v in params.items() if k in LEVEL_FILTERS}
            if not ({"inventory_item_ids", "location_ids"} & set(filters)):
                raise ShopifyError(422, {"base": ["inventory_item_ids or location_ids must be given"]})
            return filters
        names = COMMON_FILTERS + EXTRA_FILTERS[resource]
        filters = {k: v for k, v in params.items() if k in names}
        if resource == "orders":
            filters.setdefault("status", "open")  # Shopify lists only open orders unless told otherwise
        return filters

    @staticmethod
    def _limit(params: dict[str, str]) -> int:
        raw = params.get("limit", str(DEFAULT_LIMIT))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise ShopifyError(400, {"limit": f"limit must be an integer between 1 and {MAX_LIMIT}"})
        return int(raw)

    def set_level(self, body: Any) -> dict:
        """``POST inventory_levels/set.json``: the item's available quantity at the location."""
        body = body if isinstance(body, dict) else {}
        for name in ("location_id", "inventory_item_id", "available"):
            value = body.get(name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ShopifyError(400, {name: "Required parameter missing or invalid"})
        shop = self.business.shop
        if body["location_id"] != LOCATION_ID or body["inventory_item_id"] not in shop.inventory_items:
            raise ShopifyError(404, "Not Found")
        if shop.level(body["inventory_item_id"])["available"] is None:
            raise ShopifyError(422, ["Inventory item does not have inventory tracking enabled"])
        self.business.shopify_set_level(body["inventory_item_id"], body["available"])
        return shop.level(body["inventory_item_id"])


def select_fields(record: dict, fields: str | None) -> dict:
    if not fields:
        return record
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    return {f: record[f] for f in wanted if f in record}


def create_shopify_app(business: Business, token: str, limits: Limits, faults: FaultInjector,
                       scopes: Collection[str] = SCOPES) -> FastAPI:
    """The Shopify endpoints, to mount under ``/shopify``; ``scopes`` are the token's access scopes."""
    shop = Shop(business, scopes)
    app = service_app("Simulated Shopify Admin REST API")
    buckets: dict[str, LeakyBucket] = {}
    cost_buckets: dict[str, CostBucket] = {}

    def bucket_for(key: str) -> LeakyBucket:
        return buckets.setdefault(key, LeakyBucket(limits.shopify_bucket_size, limits.shopify_leak_per_second,
                                                   limits.clock))

    def cost_bucket_for(key: str) -> CostBucket:
        return cost_buckets.setdefault(key, CostBucket(limits.shopify_graphql_points,
                                                       limits.shopify_graphql_restore_per_second, limits.clock))

    graphql = ShopifyGraphQL(business, scopes, cost_bucket_for)

    @app.exception_handler(ShopifyError)
    async def shopify_error(request: Request, exc: ShopifyError) -> JSONResponse:
        return JSONResponse({"errors": exc.errors}, status_code=exc.status)

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next):
        given = request.headers.get("x-shopify-access-token")
        if given != token:
            return JSONResponse(
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                status_code=401)
        path = local_path(request)
        version = None
        if path.startswith("/admin/api/"):
            version = served_version((path.split("/") + [""] * 4)[3])
            if version is None:
                return JSONResponse({"errors": "Not Found"}, status_code=404)
        bucket = bucket_for(given)
        headers = {"X-Shopify-Shop-Api-Call-Limit": ""}
        if version:
            headers["X-Shopify-API-Version"] = version
        fault = faults.draw(path)
        broken = await request_fault(fault, faults.hang_seconds)
        if broken is not None:
            return broken
        if path.endswith("/graphql.json"):  # cost-based limits of its own (shopify_graphql), no call-limit header
            headers.pop("X-Shopify-Shop-Api-Call-Limit")
            if fault == "5xx":
                return JSONResponse({"errors": "Service Unavailable"}, status_code=503, headers=headers)
            if fault == "429":
                return JSONResponse({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]},
                                    status_code=429, headers={**headers, "Retry-After": "1.0"})
            response = await call_next(request)
            response.headers.update(headers)
            return response
        decision = bucket.acquire() if fault is None else None
        headers["X-Shopify-Shop-Api-Call-Limit"] = f"{bucket.used}/{bucket.capacity}"
        if fault == "5xx":
            return JSONResponse({"errors": "Service Unavailable"}, status_code=503, headers=headers)
        if fault == "429" or (decision is not None and not decision.allowed):
            retry = decision.retry_after if decision is not None else 2.0
            return JSONResponse(
                {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                           "uninterrupted service."},
                status_code=429, headers={**headers, "Retry-After": f"{max(retry, 0.1):.1f}"})
        scope = needed_scope(request.method, path)
        if scope is not None and scope not in scopes:
            return JSONResponse({"errors": f"[API] This action requires merchant approval for {scope} scope."},
                                status_code=403, headers=headers)
        response = await call_next(request)
        response.headers.update(headers)
        return response

    def resource_of(name: str) -> str:
        if name not in RESOURCES:
            raise ShopifyError(404, "Not Found")
        return name

    def link_header(request: Request, nxt: dict | None, prev: dict | None, limit: int) -> str | None:
        parts = []
        fields = request.query_params.get("fields")
        for cursor, rel in ((prev, "previous"), (nxt, "next")):
            if cursor is not None:
                query = {"limit": str(limit), **({"fields": fields} if fields else {}), "page_info": _encode(cursor)}
                parts.append(f'<{request.url.replace(query="").include_query_params(**query)}>; rel="{rel}"')
        return ", ".join(parts) or None

    def levels_page(request: Request, params: dict[str, str]) -> Response:
        page, nxt, prev, limit = shop.list("inventory_levels", params)
        link = link_header(request, nxt, prev, limit)
        return WireJSON({"inventory_levels": page}, headers={"Link": link} if link else {})

    prefix = "/admin/api/{version}"

    @app.get("/admin/oauth/access_scopes.json")
    async def access_scopes() -> JSONResponse:
        return JSONResponse({"access_scopes": [{"handle": s} for s in scopes]})

    @app.get(prefix + "/locations.json")
    async def locations() -> JSONResponse:
        return JSONResponse({"locations": [business.shop.location]})

    @app.get(prefix + "/locations/count.json")
    async def locations_count() -> JSONResponse:
        return JSONResponse({"count": 1})

    @app.get(prefix + "/locations/{location_id}.json")
    async def location(location_id: str) -> JSONResponse:
        if location_id != str(LOCATION_ID):
            raise ShopifyError(404, "Not Found")
        return JSONResponse({"location": business.shop.location})

    @app.get(prefix + "/locations/{location_id}/inventory_levels.json")
    async def location_levels(location_id: str, request: Request) -> Response:
        if location_id != str(LOCATION_ID):
            raise ShopifyError(404, "Not Found")
        params = dict(request.query_params)
        if "page_info" not in params:
            params["location_ids"] = location_id
        return levels_page(request, params)

    @app.get(prefix + "/inventory_levels.json")
    async def inventory_levels(request: Request) -> Response:
        return levels_page(request, dict(request.query_params))

    @app.post(prefix + "/inventory_levels/set.json")
    async def set_inventory_level(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise ShopifyError(400, {"error": "822: unexpected token: the body is not JSON"}) from None
        return JSONResponse({"inventory_level": shop.set_level(body)})

    @app.post(prefix + "/graphql.json")
    async def graphql_endpoint(version: str, request: Request) -> JSONResponse:
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/graphql"):
            body: Any = {"query": raw.decode("utf-8", "replace")}
        else:
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise ShopifyError(400, {"query": "Required parameter missing or invalid"}) from None
        if not isinstance(body, dict) or not body.get("query"):
            raise ShopifyError(400, {"query": "Required parameter missing or invalid"})
        served = served_version(version) or version
        return JSONResponse(graphql.answer(request.headers.get("x-shopify-access-token", ""), served, body))

    @app.get(prefix + "/{resource}/count.json")
    async def count(resource: str, request: Request) -> JSONResponse:
        return JSONResponse({"count": shop.count(resource_of(resource), dict(request.query_params))})

    @app.get(prefix + "/{resource}/{record_id}.json")
    async def single(resource: str, record_id: str, request: Request) -> JSONResponse:
        table = business.shopify[resource_of(resource)]
        record = table.get(int(record_id)) if record_id.isdigit() else None
        if record is None or business.is_deleted("shopify", resource, record["id"]) or not shop.visible(resource,
                                                                                                      record):
            raise ShopifyError(404, "Not Found")
        return JSONResponse({RESOURCES[resource]: select_fields(record, request.query_params.get("fields"))})

    @app.get(prefix + "/{resource_file}")
    async def listing(resource_file: str, request: Request) -> Response:
        if not resource_file.endswith(".json"):
            raise ShopifyError(404, "Not Found")
        resource = resource_of(resource_file[:-5])
        path = local_path(request)
        for mutation in faults.mutations(path):
            rid = faults.pick(business.ids("shopify", resource))
            if rid is not None and not business.is_deleted("shopify", resource, rid):
                business.touch("shopify", resource, rid, late_by=faults.late_by_seconds if mutation == "late" else 0.0)
        page, nxt, prev, limit = shop.list(resource, dict(request.query_params))
        fields = request.query_params.get("fields")
        headers = {}
        link = link_header(request, nxt, prev, limit)
        if link:
            headers["Link"] = link
        # malformed versions show in listings of records, whatever fields they select; an id
        # listing (the connectors' deletion check) carries none of what they break
        served = page if fields == "id" else [faults.serve(resource, r, path) for r in page]
        return WireJSON({resource: [select_fields(r, fields) for r in served]}, headers=headers)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def not_found(path: str) -> Response:
        raise ShopifyError(404, "Not Found")

    return app


def _new_token() -> str:
    return f"shpat_{secrets.token_hex(16)}"


def _mount(business: Business, credentials: Any, limits: Limits, faults: FaultInjector) -> FastAPI | None:
    return create_shopify_app(business, credentials.shopify_token, limits, faults, credentials.shopify_scopes)


SIMULATOR = Simulated(name="shopify", mount=_mount, broken_date="0000-00-00T00:00:00-05:00",
                      text_fields=("first_name", "title", "name"),
                      title=f"Shop (Shopify Admin {API_VERSION})", endpoint=lambda credentials: f"/shopify/admin/api/{API_VERSION}",
                      credentials=(Credential("shopify_token", make=_new_token), Credential("shopify_scopes", default=SCOPES)))
