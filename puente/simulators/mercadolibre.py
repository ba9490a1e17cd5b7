"""Mercado Libre's API for one seller, served from the simulated business's marketplace sales.

What it reproduces, per Mercado Libre's developer docs (developers.mercadolibre.com.co and its
siblings: "Authentication and Authorization" (``/oauth/token``, the access token's six hours and
the refresh token good for one use), "Manage sales" (``/orders/{id}``, ``/orders/search``),
"Shipments" (``/shipments/{id}``, ``x-format-new``), "Manage cart orders" and "Packs management"
(``/packs/{id}``, ``/marketplace/orders/pack/{id}``), "Billing data"
(``/orders/{id}/billing_info`` with ``x-version: 2``), "Paging results", and the error list of
"Errores"):

- ``POST /oauth/token`` (form or JSON): ``grant_type=refresh_token`` with the application's
  ``client_id``/``client_secret`` and a live refresh token answers ``{"access_token",
  "token_type": "bearer", "expires_in": 21600, "scope": "offline_access read write", "user_id",
  "refresh_token"}``; the refresh token just used is dead from then on (``400 invalid_grant``), as
  is any access token older than six hours (on the ``Limits`` clock). A wrong client answers
  ``400 invalid_client``.
- Every other request carries ``Authorization: Bearer <access token>``: missing, unknown or
  expired, 401 ``{"message": "invalid access token", "error": "unauthorized", "status": 401,
  "cause": []}``.
- ``GET /orders/search?seller=<id>``: only the account's own seller id (another: 403
  ``forbidden``); ``order.date_last_updated.from``/``.to`` and ``order.date_created.from``/``.to``
  (ISO 8601, inclusive), ``order.status``; ``sort`` ``date_asc`` or ``date_desc`` (by
  ``date_created``, the default ``date_asc``); ``offset`` (default 0) and ``limit`` (default 50,
  at most ``MAX_LIMIT``); an ``offset`` past the cap (``offset_cap``) answers 400. The answer:
  ``{"query", "results", "sort", "available_sorts", "filters", "paging": {"total", "offset",
  "limit"}, "display"}``.
- ``GET /orders/{id}``, ``/orders/{id}/billing_info`` (404 when the buyer gave no billing data),
  ``/shipments/{id}``: the records, or 404 ``{"message": "… not found", "error": "not_found",
  "status": 404, "cause": []}``.
- ``GET /packs/{pack_id}`` ("Packs management") and its older address
  ``GET /marketplace/orders/pack/{pack_id}`` ("Manage cart orders"): a cart, ``{"id", "status",
  "status_detail", "family_pack_id", "buyer": {"id"}, "shipment": {"id"}, "orders": [{"id"}],
  "date_created", "last_updated"}``, or 404 ``not_found``. What the docs say of carts: an order
  whose ``pack_id`` is not null belongs to a cart, whose orders the pack resource lists; the
  orders of a cart may share one shipment id (the pack has 0 or 1 shipment); each order has its
  own payments (1 to N); the pack's ``status`` goes ``filling`` (paid, orders and shipments being
  created), ``filled`` (all created, the payment being distributed to them), ``released`` (all
  paid); ``family_pack_id`` names the parent of a pack that was split. What they leave open, and
  the business's writer (``business/mercadolibre.py``) assumes: how the one shipment's cost is
  spread over the cart's orders and payments (here: all of it on the first order's payment and
  ``paid_amount``), the status of a cancelled pack (here ``cancelled``), and the docs of 2024-2025
  announcing that every order would gradually get a ``pack_id`` (here a lone sale keeps
  ``pack_id`` null, as the cart page still describes; Puente reads a one-order pack as a lone sale).
- Errors in Mercado Libre's shape, ``{"message", "error", "status", "cause": []}``.
- Injected faults (``Faults``, service ``mercadolibre``): 429 ``too_many_requests`` (Mercado
  Libre sends no ``Retry-After``), 500 ``internal_server_error``, hangs and dropped
  connections, malformed orders (no id, a broken ``date_last_updated``, a number for it, a
  status cut inside an emoji), changes while paging and late updates.
- ``MeliAccount.expire_access_tokens()`` lets a test end every access token's life at once (an
  access token expiring mid-run), and ``refreshes`` counts the refreshes served.

Departures from the real API: the search serves every sale however old (the real one, the last
twelve months); the docs do not give the offset cap's figure (10,000 here, as integrators
report, and tests lower it); the authorization-code step (the seller's consent in the browser) is
not simulated: the account starts with one refresh token, the one the simulator's credentials
name; nothing is writable.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from puente.simulators.business import Business
from puente.simulators.business.mercadolibre import SELLER_ID
from puente.simulators.limits import FaultInjector, Limits
from puente.simulators.systems import Credential, Simulated
from puente.simulators.wire import WireJSON, drawn_fault, local_path, service_app

SEARCH = "/orders/search"
DEFAULT_LIMIT, MAX_LIMIT, OFFSET_CAP = 50, 51, 10_000
ACCESS_SECONDS = 21_600
DATE_FILTERS = {"order.date_last_updated.from": ("date_last_updated", 1), "order.date_last_updated.to":
                ("date_last_updated", -1), "order.date_created.from": ("date_created", 1),
                "order.date_created.to": ("date_created", -1)}


class MeliError(Exception):
    """An error answer in Mercado Libre's shape: ``{"message", "error", "status", "cause"}``."""

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def response(self) -> JSONResponse:
        return JSONResponse({"message": self.message, "error": self.error, "status": self.status, "cause": []},
                            status_code=self.status)


class MeliAccount:
    """The seller's OAuth state: the live refresh token and the access tokens handed out, on ``clock``."""

    def __init__(self, client_id: str, client_secret: str, refresh_token: str, clock: Callable[[], float]):
        self.client_id, self.client_secret, self.clock = client_id, client_secret, clock
        self.refresh_token = refresh_token
        self.access: dict[str, float] = {}  # access token -> when it dies
        self.refreshes = 0

    def refresh(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "refresh_token":
            raise MeliError(400, "unsupported_grant_type", "the grant_type is not supported by this flow")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            raise MeliError(400, "invalid_client", "invalid client_id or client_secret")
        if not form.get("refresh_token") or not secrets.compare_digest(form["refresh_token"], self.refresh_token):
            raise MeliError(400, "invalid_grant", "Error validating grant. Your authorization code or refresh token "
                                                  "may be expired or it was already used")
        self.refresh_token = f"TG-{secrets.token_hex(12)}-{SELLER_ID}"
        access = f"APP_USR-{secrets.token_hex(16)}-{SELLER_ID}"
        self.access[access] = self.clock() + ACCESS_SECONDS
        self.refreshes += 1
        return {"access_token": access, "token_type": "bearer", "expires_in": ACCESS_SECONDS,
                "scope": "offline_access read write", "user_id": SELLER_ID, "refresh_token": self.refresh_token}

    def valid(self, token: str | None) -> bool:
        return token is not None and self.access.get(token, 0.0) > self.clock()

    def expire_access_tokens(self) -> None:
        self.access = dict.fromkeys(self.access, 0.0)


def _moment(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise MeliError(400, "bad_request", f"Invalid value for {name}: {value}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(params: Any, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise MeliError(400, "bad_request", f"Invalid value for {name}: {raw}")
    return int(raw)


def create_mercadolibre_app(business: Business, account: MeliAccount, faults: FaultInjector,
                            offset_cap: int = OFFSET_CAP) -> FastAPI:
    """The seller's API, to mount under ``/mercadolibre`` (no sales unless ``Business(mercadolibre=True)``)."""
    app = service_app("Simulated Mercado Libre API", MeliError)
    app.state.account = account

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next):
        path, fault, broken = await drawn_fault(request, faults)
        if broken is not None:
            return broken
        if fault == "429":
            return MeliError(429, "too_many_requests", "Too Many Requests").response()
        if fault == "5xx":
            return MeliError(500, "internal_server_error", "Internal Server Error").response()
        if path != "/oauth/token":
            header = request.headers.get("authorization", "")
            if not account.valid(header[7:].strip() if header.lower().startswith("bearer ") else None):
                return MeliError(401, "unauthorized", "invalid access token").response()
        return await call_next(request)

    @app.post("/oauth/token")
    async def token(request: Request) -> JSONResponse:
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            form = {k: str(v) for k, v in (await request.json()).items()}
        else:
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        return JSONResponse(account.refresh(form))

    def orders() -> dict[int, dict]:
        return business.table("mercadolibre", "orders")

    @app.get(SEARCH)
    async def search(request: Request) -> Response:
        params = request.query_params
        path = local_path(request)
        for mutation in faults.mutations(path):
            oid = faults.pick(business.ids("mercadolibre", "orders"))
            if oid is not None:
                business.touch("mercadolibre", "orders", oid,
                               late_by=faults.late_by_seconds if mutation == "late" else 0.0)
        if params.get("seller") != str(SELLER_ID):
            raise MeliError(403, "forbidden", "Invalid caller.id for the seller")
        offset, limit = _int(params, "offset", 0), _int(params, "limit", DEFAULT_LIMIT)
        if limit < 1 or limit > MAX_LIMIT:
            raise MeliError(400, "bad_request", f"Invalid limit. Max value is {MAX_LIMIT}")
        if offset > offset_cap:
            raise MeliError(400, "bad_request", f"Invalid offset. Max value is {offset_cap}")
        sort = params.get("sort", "date_asc")
        if sort not in ("date_asc", "date_desc"):
            raise MeliError(400, "bad_request", f"Invalid sort: {sort}")
        tests: list[Callable[[dict], bool]] = []
        for name, (field, sign) in DATE_FILTERS.items():
            if name in params:
                bound = _moment(name, params[name])
                tests.append(lambda r, f=field, b=bound, s=sign: s * (datetime.fromisoformat(r[f]) - b).total_seconds()
                             >= 0)
        if "order.status" in params:
            tests.append(lambda r, s=params["order.status"]: r["status"] == s)
        key = ("mercadolibre", "search", tuple(sorted((k, v) for k, v in params.items()
                                                      if k not in ("offset", "limit"))))
        found = business.memoised(key, lambda: sorted(
            (r for r in orders().values() if all(t(r) for t in tests)),
            key=lambda r: (r["date_created"], r["id"]), reverse=sort == "date_desc"))
        page = [faults.serve("orders", r, path) for r in found[offset: offset + limit]]
        return WireJSON({"query": None, "display": "complete", "results": page,
                         "sort": {"id": sort, "name": "Date ascending" if sort == "date_asc" else "Date descending"},
                         "available_sorts": [], "filters": [],
                         "paging": {"total": len(found), "offset": offset, "limit": limit}})

    @app.get("/orders/{oid}")
    async def order(oid: str) -> Response:
        record = orders().get(int(oid)) if oid.isdigit() else None
        if record is None:
            raise MeliError(404, "not_found", f"Order {oid} not found")
        return WireJSON(record)

    @app.get("/orders/{oid}/billing_info")
    async def billing(oid: str) -> Response:
        record = orders().get(int(oid)) if oid.isdigit() else None
        answer = business.meli.billing_info(record["id"]) if record is not None and business.meli else None
        if answer is None:
            raise MeliError(404, "not_found", f"Billing info for order {oid} not found")
        return WireJSON(answer)

    @app.get("/shipments/{sid}")
    async def shipment(sid: str) -> Response:
        record = business.table("mercadolibre", "shipments").get(int(sid)) if sid.isdigit() else None
        if record is None:
            raise MeliError(404, "not_found", f"Shipment {sid} not found")
        return WireJSON(record)

    @app.get("/packs/{pack_id}")
    @app.get("/marketplace/orders/pack/{pack_id}")
    async def pack(pack_id: str) -> Response:
        record = business.table("mercadolibre", "packs").get(int(pack_id)) if pack_id.isdigit() else None
        if record is None:
            raise MeliError(404, "not_found", f"Pack {pack_id} not found")
        return WireJSON(record)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def no_route(path: str) -> Response:
        raise MeliError(404, "not_found", f"Resource /{path} not found")

    return app


def account_for(credentials: Any, limits: Limits) -> MeliAccount:
    """The seller's OAuth state for the simulator's credentials, on the limits' clock."""
    return MeliAccount(credentials.mercadolibre_client_id, credentials.mercadolibre_client_secret,
                       credentials.mercadolibre_refresh_token, limits.clock)


def _new_client_secret() -> str:
    return secrets.token_urlsafe(24)


def _new_refresh_token() -> str:
    return f"TG-{secrets.token_hex(12)}-{secrets.randbelow(10**9):09d}"  # a refresh token: TG-<hash>-<user id>


def _mount(business: Business, credentials: Any, limits: Limits, faults: FaultInjector) -> FastAPI | None:
    return create_mercadolibre_app(business, account_for(credentials, limits), faults)


SIMULATOR = Simulated(name="mercadolibre", mount=_mount, broken_date="2026-02-30T25:61:00.000-05:00",
                      text_fields=("status",),
                      title="Marketplace (Mercado Libre)", endpoint=lambda credentials: "/mercadolibre/orders/search",
                      opt_in="the business also sells on Mercado Libre (served empty otherwise)",
                      business_options={"mercadolibre": True},
                      credentials=(  # Puente's application at Mercado Libre (its client id and secret) and the first refresh
                                   # token the seller's authorisation gave it (each refresh hands out the next one)
                                   Credential("mercadolibre_client_id", default="4410927365512088"),
                                   Credential("mercadolibre_client_secret", make=_new_client_secret),
                                   Credential("mercadolibre_refresh_token", make=_new_refresh_token)))
