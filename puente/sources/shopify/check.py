"""`puente check` for Shopify: the custom app's token, its access scopes and the API version."""

from __future__ import annotations

from urllib.parse import urlsplit

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, failed, first_contact, missing_scopes, passed
from puente.sources.http import SourceError
from puente.sources.shopify.config import ShopifyConfig
from puente.sources.shopify.connector import ShopifyConnector
from puente.sources.shopify.settings import API_VERSION, READ_SCOPES, SCOPES_PATH, SYSTEM, WRITE_SCOPES

WHERE_TO_GRANT = ("the custom app's Admin API access scopes (Shopify admin: Settings > Apps and sales channels > "
                  "Develop apps > the app > Configuration), then reinstall the app and copy the new token")
WHY = {"read_all_orders": "Without read_all_orders Shopify serves only the orders of the last 60 days, so the "
                          "first night would silently miss the older history."}


def check(config: ShopifyConfig) -> list[Finding]:
    shop = config.url.split("/admin/api/")[0]
    connector = ShopifyConnector(config, **CHECK_HTTP_OPTIONS)
    try:
        answer, findings = first_contact(SYSTEM, shop, lambda: connector.http.request(
            "GET", shop + SCOPES_PATH, obj="access scopes"))
        if answer is None:
            return findings
        granted = [s.get("handle") for s in answer.json().get("access_scopes") or [] if isinstance(s, dict)]
        findings.append(passed(SYSTEM, "credentials", "the access token is accepted"))
        findings += missing_scopes(SYSTEM, granted, READ_SCOPES, WRITE_SCOPES, WHERE_TO_GRANT, WHY)
        findings.append(_version(connector, config))
        return findings
    finally:
        connector.close()


def _version(connector: ShopifyConnector, config: ShopifyConfig) -> Finding:
    asked = urlsplit(config.url).path.rstrip("/").rsplit("/", 1)[-1]
    try:
        response = connector.http.request("GET", "customers/count.json", obj="customers")
    except SourceError as exc:
        return failed(SYSTEM, "version", f"could not be read: customers/count.json -> {exc.outcome}")
    served = response.headers.get("X-Shopify-API-Version")
    # A retired version still answers (Shopify falls forward to its oldest supported one), so the
    # night goes on, but fields may have changed under it: said loudly, not blocking.
    if served and served != asked:
        upgrade = (f"leave the version out of the connection's URL (Puente uses {API_VERSION})" if asked != API_VERSION
                   else "upgrade Puente to a release that speaks a supported version")
        return failed(SYSTEM, "version", f"the connection asks for Admin API {asked}, which Shopify has retired "
                      f"(it answered as {served}): {upgrade}; see docs/operations.md, 'Shopify API versions'",
                      blocking=False)
    if asked != API_VERSION:
        return failed(SYSTEM, "version", f"the connection asks for Admin API {asked}, Puente is written for "
                      f"{API_VERSION}: leave the version out of the connection's URL", blocking=False)
    return passed(SYSTEM, "version", f"Admin API {API_VERSION} is served")
