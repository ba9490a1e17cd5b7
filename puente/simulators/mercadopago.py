"""Mercado Pago's payments API, served from the simulated business's payments.

What it reproduces, per Mercado Pago's developer docs (API reference: "Search payments",
``GET /v1/payments/search``, and "Get payment", ``GET /v1/payments/{id}``; "Received payments
management"; the search's error list):

- Bearer authentication with the access token (or ``access_token`` in the query, as the docs'
  older examples send it). No token: 401 ``{"message": "must provide your access_token to
  proceed", "error": "unauthorized", "status": 401, "cause": []}``; a wrong one: 401 ``invalid
  access token`` (``cause`` code 2, "invalid_token").
- ``/v1/payments/search``: ``range`` (``date_created``, ``date_last_updated``, ``date_approved``,
  ``money_release_date``; default ``date_created``) between ``begin_date`` (default
  ``NOW-3MONTHS``) and ``end_date`` (default ``NOW``), both inclusive, absolute (ISO 8601, a date
  alone, milliseconds and offset optional) or relative (``NOW-30DAYS``, ``NOW-1MONTH``,
  ``NOW-12HOURS``); ``sort`` (``date_approved``, ``date_created``, ``date_last_updated``, ``id``,
  ``money_release_date``; ties by id) and ``criteria`` (``asc``/``desc``, default ``desc``);
  ``external_reference`` and ``status`` as exact filters; ``offset`` (default 0) and ``limit``
  (default 30). The answer: ``{"paging": {"total", "limit", "offset"}, "results": [...]}``.
- A wrong value answers 400 in Mercado Pago's error shape (``{"message", "error": "bad_request",
  "status": 400, "cause": [{"code", "description"}]}``) with the search's codes: 1001 for a date
  that cannot be read, 1003 an unknown ``sort``, 1004 an unknown ``criteria``, and 1000 ("Number
  of rows exceeded the limits") for ``limit`` above ``MAX_LIMIT`` or ``offset + limit`` above
  ``offset_cap`` (the docs list the code without the figures; 1,000 and 10,000 here, as
  integrators report them; tests lower the cap).
- ``/v1/payments/{id}``: one payment, or 404 ``{"message": "Payment not found", "error":
  "not_found", "status": 404, "cause": [{"code": 2000, ...}]}``.
- Dates with milliseconds and the -04:00 offset; ``id`` a number; payments never deleted.
- Injected faults (``Faults``, service ``mercadopago``): 429 with Mercado Pago's error JSON
  (``too_many_requests``) and a ``Retry-After``, 500 ``internal_error``, hangs and dropped
  connections, malformed payments (no id, a broken ``date_last_updated``, a wrong type, a bad
  encoding), changes while paging and late updates.

Departures from the real API: the search serves every payment however old (the real one, the
last twelve months: the simulated account is younger than that), the token is not tied to an
application's scopes, and nothing is writable.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from puente.simulators.business import Business
from puente.simulators.limits import FaultInjector, Limits
from puente.simulators.systems import Credential, Simulated
from puente.simulators.wire import WireJSON, drawn_fault, local_path, service_app

SEARCH = "/v1/payments/search"
RANGES = ("date_created", "date_last_updated", "date_approved", "money_release_date")
SORTS = ("date_approved", "date_created", "date_last_updated", "id", "money_release_date")
DEFAULT_LIMIT, MAX_LIMIT, OFFSET_CAP = 30, 1000, 10_000
_RELATIVE = re.compile(r"^NOW(?:-(\d+)(MINUTES?|HOURS?|DAYS?|WEEKS?|MONTHS?|YEARS?))?$")
_UNIT_DAYS = {"MINUTE": 1 / 1440, "HOUR": 1 / 24, "DAY": 1, "WEEK": 7}
_UNIT_MONTHS = {"MONTH": 1, "YEAR": 12}


class MPError(Exception):
    """An error answer in Mercado Pago's shape: ``{"message", "error", "status", "cause"}``."""

    def __init__(self, status: int, error: str, message: str, code: int | str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.code, self.headers = status, error, message, code, headers

    def response(self) -> JSONResponse:
        cause = [] if self.code is None else [{"code": self.code, "description": self.message, "data": None}]
        return JSONResponse({"message": self.message, "error": self.error, "status": self.status, "cause": cause},
                            status_code=self.status, headers=self.headers)


def bad(code: int, message: str) -> MPError:
    return MPError(400, "bad_request", message, code)


def moment(value: str, now: datetime) -> datetime:
    """A ``begin_date``/``end_date``: relative to ``now`` or an ISO 8601 date (UTC when it has no zone)."""
    value = value.strip()
    relative = _RELATIVE.match(value.upper())
    if relative:
        amount, unit = relative.groups()
        unit = (unit or "DAY").rstrip("S")
        if unit in _UNIT_MONTHS:  # calendar months: NOW-12MONTHS is this day a year ago
            months = now.year * 12 + now.month - 1 - int(amount) * _UNIT_MONTHS[unit]
            year, month = divmod(months, 12)
            last_day = (date(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
            return now.replace(year=year, month=month + 1, day=min(now.day, last_day))
        return now - timedelta(days=int(amount or 0) * _UNIT_DAYS[unit])
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad(1001, "Date format must be yyyy-MM-dd'T'HH:mm:ss.SSSZ") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(params: Any, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise bad(1, "Params Error")
    return int(raw)


def create_mercadopago_app(business: Business, token: str, faults: FaultInjector,
                           offset_cap: int = OFFSET_CAP) -> FastAPI:
    """The payments API, to mount under ``/mercadopago`` (empty unless ``Business(mercadopago=True)``)."""
    app = service_app("Simulated Mercado Pago API", MPError)

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next):
        path, fault, broken = await drawn_fault(request, faults)
        if broken is not None:
            return broken
        if fault == "429":
            return MPError(429, "too_many_requests", "Too many requests", headers={"Retry-After": "2"}).response()
        if fault == "5xx":
            return MPError(500, "internal_error", "Internal server error").response()
        header = request.headers.get("authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else request.query_params.get("access_token")
        if not given:
            return MPError(401, "unauthorized", "must provide your access_token to proceed").response()
        if given != token:
            return MPError(401, "unauthorized", "invalid access token", "invalid_token").response()
        return await call_next(request)

    @app.get(SEARCH)
    async def search(request: Request) -> Response:
        params = request.query_params
        path = local_path(request)
        for mutation in faults.mutations(path):
            pid = faults.pick(business.ids("mercadopago", "payments"))
            if pid is not None:
                business.touch("mercadopago", "payments", pid,
                               late_by=faults.late_by_seconds if mutation == "late" else 0.0)
        field = params.get("range", "date_created")
        if field not in RANGES:
            raise bad(1, "Params Error")
        sort, criteria = params.get("sort", "date_created"), params.get("criteria", "desc")
        if sort not in SORTS:
            raise bad(1003, "Invalid sort value.")
        if criteria not in ("asc", "desc"):
            raise bad(1004, "Invalid criteria value.")
        offset, limit = _int(params, "offset", 0), _int(params, "limit", DEFAULT_LIMIT)
        if limit > MAX_LIMIT or offset + limit > offset_cap:
            raise bad(1000, "Number of rows exceeded the limits.")
        now = business.now()
        begin = moment(params.get("begin_date", "NOW-3MONTHS"), now)
        end = moment(params.get("end_date", "NOW"), now)
        exact = {k: params[k] for k in ("external_reference", "status") if k in params}

        def scan() -> list[dict]:
            found = []
            for payment in business.live("mercadopago", "payments"):
                stamp = payment.get(field)
                try:
                    at = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
                except ValueError:
                    at = None
                if at is not None and begin <= at <= end and all(payment.get(k) == v for k, v in exact.items()):
                    found.append(payment)
            return sorted(found, key=lambda p: (p.get(sort) or "", p["id"]) if sort != "id" else p["id"],
                          reverse=criteria == "desc")
        key = ("mercadopago", field, begin, end, sort, criteria, tuple(sorted(exact.items())))
        matches = business.memoised(key, scan)
        page = [faults.serve("payments", p, path) for p in matches[offset: offset + limit]]
        return WireJSON({"paging": {"total": len(matches), "limit": limit, "offset": offset}, "results": page})

    @app.get("/v1/payments/{pid}")
    async def single(pid: str) -> JSONResponse:
        payment = business.mercadopago["payments"].get(int(pid)) if pid.isdigit() else None
        if payment is None:
            raise MPError(404, "not_found", "Payment not found", 2000)
        return WireJSON(payment)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def no_route(path: str) -> Response:
        raise MPError(404, "not_found", f"resource /{path} not found")

    return app


def _new_token() -> str:
    # A production access token: APP_USR-<application>-<date>-<hash>-<user id>
    return (f"APP_USR-{secrets.randbelow(10**16):016d}-{secrets.randbelow(10**6):06d}-{secrets.token_hex(16)}"
            f"-{secrets.randbelow(10**9):09d}")


def _mount(business: Business, credentials: Any, limits: Limits, faults: FaultInjector) -> FastAPI | None:
    return create_mercadopago_app(business, credentials.mercadopago_token, faults)


SIMULATOR = Simulated(name="mercadopago", mount=_mount, broken_date="2026-02-30T25:61:00.000-04:00",
                      text_fields=("description",),
                      title="Payments (Mercado Pago)", endpoint=lambda credentials: "/mercadopago/v1/payments/search",
                      opt_in="the business is also paid through Mercado Pago: the shop's checkout and invoices' payment links (served empty otherwise)",
                      business_options={"mercadopago": True},
                      credentials=(Credential("mercadopago_token", make=_new_token),))
