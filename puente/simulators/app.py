"""One web app serving the three simulated systems and an admin API for tests and the demo.

``create_app(business, credentials)`` mounts Odoo under ``/odoo``, HubSpot under ``/hubspot``,
Shopify under ``/shopify``, WooCommerce under ``/woocommerce`` and Tienda Nube under ``/tiendanube``
(their stores are empty unless the business runs them: ``Business(woocommerce=True, tiendanube=True)``)
and Mercado Pago under ``/mercadopago`` (no payments unless ``Business(mercadopago=True)``), Stripe under
``/stripe`` (none unless ``Business(woocommerce=True, stripe=True)``),
Mercado Libre under ``/mercadolibre`` (no sales unless ``Business(mercadolibre=True)``); a business
whose sales team runs Salesforce (``Business(crm="salesforce")``) has its org under ``/salesforce``
(empty otherwise) and no HubSpot (the connected app's consumer key and secret are the credentials), so a
connector's base URL is e.g. ``http://127.0.0.1:8765/hubspot``
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
from dataclasses import dataclass, field
from datetime import date
from email.utils import format_datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from puente.simulators.business import Business
from puente.simulators.hubspot import SCOPES as HUBSPOT_SCOPES
from puente.simulators.hubspot import create_hubspot_app
from puente.simulators.limits import Faults, Limits
from puente.simulators.mercadolibre import account_for, create_mercadolibre_app
from puente.simulators.mercadopago import create_mercadopago_app
from puente.simulators.odoo import create_odoo_app
from puente.simulators.salesforce import create_salesforce_app
from puente.simulators.shopify import SCOPES as SHOPIFY_SCOPES
from puente.simulators.shopify import create_shopify_app
from puente.simulators.stripe import create_stripe_app
from puente.simulators.tiendanube import SCOPES as TIENDANUBE_SCOPES
from puente.simulators.tiendanube import create_tiendanube_app
from puente.simulators.woocommerce import create_woocommerce_app

ENV = {"odoo_db": "PUENTE_SIM_ODOO_DB", "odoo_login": "PUENTE_SIM_ODOO_LOGIN",
       "odoo_api_key": "PUENTE_SIM_ODOO_API_KEY", "hubspot_token": "PUENTE_SIM_HUBSPOT_TOKEN",
       "shopify_token": "PUENTE_SIM_SHOPIFY_TOKEN", "woocommerce_key": "PUENTE_SIM_WOOCOMMERCE_KEY",
       "woocommerce_secret": "PUENTE_SIM_WOOCOMMERCE_SECRET", "tiendanube_token": "PUENTE_SIM_TIENDANUBE_TOKEN",
       "mercadopago_token": "PUENTE_SIM_MERCADOPAGO_TOKEN",
       "mercadolibre_client_id": "PUENTE_SIM_MERCADOLIBRE_CLIENT_ID",
       "mercadolibre_client_secret": "PUENTE_SIM_MERCADOLIBRE_CLIENT_SECRET",
       "mercadolibre_refresh_token": "PUENTE_SIM_MERCADOLIBRE_REFRESH_TOKEN",
       "stripe_key": "PUENTE_SIM_STRIPE_KEY",
       "salesforce_client_id": "PUENTE_SIM_SALESFORCE_CLIENT_ID",
       "salesforce_client_secret": "PUENTE_SIM_SALESFORCE_CLIENT_SECRET"}
SECRETS = ("odoo_api_key", "hubspot_token", "shopify_token", "woocommerce_key", "woocommerce_secret",
           "tiendanube_token", "mercadopago_token", "mercadolibre_client_secret", "mercadolibre_refresh_token",
           "stripe_key", "salesforce_client_id", "salesforce_client_secret")
# The tokens' scopes, comma-separated (default: every scope Puente needs).
SCOPES_ENV = {"hubspot_scopes": "PUENTE_SIM_HUBSPOT_SCOPES", "shopify_scopes": "PUENTE_SIM_SHOPIFY_SCOPES",
              "tiendanube_scopes": "PUENTE_SIM_TIENDANUBE_SCOPES"}
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
    woocommerce_permissions: str = "read"
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
    """The simulators of the three systems over ``business``, plus the ``/_sim`` admin API."""
    limits, faults = limits or Limits(), faults or Faults()
    app = FastAPI(title="Puente source simulators", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BusinessClock, business=business)
    app.mount("/odoo", create_odoo_app(business, credentials.odoo_db, credentials.odoo_login,
                                       credentials.odoo_api_key, faults.injector("odoo")))
    # Salesforce's org is empty unless the sales team runs it (``Business(crm="salesforce")``); HubSpot is
    # then not served at all (the sales team's book would show there in HubSpot's shape).
    app.mount("/salesforce", create_salesforce_app(business, credentials.salesforce_client_id,
                                                   credentials.salesforce_client_secret, limits,
                                                   faults.injector("salesforce")))
    if business.crm_system != "salesforce":
        app.mount("/hubspot", create_hubspot_app(business, credentials.hubspot_token, limits,
                                                 faults.injector("hubspot"), credentials.hubspot_scopes))
    app.mount("/shopify", create_shopify_app(business, credentials.shopify_token, limits,
                                             faults.injector("shopify"), credentials.shopify_scopes))
    app.mount("/woocommerce", create_woocommerce_app(business, credentials.woocommerce_key,
                                                     credentials.woocommerce_secret, faults.injector("woocommerce"),
                                                     credentials.woocommerce_permissions))
    app.mount("/tiendanube", create_tiendanube_app(business, credentials.tiendanube_token, limits,
                                                   faults.injector("tiendanube"), credentials.tiendanube_scopes))
    app.mount("/mercadopago", create_mercadopago_app(business, credentials.mercadopago_token,
                                                     faults.injector("mercadopago")))
    app.mount("/mercadolibre", create_mercadolibre_app(business, account_for(credentials, limits),
                                                       faults.injector("mercadolibre")))
    app.mount("/stripe", create_stripe_app(business, credentials.stripe_key, faults.injector("stripe")))

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
