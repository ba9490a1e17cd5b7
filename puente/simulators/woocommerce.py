"""WooCommerce's REST API v3, served from the simulated business's wholesale store.

What it reproduces, per the WooCommerce REST API docs (woocommerce.github.io/woocommerce-rest-api-docs:
Introduction, Authentication, Errors, Pagination; Customers, Orders and Products, "List all …" and
"Retrieve …") and WordPress's REST API handbook (the index, ``rest_invalid_param``, ``rest_no_route``):

- ``GET /wp-json/`` (public): the site's REST index, whose ``namespaces`` include ``wc/v3``.
- ``GET /wp-json/wc/v3/{customers,orders,products}`` and ``/{id}``. ``page`` (from 1) and
  ``per_page`` (1 to 100, default 10); ``X-WP-Total`` and ``X-WP-TotalPages`` on every list, and
  ``Link`` with ``rel="prev"`` / ``rel="next"``: the request's own URL and query with another
  ``page``. A page past the last is an empty list. ``order`` asc/desc and ``orderby`` (orders:
  date, id, include, title, slug, modified; products: those and price, popularity, rating,
  menu_order; customers: id, include, name, registered_date), defaulting as WooCommerce does
  (orders and products newest first by date, customers by name ascending). ``include``,
  ``exclude``, ``_fields`` (comma-separated; nested objects with dots, ``billing.email``, as
  WordPress 5.3+ filters them).
- Orders and products: ``after``/``before`` (created) and ``modified_after``/``modified_before``
  (strictly after / before), read in UTC with ``dates_are_gmt=true``, else in the site's zone;
  ``status`` (``any`` by default, which leaves out the trash; one status or a comma list,
  ``trash`` included), orders' ``customer``, products' ``sku``. Customers: ``email``, ``role``
  (``customer`` by default, or ``all``). A parameter WordPress does not know for the route is
  ignored, as WordPress ignores it: ``customers?modified_after=…`` lists every customer.
- A value out of range (``per_page=101``, ``page=0``, an unknown ``orderby`` or ``status``, a
  date that is not one) answers 400 in WordPress's shape: ``{"code": "rest_invalid_param",
  "message": "Invalid parameter(s): per_page", "data": {"status": 400, "params": {…}}}``.
- Authentication: HTTP Basic with the consumer key and secret (or ``consumer_key`` and
  ``consumer_secret`` as query parameters, which WooCommerce also takes over HTTPS). No
  credentials: 401 ``woocommerce_rest_cannot_view`` ("Sorry, you cannot list resources."); an
  unknown key or a wrong secret: 401 ``woocommerce_rest_authentication_error`` ("Consumer key is
  invalid." / "Consumer secret is invalid."); a write-only key reading: 401
  ``woocommerce_rest_authentication_error`` ("The API key provided does not have read
  permissions."). An unknown route: 404 ``rest_no_route``; an unknown id: 404
  ``woocommerce_rest_{customer,shop_order,product}_invalid_id``.
- Trash and deletes: a trashed order or product has ``status: trash`` and is listed only when
  asked for that status; a record deleted for good (``Business.delete``) is gone from lists,
  totals and ``/{id}``.
- WooCommerce itself has no rate limit; injected faults (``Faults``, service ``woocommerce``) play
  the host in front of it: 429 with ``Retry-After``, 503, hangs and dropped connections, plus
  malformed record versions (a broken ``date_modified_gmt`` is WordPress's zero date), changes
  while paging and late updates.

Departures from the real API: HTTP Basic is accepted over plain HTTP (a real store wants OAuth
1.0a there; the simulator only listens on this machine), the index lists namespaces and not the
routes, and nothing is writable.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from puente.simulators.business import BOGOTA, Business
from puente.simulators.business.woocommerce import SITE, STORE_NAME
from puente.simulators.limits import FaultInjector, Limits
from puente.simulators.systems import Credential, Simulated
from puente.simulators.wire import WireJSON, drawn_fault, local_path, service_app

API = "/wp-json/wc/v3"
RESOURCES = ("customers", "orders", "products")
ITEM_CODE = {"customers": "customer", "orders": "shop_order", "products": "product"}
DEFAULT_PER_PAGE, MAX_PER_PAGE = 10, 100
ORDERBY = {"customers": ("id", "include", "name", "registered_date"),
           "orders": ("date", "id", "include", "title", "slug", "modified"),
           "products": ("date", "id", "include", "title", "slug", "price", "popularity", "rating", "menu_order",
                        "modified")}
DEFAULT_ORDER = {"customers": ("name", "asc"), "orders": ("date", "desc"), "products": ("date", "desc")}
STATUSES = {"orders": ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed",
                       "checkout-draft", "trash"),
            "products": ("draft", "pending", "private", "publish", "future", "trash")}
DATE_FILTERS = {"after": ("date_created", ">"), "before": ("date_created", "<"),
                "modified_after": ("date_modified", ">"), "modified_before": ("date_modified", "<")}
NAMESPACES = ["oembed/1.0", "wc/v1", "wc/v2", "wc/v3", "wc/store/v1", "wc-analytics", "wp/v2"]


class WPError(Exception):
    """An error answer in WordPress's shape: ``{"code", "message", "data": {"status", …}}``."""

    def __init__(self, status: int, code: str, message: str, **data: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def response(self) -> JSONResponse:
        return JSONResponse({"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}},
                            status_code=self.status)


def invalid(param: str, why: str) -> WPError:
    return WPError(400, "rest_invalid_param", f"Invalid parameter(s): {param}", params={param: why})


def _int(params: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"between {low} (inclusive) and {high} (inclusive)" if high else f"greater than or equal to {low}"
        raise invalid(name, f"{name} must be {bound}")
    return int(raw)


def _ids(params: dict[str, str], name: str) -> set[int]:
    try:
        return {int(v) for v in params[name].split(",") if v.strip()}
    except ValueError:
        raise invalid(name, f"{name}[0] is not of type integer.") from None


def _moment(params: dict[str, str], name: str) -> datetime:
    """A date filter as WordPress reads it: in UTC with ``dates_are_gmt``, else in the site's zone."""
    try:
        parsed = datetime.fromisoformat(params[name].strip().replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, f"Invalid date: {params[name]!r}.") from None
    if parsed.tzinfo is None:
        gmt = params.get("dates_are_gmt", "false").lower() in ("1", "true")
        parsed = parsed.replace(tzinfo=UTC if gmt else BOGOTA)
    return parsed


def _stamp(record: dict, field: str) -> datetime:
    return datetime.fromisoformat(record[f"{field}_gmt"]).replace(tzinfo=UTC)


def _tests(resource: str, params: dict[str, str]) -> list[Callable[[dict], bool]]:
    """The request's filters on ``resource`` as tests on records (unknown parameters ignored)."""
    tests: list[Callable[[dict], bool]] = []
    if "include" in params:
        included = _ids(params, "include")
        tests.append(lambda r: r["id"] in included)
    if "exclude" in params:
        excluded = _ids(params, "exclude")
        tests.append(lambda r: r["id"] not in excluded)
    if resource == "customers":
        role = params.get("role", "customer")
        if role not in ("all", "customer", "administrator", "editor", "author", "contributor", "subscriber",
                        "shop_manager"):
            raise invalid("role", "role is not one of all, administrator, editor, author, contributor, "
                                  "subscriber, customer, shop_manager.")
        if role != "all":
            tests.append(lambda r, v=role: r["role"] == v)
        if "email" in params:
            email = params["email"].lower()
            tests.append(lambda r: r["email"].lower() == email)
        return tests
    for name, (field, op) in DATE_FILTERS.items():
        if name in params:
            bound = _moment(params, name)
            tests.append((lambda r, f=field, b=bound: _stamp(r, f) > b) if op == ">" else
                         (lambda r, f=field, b=bound: _stamp(r, f) < b))
    wanted = [s.strip() for s in params.get("status", "any").split(",") if s.strip()]
    unknown = [s for s in wanted if s != "any" and s not in STATUSES[resource]]
    if unknown:
        raise invalid("status", f"status[0] is not one of any, {', '.join(STATUSES[resource])}.")
    if "any" in wanted:  # WordPress's "any": every status but the trash (and drafts of checkout)
        tests.append(lambda r, w=set(wanted): r["status"] in w or r["status"] not in ("trash", "checkout-draft"))
    else:
        tests.append(lambda r, w=set(wanted): r["status"] in w)
    if resource == "orders" and "customer" in params:
        customer = _int(params, "customer", 0, 0, None)
        tests.append(lambda r: r["customer_id"] == customer)
    if resource == "products" and "sku" in params:
        skus = set(params["sku"].split(","))
        tests.append(lambda r: r["sku"] in skus)
    return tests


def _sort_key(resource: str, orderby: str, params: dict[str, str]) -> Callable[[dict], Any]:
    if orderby == "include" and "include" in params:
        order = {rid: n for n, rid in enumerate(v.strip() for v in params["include"].split(","))}
        return lambda r: (order.get(str(r["id"]), len(order)), r["id"])
    return {
        "date": lambda r: (r["date_created_gmt"], r["id"]),
        "registered_date": lambda r: (r["date_created_gmt"], r["id"]),
        "modified": lambda r: (r["date_modified_gmt"], r["id"]),
        "name": lambda r: (f"{r['first_name']} {r['last_name']}".lower(), r["id"]),
        "title": lambda r: (r.get("name", "").lower(), r["id"]),
        "slug": lambda r: (r.get("slug", ""), r["id"]),
        "price": lambda r: (float(r.get("price") or 0), r["id"]),
        "popularity": lambda r: (r.get("total_sales", 0), r["id"]),
        "menu_order": lambda r: (r.get("menu_order", 0), r["id"]),
    }.get(orderby, lambda r: r["id"])


class Store:
    """The store's REST resources over the simulated business."""

    def __init__(self, business: Business):
        self.business = business

    def listing(self, resource: str, params: dict[str, str]) -> tuple[list[dict], int, int, int, int]:
        """One page: its records, the total, the pages, the page asked and its size."""
        per_page = _int(params, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        page = _int(params, "page", 1, 1, None)
        default_by, default_order = DEFAULT_ORDER[resource]
        orderby, order = params.get("orderby", default_by), params.get("order", default_order)
        if orderby not in ORDERBY[resource]:
            raise invalid("orderby", f"orderby is not one of {', '.join(ORDERBY[resource])}.")
        if order not in ("asc", "desc"):
            raise invalid("order", "order is not one of asc, desc.")
        tests = _tests(resource, params)

        def scan() -> list[dict]:
            found = [r for r in self.business.live("woocommerce", resource) if all(t(r) for t in tests)]
            return sorted(found, key=_sort_key(resource, orderby, params), reverse=order == "desc")
        key = ("woocommerce", resource, tuple(sorted((k, v) for k, v in params.items()
                                                     if k not in ("page", "per_page", "_fields"))))
        matches = self.business.memoised(key, scan)
        total = len(matches)
        pages = -(-total // per_page)
        return matches[(page - 1) * per_page: page * per_page], total, pages, page, per_page

    def item(self, resource: str, rid: str) -> dict:
        record = self.business.woocommerce[resource].get(int(rid)) if rid.isdigit() else None
        if record is None or self.business.is_deleted("woocommerce", resource, record["id"]):
            raise WPError(404, f"woocommerce_rest_{ITEM_CODE[resource]}_invalid_id", "Invalid ID.")
        return record


def select_fields(record: dict, fields: str | None) -> dict:
    """``record`` filtered by ``_fields`` as WordPress does it (``rest_filter_response_fields``):
    a comma list of keys, nested with dots since WordPress 5.3 (``billing.email``); a key kept
    whole keeps all below it; a dotted key into a list keeps nothing of it (WordPress intersects
    the list's numeric keys with the names), and into a scalar keeps the scalar."""
    if not fields:
        return record
    wanted: dict = {}
    for field in (f.strip() for f in fields.split(",")):
        if not field:
            continue
        *parents, last = field.split(".")
        node = wanted
        for part in parents:
            if node.get(part) is True:
                break
            node = node.setdefault(part, {})
        else:
            node[last] = True
    return _intersect(record, wanted)


def _intersect(value: dict, wanted: dict) -> dict:
    kept = {k: v for k, v in value.items() if k in wanted}
    for key, below in wanted.items():
        if key in kept and isinstance(below, dict):
            if isinstance(kept[key], dict):
                kept[key] = _intersect(kept[key], below)
            elif isinstance(kept[key], list):
                kept[key] = []
    return kept


def _basic(request: Request) -> tuple[str, str] | None:
    """The key and secret the request presents (HTTP Basic, or the query parameters), or None."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            key, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return key, secret
    query = request.query_params
    if "consumer_key" in query and "consumer_secret" in query:
        return query["consumer_key"], query["consumer_secret"]
    return None


def create_woocommerce_app(business: Business, key: str, secret: str, faults: FaultInjector,
                           permissions: str = "read") -> FastAPI:
    """The WooCommerce endpoints, to mount under ``/woocommerce``; ``permissions`` is the key's
    (``read``, ``write`` or ``read_write``, as WooCommerce > Settings > Advanced > REST API sets it)."""
    store = Store(business)
    app = service_app("Simulated WooCommerce REST API", WPError)

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next):
        path, fault, broken = await drawn_fault(request, faults)
        if broken is not None:
            return broken
        if fault == "429":  # the host's limiter, in front of WordPress: no JSON of WordPress's
            return PlainTextResponse("Too Many Requests", status_code=429, headers={"Retry-After": "3"})
        if fault == "5xx":
            return PlainTextResponse("Service Unavailable", status_code=503, headers={"Retry-After": "1"})
        if path.startswith(API):
            given = _basic(request)
            if given is None:
                return WPError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.").response()
            if given[0] != key:
                return WPError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.").response()
            if given[1] != secret:
                return WPError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.").response()
            if request.method == "GET" and permissions not in ("read", "read_write"):
                return WPError(401, "woocommerce_rest_authentication_error",
                               "The API key provided does not have read permissions.").response()
        return await call_next(request)

    @app.get("/wp-json")
    @app.get("/wp-json/")
    async def index() -> JSONResponse:
        return JSONResponse({"name": STORE_NAME, "description": "Ventas al por mayor", "url": SITE, "home": SITE,
                             "gmt_offset": -5, "timezone_string": "America/Bogota", "namespaces": NAMESPACES,
                             "authentication": [], "routes": {}})

    def resource_of(name: str) -> str:
        if name not in RESOURCES:
            raise WPError(404, "rest_no_route", "No route was found matching the URL and request method.")
        return name

    def link_header(request: Request, page: int, pages: int) -> str | None:
        parts = []
        for target, rel in ((page - 1, "prev"), (page + 1, "next")):
            if (rel == "prev" and 1 <= target and pages) or (rel == "next" and target <= pages):
                url = request.url.remove_query_params("page").include_query_params(page=min(target, pages))
                parts.append(f'<{url}>; rel="{rel}"')
        return ", ".join(parts) or None

    @app.get(API + "/{resource}")
    async def listing(resource: str, request: Request) -> Response:
        resource = resource_of(resource)
        path = local_path(request)
        for mutation in faults.mutations(path):
            rid = faults.pick(business.ids("woocommerce", resource))
            if rid is not None and not business.is_deleted("woocommerce", resource, rid):
                business.touch("woocommerce", resource, rid,
                               late_by=faults.late_by_seconds if mutation == "late" else 0.0)
        params = {k: v for k, v in request.query_params.items() if k not in ("consumer_key", "consumer_secret")}
        page, total, pages, number, _ = store.listing(resource, params)
        fields = params.get("_fields")
        # malformed versions show in listings of records, whatever fields they select; an id
        # listing (the connectors' deletion check) carries none of what they break
        served = page if fields == "id" else [faults.serve(resource, r, path) for r in page]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        link = link_header(request, number, pages)
        if link:
            headers["Link"] = link
        return WireJSON([select_fields(r, fields) for r in served], headers=headers)

    @app.get(API + "/{resource}/{rid}")
    async def single(resource: str, rid: str, request: Request) -> JSONResponse:
        return WireJSON(select_fields(store.item(resource_of(resource), rid), request.query_params.get("_fields")))

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def no_route(path: str) -> Response:
        raise WPError(404, "rest_no_route", "No route was found matching the URL and request method.")

    return app


def _new_key() -> str:
    return f"ck_{secrets.token_hex(20)}"  # WooCommerce's keys: ck_/cs_ and 40 hex characters


def _new_secret() -> str:
    return f"cs_{secrets.token_hex(20)}"


def _mount(business: Business, credentials: Any, limits: Limits, faults: FaultInjector) -> FastAPI | None:
    # WordPress writes an unset date as its "zero date".
    return create_woocommerce_app(business, credentials.woocommerce_key, credentials.woocommerce_secret, faults,
                                  credentials.woocommerce_permissions)


SIMULATOR = Simulated(name="woocommerce", mount=_mount, broken_date="0000-00-00T00:00:00",
                      text_fields=("first_name", "name", "number"),
                      title="Shop (WooCommerce REST v3)", endpoint=lambda credentials: "/woocommerce/wp-json/wc/v3",
                      opt_in="the business also runs its wholesale WooCommerce store (served empty otherwise)",
                      business_options={"woocommerce": True},
                      credentials=(Credential("woocommerce_key", make=_new_key), Credential("woocommerce_secret", make=_new_secret),
                                   # the key's permissions: read, write or read_write (set by the tests)
                                   Credential("woocommerce_permissions", default="read", env=False)))
