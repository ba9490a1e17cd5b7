"""`puente check` for WooCommerce: the site's REST API, the v3 namespace, the key and its user's rights.

- The site's REST index (``GET /wp-json/``, public) lists the namespaces it serves: ``wc/v3``
  must be among them (WooCommerce 3.5 or later). A 404 there usually means WordPress's "Plain"
  permalinks, under which ``/wp-json/`` does not exist.
- A refused key answers 401 ``woocommerce_rest_authentication_error`` ("Consumer key is
  invalid", "… does not have read permissions"); a key whose WordPress user may not manage the
  store answers 401/403 ``woocommerce_rest_cannot_view``: the first stops everything, the second
  names the resource it cannot read.
"""

from __future__ import annotations

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, failed, first_contact, passed
from puente.sources.http import SourceError
from puente.sources.woocommerce.config import WooCommerceConfig
from puente.sources.woocommerce.connector import WooCommerceConnector
from puente.sources.woocommerce.settings import EXTRA_PARAMS, RESOURCES, SYSTEM

WHERE_TO_FIX = ("WooCommerce > Settings > Advanced > REST API: a key with Read (or Read/Write) permissions, "
                "owned by an Administrator or a Shop manager")


def check(config: WooCommerceConfig) -> list[Finding]:
    connector = WooCommerceConnector(config, **CHECK_HTTP_OPTIONS)
    index_url = config.site + "/wp-json/"
    try:
        index, findings = first_contact(SYSTEM, config.site, lambda: connector.http.request(
            "GET", index_url, obj="REST index"))
        if index is None:
            if "HTTP 404" in findings[-1].message:
                findings[-1] = failed(SYSTEM, "connection", f"{index_url} does not exist: WordPress's REST API is "
                                      "off the path when permalinks are 'Plain'; choose any other structure in "
                                      "Settings > Permalinks")
            return findings
        try:
            namespaces = index.json().get("namespaces") or []
        except (ValueError, AttributeError):
            namespaces = []
        if "wc/v3" not in namespaces:
            findings.append(failed(SYSTEM, "version", f"{config.site} serves no WooCommerce REST API v3 (namespace "
                                   "wc/v3): is WooCommerce 3.5 or later installed and active?"))
            return findings
        findings.append(passed(SYSTEM, "version", "WooCommerce REST API v3 is served"))
        return findings + _access(connector)
    finally:
        connector.close()


def _access(connector: WooCommerceConnector) -> list[Finding]:
    refused = []
    for resource in RESOURCES:
        try:
            connector.http.request("GET", resource.name, obj=resource.name,
                                   params={"per_page": 1, **EXTRA_PARAMS[resource.name]})
        except SourceError as exc:
            if exc.status in (401, 403) and "woocommerce_rest_cannot_view" not in exc.outcome:
                return [failed(SYSTEM, "credentials", f"the REST API key was refused ({exc.outcome}). Make or "
                               f"check it in {WHERE_TO_FIX}")]
            if exc.status not in (401, 403):
                return [failed(SYSTEM, "connection", f"{resource.name} could not be read: {exc.outcome}. "
                               f"{exc.advice}")]
            refused.append(resource.name)
    if len(refused) == len(RESOURCES):
        return [failed(SYSTEM, "rights", f"the key's user may not read the store's data (woocommerce_rest_cannot_"
                       f"view on {', '.join(refused)}): use {WHERE_TO_FIX}")]
    findings = [passed(SYSTEM, "credentials", "the REST API key is accepted")]
    if refused:
        findings.append(failed(SYSTEM, "rights", f"the key's user may not read {', '.join(refused)} "
                               f"(woocommerce_rest_cannot_view): use {WHERE_TO_FIX}"))
    else:
        findings.append(passed(SYSTEM, "rights", "the key reads customers, orders and products"))
    return findings
