"""`puente check` for Tienda Nube: the store, the token, Puente's User-Agent and the app's scopes.

- ``GET /store`` answers the store's own record (its ``name`` per language, its
  ``main_language``): a 401 means the token is not this store's (or the app was uninstalled,
  which revokes it); a 400 that Tienda Nube refused the User-Agent; a 402 that the store's
  subscription is unpaid, which closes the API; a 404 a wrong store id.
- Each resource read with ``per_page=1``: a 403 names the scope the app lacks
  (``read_customers``, ``read_orders``, ``read_products``), granted when the store installs it.
"""

from __future__ import annotations

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, failed, passed
from puente.sources.http import SourceError
from puente.sources.tiendanube.config import TiendaNubeConfig
from puente.sources.tiendanube.connector import TiendaNubeConnector
from puente.sources.tiendanube.settings import RESOURCES, SYSTEM

REINSTALL = ("the token comes with the app's installation in the store (Mi Tiendanube > Aplicaciones); an app "
             "uninstalled and installed again gets a new one")


def check(config: TiendaNubeConfig) -> list[Finding]:
    connector = TiendaNubeConnector(config, **CHECK_HTTP_OPTIONS)
    try:
        try:
            store = connector.http.request("GET", "store", obj="store")
        except SourceError as exc:
            advice = {400: f"Tienda Nube refused the request: is the User-Agent {config.user_agent!r} the app's "
                           "name with an e-mail address or URL?",
                      401: f"the access token was refused: {REINSTALL}",
                      402: "the store's subscription is unpaid: Tienda Nube closes its API until it is paid",
                      404: f"there is no store {config.store_id} at {config.url}: check the store id"}.get(exc.status)
            if advice:
                check_name = "credentials" if exc.status == 401 else "connection"
                return [failed(SYSTEM, check_name, f"{advice} ({exc.outcome})")]
            if exc.status is None:
                return [failed(SYSTEM, "connection", f"cannot reach {config.url}: {exc.outcome}. Check the URL, "
                               "the network between Airflow and Tienda Nube, and its TLS certificate")]
            return [failed(SYSTEM, "connection", f"{config.url} answered {exc.outcome}. {exc.advice}")]
        try:
            name = store.json().get("name")
        except (ValueError, AttributeError):
            name = None
        shown = next(iter(name.values()), config.store_id) if isinstance(name, dict) and name else config.store_id
        findings = [passed(SYSTEM, "connection", f"store {shown} answers"),
                    passed(SYSTEM, "credentials", "the access token is accepted")]
        return findings + _scopes(connector)
    finally:
        connector.close()


def _scopes(connector: TiendaNubeConnector) -> list[Finding]:
    missing = []
    for resource in RESOURCES:
        try:
            connector.http.request("GET", resource.name, obj=resource.name, params={"per_page": 1, "fields": "id"},
                                   passthrough=(404,))
        except SourceError as exc:
            if exc.status != 403:
                return [failed(SYSTEM, "connection", f"{resource.name} could not be read: {exc.outcome}. "
                               f"{exc.advice}")]
            missing.append(f"read_{resource.name}")
    if missing:
        return [failed(SYSTEM, "rights", f"the app lacks the scope(s) {', '.join(missing)}: add them to the app in "
                       f"the partners' panel and have the store accept them ({REINSTALL})")]
    return [passed(SYSTEM, "rights", "the app reads customers, orders and products")]
