"""Tienda Nube / Nuvemshop's API v1, served from the simulated business's outlet store.

What it reproduces, per the Tienda Nube API docs (tiendanube.github.io/api-documentation, from
github.com/tiendanube/api-docs: the README's "Making a request", "Identify your app", "Client
errors", "Server errors", "Rate limiting", "Pagination" and "Languages and Internationalization";
resources/store.md, customer.md, order.md and product.md):

- ``/v1/{store_id}/…`` only for the one store (another id: 404). The token is read from the
  ``Authentication: bearer <token>`` header (``Authorization`` is not looked at): missing or
  wrong, 401 ``{"code": 401, "message": "Unauthorized", "description": "Invalid access token"}``.
  A request without a ``User-Agent`` naming the app and a contact (an e-mail address or a URL)
  is refused with 400, as the docs warn.
- ``GET /store``: the store (``name`` per language, ``main_language``, ``main_currency``).
- ``GET /{customers,orders,products}`` and ``/{id}``: ``page`` (from 1) and ``per_page`` (30 by
  default, 1 to 200); ``X-Total-Count`` and a ``Link`` header with ``next``, ``last``, ``first``
  and ``prev``, the request's own URL with another ``page``. A page past the last answers 404
  ``"Last page is N"``; an empty list's first page is ``[]``. ``since_id``,
  ``created_at_min/max`` and ``updated_at_min/max`` (ISO 8601, the bounds included);
  ``fields`` (comma-separated top-level fields). Orders: ``status``, ``shipping_status`` (``any``
  by default), ``payment_status`` (by default ``any``, which means authorized, pending and paid:
  refunded, voided and abandoned orders are listed only when asked for), ``customer_ids``. The
  docs promise no order for the lists; the simulator serves the newest first, as the store's
  admin lists them.
- Errors in the API's shape, ``{"code", "message", "description"}``: an unknown id 404 (``… with
  such id does not exist``), a parameter out of range or a date that is not one 422.
- Deletes: a customer or product deleted (``Business.delete``) is gone from lists, totals and
  ``/{id}``; orders are never deleted, a cancelled one leaves the default list.
- The app's scopes (``read_customers``, ``read_orders``, ``read_products``, ``write_products``): a
  resource without its scope answers 403 (a write without ``write_products`` too).
- ``PUT /products/{product_id}/variants/{id}`` (resources/product_variant.md, "Modify an existing
  Product Variant"): the body is the variant's fields to change; ``stock`` an integer (or null:
  unlimited, ``stock_management`` false), else 422 ``{"code", "message", "description":
  "Validation error", "stock": ["The stock must be an integer."]}``; an unknown product or variant
  404. Answers 200 with the variant; its product's ``updated_at`` moves, so the next products
  extract sees the change.
- The leaky bucket: 40 requests leaking 2 a second, per store and app. Every answer carries
  ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (milliseconds
  until the bucket is empty); a full bucket answers 429 with them, no ``Retry-After``.
- Injected faults (``Faults``, service ``tiendanube``): 429 (the same answer as a full bucket),
  502, hangs and dropped connections, malformed record versions (a broken ``updated_at``, a
  missing id, a number for a date, a name cut inside an emoji), changes while paging and late
  updates.

Departures from the real API: the docs do not say whether the date bounds are inclusive nor what
a ``per_page`` over 200 answers (here: inclusive; 422), nor what an empty list's first page is
(here ``[]``, while a page past the last is the documented-by-practice 404); plain HTTP is
served (the real API is SSL only), and of a variant only ``stock`` is writable (other fields of
the body are ignored).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from puente.simulators.business import BOGOTA, Business
from puente.simulators.business.tiendanube import STORE_ID, STORE_NAME, STORE_URL
from puente.simulators.limits import FaultInjector, LeakyBucket, Limits
from puente.simulators.shopify import select_fields
from puente.simulators.systems import Credential, Simulated
from puente.simulators.wire import WireJSON, local_path, request_fault, service_app

RESOURCES = ("customers", "orders", "products")
SCOPES = ("read_customers", "read_orders", "read_products", "write_products")
SINGULAR = {"customers": "Customer", "orders": "Order", "products": "Product"}
DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 200
ORDER_FILTERS = {"status": ("open", "closed", "cancelled"),
                 "payment_status": ("authorized", "pending", "paid", "abandoned", "refunded", "voided"),
                 "shipping_status": ("unpacked", "unshipped", "shipped")}
DEFAULT_PAYMENT = ("authorized", "pending", "paid")  # what payment_status=any lists
REASONS = {400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
           422: "Unprocessable Entity", 429: "Too Many Requests", 502: "Bad Gateway"}


class NubeError(Exception):
    """An error answer in the API's shape: ``{"code", "message", "description"}``."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"code": self.status, "message": REASONS[self.status], "description": self.description},
                            status_code=self.status, headers=headers)


def _int(params: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        raise NubeError(422, f"Invalid value for {name}: {raw!r}")
    return int(raw)


def _moment(params: dict[str, str], name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(params[name].strip().replace("Z", "+00:00"))
    except ValueError:
        raise NubeError(422, f"Invalid date for {name}: {params[name]!r}") from None
    return parsed.replace(tzinfo=BOGOTA) if parsed.tzinfo is None else parsed


def _stamp(record: dict, field: str) -> datetime:
    return datetime.fromisoformat(record[field])


def _tests(resource: str, params: dict[str, str]) -> list[Callable[[dict], bool]]:
    """The request's filters on ``resource`` as tests on records (unknown parameters ignored)."""
    tests: list[Callable[[dict], bool]] = []
    if "since_id" in params:
        since = _int(params, "since_id", 0, 0, None)
        tests.append(lambda r: r["id"] > since)
    for name in ("created_at_min", "created_at_max", "updated_at_min", "updated_at_max"):
        if name in params:
            bound, field = _moment(params, name), name.rsplit("_", 1)[0]
            tests.append((lambda r, f=field, b=bound: _stamp(r, f) >= b) if name.endswith("min") else
                         (lambda r, f=field, b=bound: _stamp(r, f) <= b))
    if resource != "orders":
        return tests
    for name, allowed in ORDER_FILTERS.items():
        wanted = params.get(name, "any")
        if wanted != "any" and wanted not in allowed:
            raise NubeError(422, f"Invalid value for {name}: {wanted!r}")
        if wanted != "any":
            tests.append(lambda r, n=name, w=wanted: r[n] == w)
        elif name == "payment_status":
            tests.append(lambda r: r["payment_status"] in DEFAULT_PAYMENT)
    if "customer_ids" in params:
        try:
            customers = {int(v) for v in params["customer_ids"].split(",") if v.strip()}
        except ValueError:
            raise NubeError(422, "Invalid value for customer_ids") from None
        tests.append(lambda r: (r.get("customer") or {}).get("id") in customers)
    return tests


class Store:
    """The store's resources over the simulated business."""

    def __init__(self, business: Business):
        self.business = business

    def listing(self, resource: str, params: dict[str, str]) -> tuple[list[dict], int, int, int]:
        """One page: its records, the total, the last page and the page asked."""
        per_page = _int(params, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        page = _int(params, "page", 1, 1, None)
        tests = _tests(resource, params)

        def scan() -> list[dict]:
            found = [r for r in self.business.live("tiendanube", resource) if all(t(r) for t in tests)]
            return found[::-1]  # newest first
        key = ("tiendanube", resource, tuple(sorted((k, v) for k, v in params.items()
                                                    if k not in ("page", "per_page", "fields"))))
        matches = self.business.memoised(key, scan)
        total = len(matches)
        last = max(1, -(-total // per_page))
        if page > last:
            raise NubeError(404, f"Last page is {-(-total // per_page)}")
        return matches[(page - 1) * per_page: page * per_page], total, last, page

    def item(self, resource: str, rid: str) -> dict:
        record = self.business.tiendanube[resource].get(int(rid)) if rid.isdigit() else None
        if record is None or self.business.is_deleted("tiendanube", resource, record["id"]):
            raise NubeError(404, f"{SINGULAR[resource]} with such id does not exist")
        return record


def _token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authentication", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def create_tiendanube_app(business: Business, token: str, limits: Limits, faults: FaultInjector,
                          scopes: Collection[str] = SCOPES) -> FastAPI:
    """The Tienda Nube endpoints, to mount under ``/tiendanube``; ``scopes`` are those the store granted the app."""
    store = Store(business)
    app = service_app("Simulated Tienda Nube API", NubeError)
    buckets: dict[str, LeakyBucket] = {}
    base = f"/v1/{STORE_ID}"

    def rate_headers(bucket: LeakyBucket) -> dict[str, str]:
        used = bucket.used
        return {"X-Rate-Limit-Limit": str(bucket.capacity), "X-Rate-Limit-Remaining": str(bucket.capacity - used),
                "X-Rate-Limit-Reset": str(round(used / bucket.leak * 1000))}

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next):
        agent = request.headers.get("user-agent", "")
        if not ("@" in agent or "http://" in agent or "https://" in agent):
            return NubeError(400, "Please identify your app: send a User-Agent with its name and a contact, "
                                  "e.g. 'MyApp (name@email.com)'").response()
        given = _token(request)
        if given != token:
            return NubeError(401, "Invalid access token").response()
        path = local_path(request)
        if not (path == base or path.startswith(base + "/")):
            return NubeError(404, "Store not found").response()
        bucket = buckets.setdefault(given, LeakyBucket(limits.tiendanube_bucket_size,
                                                       limits.tiendanube_leak_per_second, limits.clock))
        fault = faults.draw(path)
        broken = await request_fault(fault, faults.hang_seconds)
        if broken is not None:
            return broken
        decision = bucket.acquire() if fault is None else None
        headers = rate_headers(bucket)
        if fault == "5xx":
            return JSONResponse({"code": 502, "message": "Bad Gateway", "description": "Bad Gateway"},
                                status_code=502)
        if fault == "429" or (decision is not None and not decision.allowed):
            return NubeError(429, "You have exceeded the rate limit; please wait for the bucket to leak").response(
                {**headers, "X-Rate-Limit-Remaining": "0"})
        resource = path[len(base) + 1:].split("/", 1)[0]
        needed = f"{'read' if request.method == 'GET' else 'write'}_{resource}"
        if resource in RESOURCES and needed not in scopes:
            return NubeError(403, f"The app was not granted the scope {needed}").response(headers)
        response = await call_next(request)
        response.headers.update(headers)
        return response

    @app.get(base + "/store")
    async def the_store() -> JSONResponse:
        return WireJSON({"id": STORE_ID, "name": {"es": STORE_NAME}, "url_with_protocol": STORE_URL,
                         "original_domain": "casaandinaoutlet.mitiendanube.com", "country": "CO",
                         "main_language": "es", "languages": {"es": {"currency": "COP", "active": True}},
                         "main_currency": "COP", "current_theme": "amazonas", "plan_name": "estandar"},
                        headers={"X-Main-Language": "es"})

    def resource_of(name: str) -> str:
        if name not in RESOURCES:
            raise NubeError(404, "Not Found")
        return name

    def link_header(request: Request, page: int, last: int) -> str:
        targets = [(page + 1, "next")] if page < last else []
        targets += [(last, "last"), (1, "first")] + ([(page - 1, "prev")] if page > 1 else [])
        return ", ".join(f'<{request.url.remove_query_params("page").include_query_params(page=n)}>; rel="{rel}"'
                         for n, rel in targets)

    @app.get(base + "/{resource}")
    async def listing(resource: str, request: Request) -> Response:
        resource = resource_of(resource)
        path = local_path(request)
        for mutation in faults.mutations(path):
            rid = faults.pick(business.ids("tiendanube", resource))
            if rid is not None and not business.is_deleted("tiendanube", resource, rid):
                business.touch("tiendanube", resource, rid,
                               late_by=faults.late_by_seconds if mutation == "late" else 0.0)
        params = dict(request.query_params)
        page, total, last, number = store.listing(resource, params)
        fields = params.get("fields")
        # malformed versions show in listings of records, whatever fields they select; an id
        # listing (the connector's deletion check) carries none of what they break
        served = page if fields == "id" else [faults.serve(resource, r, path) for r in page]
        return WireJSON([select_fields(r, fields) for r in served],
                        headers={"X-Total-Count": str(total), "Link": link_header(request, number, last)})

    @app.get(base + "/{resource}/{rid}")
    async def single(resource: str, rid: str, request: Request) -> JSONResponse:
        return WireJSON(select_fields(store.item(resource_of(resource), rid), request.query_params.get("fields")))

    @app.put(base + "/products/{product_id}/variants/{variant_id}")
    async def put_variant(product_id: str, variant_id: str, request: Request) -> JSONResponse:
        product = store.item("products", product_id)
        variant = next((v for v in product["variants"] if str(v["id"]) == variant_id), None)
        if variant is None:
            raise NubeError(404, "Product Variant with such id does not exist")
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise NubeError(400, "Invalid input format") from None
        if not isinstance(body, dict):
            raise NubeError(400, "Invalid input format")
        if "stock" not in body:
            return WireJSON(variant)
        stock = body["stock"]
        if stock is not None and (isinstance(stock, bool) or not isinstance(stock, int)):
            return JSONResponse({"code": 422, "message": REASONS[422], "description": "Validation error",
                                 "stock": ["The stock must be an integer."]}, status_code=422)
        return WireJSON(business.tiendanube_set_stock(product["id"], variant["id"], stock))

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def no_route(path: str) -> Response:
        raise NubeError(404, "Not Found")

    return app


def _new_token() -> str:
    return secrets.token_hex(20)  # a Tienda Nube access token: 40 hex characters


def _mount(business: Business, credentials: Any, limits: Limits, faults: FaultInjector) -> FastAPI | None:
    return create_tiendanube_app(business, credentials.tiendanube_token, limits, faults, credentials.tiendanube_scopes)


SIMULATOR = Simulated(name="tiendanube", mount=_mount, broken_date="2026-02-30T25:61:00-05:00",
                      text_fields=("name", "contact_name"),
                      title="Shop (Tienda Nube API v1)", endpoint=lambda credentials: f"/tiendanube/v1/{STORE_ID}",
                      opt_in="the business also runs its Tienda Nube outlet store (served empty otherwise)",
                      business_options={"tiendanube": True},
                      credentials=(Credential("tiendanube_token", make=_new_token), Credential("tiendanube_scopes", default=SCOPES)))
