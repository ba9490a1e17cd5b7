"""Stripe's API for the objects Puente reads, served from the simulated business's Stripe account.

What it reproduces, per Stripe's API reference (docs.stripe.com/api: "Authentication",
"Pagination", "Errors", "Request IDs"; "List all charges", "List all PaymentIntents", "List all
refunds", "List all balance transactions", "List all events"; docs.stripe.com/rate-limits and
docs.stripe.com/currencies):

- The secret key as a Bearer token, or as the user name of Basic authentication (``curl -u
  sk_…:``). None: 401 ``{"error": {"type": "invalid_request_error", "message": "You did not
  provide an API key. …"}}``; a wrong one: 401 ``Invalid API Key provided: sk_live_****abcd``
  (the key masked but for its last four characters). Every answer carries a ``Request-Id``.
- ``GET /v1/charges``, ``/v1/payment_intents``, ``/v1/refunds``, ``/v1/balance_transactions``,
  ``/v1/disputes`` and ``/v1/events``: ``{"object": "list", "url", "has_more", "data"}``, newest first (by ``created``,
  then the order the objects were made in); ``limit`` 1 to 100, default 10; ``starting_after`` or
  ``ending_before`` (an object id of that list; both at once, an unknown id or a limit out of range
  answer 400 ``invalid_request_error``, the first with code ``resource_missing``); ``created`` as
  a Unix time or with ``[gt]``, ``[gte]``, ``[lt]``, ``[lte]``. Charges filter by ``payment_intent``,
  refunds and disputes by ``charge`` and ``payment_intent``, balance transactions by ``type`` and ``source``;
  events by ``type`` (a ``*`` wildcard allowed) or ``types[]`` (at most 20). Events older than 30
  days are gone. ``GET /v1/<object>/{id}`` serves one object, 404 ``resource_missing`` otherwise.
- Amounts are integers in the currency's minor unit; COP has two decimals (see
  ``puente.simulators.business.stripe``).
- Injected faults (``Faults``, service ``stripe``): 429 in Stripe's shape (``code`` ``rate_limit``,
  "Too many requests hit the API too quickly", with ``Stripe-Should-Retry: true``; Stripe documents
  no ``Retry-After``), 500 ``api_error``, hangs and dropped connections, malformed objects in the
  lists (no id, a ``created`` that is not a Unix time, a wrong type, a bad encoding).

Departures from the real API: nothing is writable, the expandable fields are never expanded
(``expand[]`` is ignored), the rate limiter is the fault injector's, the key has every
permission (a restricted key's 403 is not simulated), and the faults "changed while paging" and
"late update" are not injected: a list paged by id cannot push an object out of the walk, and
Stripe stamps no update on the object itself (its changes are events, which the business writes).
"""

from __future__ import annotations

import base64
import bisect
import secrets
import string
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from puente.simulators.business import Business
from puente.simulators.limits import FaultInjector, Limits
from puente.simulators.systems import Credential, Simulated
from puente.simulators.wire import WireJSON, drawn_fault, local_path, service_app

LISTS = ("charges", "payment_intents", "refunds", "balance_transactions", "disputes", "events")
FILTERS = {"charges": ("payment_intent",), "refunds": ("charge", "payment_intent"),
           "balance_transactions": ("type", "source"), "disputes": ("charge", "payment_intent"),
           "payment_intents": (), "events": ()}
DEFAULT_LIMIT, MAX_LIMIT, MAX_TYPES = 10, 100, 20
EVENT_DAYS = 30
_NAMES = {"charges": "charge", "payment_intents": "payment_intent", "refunds": "refund",
          "balance_transactions": "balance transaction", "disputes": "dispute", "events": "event"}


class StripeError(Exception):
    """An error answer in Stripe's shape: ``{"error": {"type", "code", "message", "param", "doc_url"}}``."""

    def __init__(self, status: int, kind: str, message: str, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.kind, self.message, self.code, self.param = status, kind, message, code, param
        self.headers = headers

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.code:
            error.update(code=self.code, doc_url=f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}")
        if self.param:
            error["param"] = self.param
        return JSONResponse({"error": error}, status_code=self.status, headers=self.headers)


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, "invalid_request_error", message, code, param)


def _unix(params: Any, name: str) -> int:
    raw = params.get(name)
    if raw is None or not raw.strip().lstrip("-").isdigit():
        raise invalid(f"Invalid integer: {raw}", name)
    return int(raw)


def created_bounds(params: Any) -> tuple[int | None, int | None]:
    """``created`` (exact) or ``created[gt|gte|lt|lte]`` as an inclusive (low, high) of Unix seconds."""
    low, high = None, None
    if "created" in params:
        low = high = _unix(params, "created")
    for op in ("gt", "gte", "lt", "lte"):
        name = f"created[{op}]"
        if name in params:
            value = _unix(params, name)
            if op in ("gt", "gte"):
                value += op == "gt"
                low = value if low is None else max(low, value)
            else:
                value -= op == "lt"
                high = value if high is None else min(high, value)
    return low, high


def create_stripe_app(business: Business, key: str, faults: FaultInjector) -> FastAPI:
    """The API, to mount under ``/stripe`` (empty unless ``Business(stripe=True, woocommerce=True)``)."""
    app = service_app("Simulated Stripe API", StripeError)
    counter = iter(range(1, 1 << 62))

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next):
        path, fault, broken = await drawn_fault(request, faults)
        if broken is not None:
            return broken
        request_id = {"Request-Id": f"req_{next(counter):014d}"}
        if fault == "429":
            return StripeError(429, "invalid_request_error", "Too many requests hit the API too quickly. We recommend "
                               "an exponential backoff of your requests.", "rate_limit",
                               headers={**request_id, "Stripe-Should-Retry": "true"}).response()
        if fault == "5xx":
            return StripeError(500, "api_error", "An unknown error occurred", headers=request_id).response()
        given = _key(request)
        if not given:
            return StripeError(401, "invalid_request_error", "You did not provide an API key. You need to provide "
                               "your API key in the Authorization header, using Bearer auth (e.g. "
                               "'Authorization: Bearer YOUR_SECRET_KEY').", headers=request_id).response()
        if given != key:
            return StripeError(401, "invalid_request_error", f"Invalid API Key provided: {_masked(given)}",
                               headers=request_id).response()
        response = await call_next(request)
        response.headers.update(request_id)
        return response

    def ordered(obj: str) -> list[dict]:
        """The list, newest first: by ``created``, then the order the objects were made in."""
        def build() -> list[dict]:
            table = business.stripe[obj]
            made = list(table.values())
            keyed = sorted(range(len(made)), key=lambda i: (made[i]["created"], i), reverse=True)
            return [made[i] for i in keyed]
        return business.records.memoised(("stripe", obj), build)

    def positions(obj: str) -> dict[str, int]:
        return business.records.memoised(("stripe", obj, "positions"),
                                         lambda: {item["id"]: n for n, item in enumerate(ordered(obj))})

    @app.get("/v1/{obj}")
    async def listing(obj: str, request: Request) -> Response:
        if obj not in LISTS:
            raise invalid(f"Unrecognized request URL (GET: /v1/{obj}).")
        params = request.query_params
        limit = DEFAULT_LIMIT if "limit" not in params else _unix(params, "limit")
        if not 1 <= limit <= MAX_LIMIT:
            raise invalid(f"Invalid limit: must be at least 1 and at most {MAX_LIMIT}.", "limit")
        after, before = params.get("starting_after"), params.get("ending_before")
        if after and before:
            raise invalid("You may only specify one of these parameters: ending_before, starting_after.")
        low, high = created_bounds(params)
        now = int(business.now().timestamp())
        if obj == "events":
            low = max(low or 0, now - EVENT_DAYS * 86400)
        exact = {k: params[k] for k in FILTERS[obj] if k in params}
        types = params.getlist("types[]")
        if len(types) > MAX_TYPES:
            raise invalid(f"You may pass at most {MAX_TYPES} types.", "types")
        single = params.get("type") if obj == "events" else None
        if single:
            types = [single]
        items = ordered(obj)
        # newest first: the ``created`` bounds are a slice of the list
        stamps = [-item["created"] for item in items]
        start = 0 if high is None else bisect.bisect_left(stamps, -high)
        stop = len(items) if low is None else bisect.bisect_right(stamps, -low)
        window = [n for n in range(start, stop) if all(str(items[n].get(k)) == v for k, v in exact.items())
                  and (not types or any(_type_matches(items[n]["type"], t) for t in types))]
        anchor = after or before
        if anchor:
            place = positions(obj).get(anchor)
            if place is None:
                raise invalid(f"No such {_NAMES[obj]}: '{anchor}'", "starting_after" if after else "ending_before",
                              "resource_missing")
            if after:
                rest = [n for n in window if n > place]
                chosen, more = rest[:limit], len(rest) > limit
            else:
                rest = [n for n in window if n < place]
                chosen, more = rest[-limit:], len(rest) > limit
        else:
            chosen, more = window[:limit], len(window) > limit
        page = [items[n] for n in chosen]
        path = local_path(request)
        served = page if obj == "events" else [faults.serve(obj, item, path) for item in page]
        return WireJSON({"object": "list", "url": f"/v1/{obj}", "has_more": more, "data": served})

    @app.get("/v1/{obj}/{oid}")
    async def single(obj: str, oid: str) -> Response:
        if obj not in LISTS:
            raise invalid(f"Unrecognized request URL (GET: /v1/{obj}/{oid}).")
        item = business.stripe[obj].get(oid)
        if item is None:
            raise StripeError(404, "invalid_request_error", f"No such {_NAMES[obj]}: '{oid}'", "resource_missing", "id")
        return WireJSON(item)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def no_route(path: str, request: Request) -> Response:
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({request.method}: /{path}).")

    return app


def _type_matches(kind: str, wanted: str) -> bool:
    return kind.startswith(wanted[:-1]) if wanted.endswith("*") else kind == wanted


def _key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[0] or None
        except ValueError:
            return None
    return None


def _masked(key: str) -> str:
    """A key as Stripe's error shows it: its kind and mode, stars, its last four characters."""
    kind, _, rest = key.partition("_")
    mode, _, _ = rest.partition("_")
    return f"{kind}_{mode}_{'*' * 20}{key[-4:]}" if len(key) > 12 else "*" * len(key)


def _new_key() -> str:
    # A live secret key: sk_live_ and 99 letters and digits
    return "sk_live_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(99))


def _mount(business: Business, credentials: Any, limits: Limits, faults: FaultInjector) -> FastAPI | None:
    return create_stripe_app(business, credentials.stripe_key, faults)


SIMULATOR = Simulated(name="stripe", mount=_mount, broken_date="2026-02-30T25:61:00Z",
                      text_fields=("description",),
                      title="Payments (Stripe)", endpoint=lambda credentials: "/stripe/v1/charges",
                      opt_in="the WooCommerce store's card checkout is Stripe's (with --woocommerce; served empty otherwise)",
                      business_options={"stripe": True},
                      credentials=(Credential("stripe_key", make=_new_key),))
