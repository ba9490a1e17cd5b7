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
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from email.utils import format_datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from puente.simulators.business import Business
from puente.simulators.hubspot import SCOPES as HUBSPOT_SCOPES
from puente.simulators.limits import Faults, Limits
from puente.simulators.shopify import SCOPES as SHOPIFY_SCOPES
from puente.simulators.systems import simulated
from puente.simulators.tiendanube import SCOPES as TIENDANUBE_SCOPES

MAX_ADVANCE_DAYS = 3660


def _odoo_key() -> str:
    return secrets.token_hex(20)  # Odoo API keys are 40 hex characters


def _hubspot_token() -> str:
    return f"pat-na1-{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"


def _shopify_token() -> str:
    return f"shpat_{secrets.token_hex(16)}"


def _woocommerce_key() -> str:
    return f"ck_{secrets.token_hex(20)}"  # WooCommerce's keys: ck_/cs_ and 40 hex characters


def _woocommerce_secret() -> str:
    return f"cs_{secrets.token_hex(20)}"


def _tiendanube_token() -> str:
    return secrets.token_hex(20)  # a Tienda Nube access token: 40 hex characters


def _mercadopago_token() -> str:
    # A production access token: APP_USR-<application>-<date>-<hash>-<user id>
    return (f"APP_USR-{secrets.randbelow(10**16):016d}-{secrets.randbelow(10**6):06d}-{secrets.token_hex(16)}"
            f"-{secrets.randbelow(10**9):09d}")


def _mercadolibre_refresh_token() -> str:
    return f"TG-{secrets.token_hex(12)}-{secrets.randbelow(10**9):09d}"  # a refresh token: TG-<hash>-<user id>


def _stripe_key() -> str:
    # A live secret key: sk_live_ and 99 letters and digits
    return "sk_live_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(99))


def _salesforce_client_id() -> str:
    # A connected app's consumer key: 3MVG9 and 80 more characters of letters, digits, dots and underscores
    return "3MVG9" + secrets.token_urlsafe(60).replace("-", ".")[:80]


def _salesforce_client_secret() -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(64)).lstrip("0").rjust(64, "1")


@dataclass(frozen=True)
class Credentials:
    """What clients must present: Odoo database, login and API key; HubSpot and Shopify tokens, and
    the scopes those tokens were granted (a private app's, a custom app's); WooCommerce's REST API
    key (consumer key and secret) and its permissions (read, write or read_write); the Tienda Nube
    store's access token for Puente's app and the scopes the store granted it."""

    odoo_db: str = "puente"
    odoo_login: str = "admin@puente.example"
    odoo_api_key: str = field(default_factory=_odoo_key, repr=False)
    hubspot_token: str = field(default_factory=_hubspot_token, repr=False)
    shopify_token: str = field(default_factory=_shopify_token, repr=False)
    hubspot_scopes: tuple[str, ...] = HUBSPOT_SCOPES
    shopify_scopes: tuple[str, ...] = SHOPIFY_SCOPES
    woocommerce_key: str = field(default_factory=_woocommerce_key, repr=False)
    woocommerce_secret: str = field(default_factory=_woocommerce_secret, repr=False)
    woocommerce_permissions: str = field(default="read", metadata={"env": False})  # no variable: the tests set it
    tiendanube_token: str = field(default_factory=_tiendanube_token, repr=False)
    tiendanube_scopes: tuple[str, ...] = TIENDANUBE_SCOPES
    mercadopago_token: str = field(default_factory=_mercadopago_token, repr=False)
    # Puente's application at Mercado Libre (its client id and secret) and the first refresh token the
    # seller's authorisation gave it (each refresh hands out the next one).
    mercadolibre_client_id: str = "4410927365512088"
    mercadolibre_client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    mercadolibre_refresh_token: str = field(default_factory=_mercadolibre_refresh_token, repr=False)
    stripe_key: str = field(default_factory=_stripe_key, repr=False)
    salesforce_client_id: str = field(default_factory=_salesforce_client_id, repr=False)
    salesforce_client_secret: str = field(default_factory=_salesforce_client_secret, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> tuple[Credentials, list[str]]:
        """Credentials from ``PUENTE_SIM_*``; the names of the secrets that were generated instead."""
        environ = os.environ if environ is None else environ
        given: dict[str, Any] = {name: environ[var] for name, var in ENV.items() if environ.get(var)}
        for name, var in SCOPES_ENV.items():
            if var in environ:
                given[name] = tuple(s.strip() for s in environ[var].split(",") if s.strip())
        generated = [ENV[name] for name in SECRETS if name not in given]
        return cls(**given), generated


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
