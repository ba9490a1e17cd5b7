"""One web app serving every simulated system and an admin API for tests and the demo.

``create_app(business, credentials)`` mounts the simulator of each system of the registry under
``/<system>`` (``puente.simulators.systems``: each declares itself in its own module,
``puente/simulators/<system>.py``): Odoo under ``/odoo``, HubSpot under ``/hubspot``, Shopify under
``/shopify``, and so on. The systems a business runs only when asked are served empty otherwise
(``Business(woocommerce=True, tiendanube=True, mercadopago=True, mercadolibre=True, stripe=True)``);
a business whose sales team runs Salesforce (``Business(crm="salesforce")``) has its org under
``/salesforce`` and no HubSpot. So a connector's base URL is e.g. ``http://127.0.0.1:8765/hubspot``
where in production it would be ``https://api.hubapi.com``. The tokens' scopes are part of the
credentials (``PUENTE_SIM_HUBSPOT_SCOPES``, ``PUENTE_SIM_SHOPIFY_SCOPES``, comma-separated; every
scope Puente needs by default), so a connection check can be tried against a token that lacks one. The admin API under ``/_sim`` is the
simulator's own (no real service has it) and needs no credentials:

- ``GET /_sim/state``: the simulated day and how many records each system holds;
- ``POST /_sim/advance``: simulate one more day, or ``{"days": n}``; answers what changed;
- ``GET /_sim/truth``: the ground truth, i.e. which person and order each record belongs to;
- ``GET /_sim/integration`` (``?since=YYYY-MM-DD``): what a correct integration would have done,
  to measure Puente against: per web order the ERP sale order it should have (customer, lines,
  quantities, prices, state) and whether a person keyed it in (when, with which mistakes), the
  same per won deal, and per shop product the ERP free stock the shop should show.

Credentials are always passed in: ``Credentials.from_env()`` reads ``PUENTE_SIM_*`` variables
and generates what is missing with ``secrets``; nothing secret is written in the code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import field, fields, make_dataclass
from datetime import date
from email.utils import format_datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from puente.simulators.business import Business
from puente.simulators.limits import Faults, Limits
from puente.simulators.systems import Credential, simulated

MAX_ADVANCE_DAYS = 3660


class _FromEnv:
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> tuple[Any, list[str]]:
        """Credentials from ``PUENTE_SIM_*``; the names of the secrets that were generated instead."""
        environ = os.environ if environ is None else environ
        given: dict[str, Any] = {name: environ[var] for name, var in ENV.items() if environ.get(var)}
        for name, var in SCOPES_ENV.items():
            if var in environ:
                given[name] = tuple(s.strip() for s in environ[var].split(",") if s.strip())
        generated = [ENV[name] for name in SECRETS if name not in given]
        return cls(**given), generated


def _field(credential: Credential) -> tuple[str, type, Any]:
    metadata = {"env": credential.env}
    if credential.make is not None:  # a secret: drawn when not given, never in a repr
        return credential.name, str, field(default_factory=credential.make, repr=False, metadata=metadata)
    return credential.name, type(credential.default), field(default=credential.default, metadata=metadata)


_DECLARED = [credential for system in simulated() for credential in system.credentials]
Credentials = make_dataclass("Credentials", [_field(c) for c in _DECLARED], bases=(_FromEnv,), frozen=True)
Credentials.__module__ = __name__
Credentials.__doc__ = """What clients must present, a field per credential each simulator declares
(``Simulated.credentials`` in ``puente/simulators/<system>.py``): Odoo's database, login and API
key, HubSpot's and Shopify's tokens and the scopes they were granted, WooCommerce's consumer key
and secret and the key's permissions, the Tienda Nube store's token for Puente's app and its
scopes, and so on. ``Credentials.from_env()`` reads them from ``PUENTE_SIM_<FIELD>``."""

# Each credential's variable, PUENTE_SIM_<FIELD> (``PUENTE_SIM_SHOPIFY_TOKEN``); the secrets are the
# fields kept out of repr; the tokens' scopes, comma-separated (default: every scope Puente needs).
_FIELDS = [f for f in fields(Credentials) if f.metadata.get("env", True)]
ENV = {f.name: f"PUENTE_SIM_{f.name.upper()}" for f in _FIELDS if not f.name.endswith("_scopes")}
SECRETS = tuple(f.name for f in _FIELDS if not f.repr)
SCOPES_ENV = {f.name: f"PUENTE_SIM_{f.name.upper()}" for f in _FIELDS if f.name.endswith("_scopes")}


class BusinessClock:
    """Dates every answer (HTTP ``Date``, as real services do) with the simulated business's clock."""

    def __init__(self, app, business: Business):
        self.app, self.business = app, business

    async def __call__(self, scope, receive, send):
        async def dated(message):
            if message["type"] == "http.response.start":
                stamp = format_datetime(self.business.now(), usegmt=True).encode()
                message["headers"] = [*(h for h in message.get("headers", []) if h[0].lower() != b"date"),
                                      (b"date", stamp)]
            await send(message)

        await self.app(scope, receive, dated if scope["type"] == "http" else send)


def create_app(business: Business, credentials: Credentials, limits: Limits | None = None,
               faults: Faults | None = None) -> FastAPI:
    """The simulator of every registered system over ``business`` (``puente.simulators.systems``),
    each under ``/<system>``, plus the ``/_sim`` admin API."""
    limits, faults = limits or Limits(), faults or Faults()
    app = FastAPI(title="Puente source simulators", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BusinessClock, business=business)
    for system in simulated():  # each source's simulator (puente/simulators/<system>.py, its SIMULATOR)
        served = system.mount(business, credentials, limits, faults.injector(system.name))
        if served is not None:
            app.mount(f"/{system.name}", served)

    def state() -> dict:
        return {"today": business.today.isoformat(), "now": business.now().isoformat(),
                "seed": business.seed, "counts": business.counts()}

    @app.get("/_sim/state")
    async def get_state() -> dict:
        return state()

    @app.post("/_sim/advance")
    async def advance(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            days = int((await request.json()).get("days", 1)) if body else 1
        except (ValueError, AttributeError):
            return JSONResponse({"error": 'send {"days": n} with n a whole number'}, status_code=400)
        if not 1 <= days <= MAX_ADVANCE_DAYS:
            return JSONResponse({"error": f"days must be between 1 and {MAX_ADVANCE_DAYS}"}, status_code=400)
        summaries = [business.advance_day() for _ in range(days)]
        return JSONResponse({**state(), "days": summaries})

    @app.get("/_sim/truth")
    async def truth() -> dict:
        return {"today": business.today.isoformat(), "records": business.truth(), "people": business.people_truth()}

    @app.get("/_sim/integration")
    async def integration(since: str | None = None) -> JSONResponse:
        try:
            day = date.fromisoformat(since) if since else None
        except ValueError:
            return JSONResponse({"error": f"since must be a date, YYYY-MM-DD; got {since!r}"}, status_code=400)
        return JSONResponse(business.integration_truth(day))

    return app
