"""`puente check` against the simulators: what each system is asked, and the words the operator reads."""

from __future__ import annotations

import dataclasses
from datetime import date
from urllib.parse import urlsplit

import pytest

from puente import cli
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.simulators import odoo as odoo_simulator
from puente.sources import checks, registry
from puente.sources.hubspot.settings import READ_SCOPES as HUBSPOT_READ
from puente.sources.shopify.settings import READ_SCOPES as SHOPIFY_READ


@pytest.fixture(scope="module")
def business() -> Business:
    return Business(seed=3, customers=20, start=date(2026, 11, 16), history_days=10)


def _check(business: Business, credentials: Credentials, **replace) -> dict[str, list[checks.Finding]]:
    with SimulatorServer(create_app(business, credentials)) as server:
        configs = registry.simulator_configs(server.base_url, credentials)
        configs = {name: dataclasses.replace(config, **replace.get(name, {})) for name, config in configs.items()}
        findings = checks.check_all(configs)
    by_system: dict[str, list[checks.Finding]] = {}
    for finding in findings:
        by_system.setdefault(finding.system, []).append(finding)
    return by_system


def _problems(findings: list[checks.Finding]) -> list[tuple[str, str, bool]]:
    return [(f.check, f.message, f.blocking) for f in findings if not f.ok]


def _check_against_the_simulators(business, monkeypatch, credentials: Credentials, **settings: str) -> int:
    """`puente check` of Odoo, HubSpot and Shopify, configured for the simulators, then `settings`."""
    with SimulatorServer(create_app(business, credentials)) as server:
        for config in registry.simulator_configs(server.base_url, credentials).values():
            for name, value in config.to_env().items():
                monkeypatch.setenv(name, value)
        for name, value in {"PUENTE_SYSTEMS": "odoo,hubspot,shopify", **settings}.items():
            monkeypatch.setenv(name, value)
        return cli.main(["check"])


def test_cli_reports_every_system_fit_with_the_default_grants(business, monkeypatch, capsys):
    credentials = Credentials()
    status = _check_against_the_simulators(business, monkeypatch, credentials)
    out = capsys.readouterr().out
    assert status == 0, out
    lines = out.splitlines()
    assert all(line.split()[0] == "ok" for line in lines[:-1]), out
    assert lines[-1] == "every system can be read"
    for system in ("Odoo", "HubSpot", "Shopify"):
        assert f"{system} " in out and f"settings from environment PUENTE_{system.upper()}_*" in out
    assert "Admin API 2026-10 is served" in out and "Odoo 17.0" in out
    for secret in (credentials.odoo_api_key, credentials.hubspot_token, credentials.shopify_token):
        assert secret not in out


def test_missing_scopes_are_named_with_where_to_grant_them(business):
    credentials = Credentials(
        hubspot_scopes=tuple(s for s in Credentials().hubspot_scopes
                             if s not in ("crm.objects.deals.read", "crm.objects.contacts.write")),
        shopify_scopes=tuple(s for s in Credentials().shopify_scopes if s not in ("read_all_orders", "write_inventory")))
    found = _check(business, credentials)
    hubspot, shopify = _problems(found["HubSpot"]), _problems(found["Shopify"])
    assert [(c, b) for c, _, b in hubspot] == [("scopes", True), ("scopes", False)]
    assert "lacks crm.objects.deals.read, needed to read" in hubspot[0][1] and "Private Apps" in hubspot[0][1]
    assert "lacks crm.objects.contacts.write, needed for the activations" in hubspot[1][1]
    assert [(c, b) for c, _, b in shopify] == [("scopes", True), ("scopes", False)]
    assert "read_all_orders" in shopify[0][1] and "last 60 days" in shopify[0][1]
    assert "write_inventory" in shopify[1][1]
    assert _problems(found["Odoo"]) == []
    assert {f.system for f in checks.blocking([f for fs in found.values() for f in fs])} == {"HubSpot", "Shopify"}


def test_refused_credentials_and_an_unreachable_system(business):
    credentials = Credentials()
    found = _check(business, credentials, odoo={"api_key": "not-the-key"}, hubspot={"token": "pat-na1-wrong"},
                   shopify={"url": "http://127.0.0.1:9/admin/api/2026-10"})
    assert [(c, b) for c, _, b in _problems(found["Odoo"])] == [("credentials", True)]
    assert "refused" in _problems(found["Odoo"])[0][1] and "API key" in _problems(found["Odoo"])[0][1]
    assert [(c, b) for c, _, b in _problems(found["HubSpot"])] == [("credentials", True)]
    assert "does not accept the token" in _problems(found["HubSpot"])[0][1]
    assert [(c, b) for c, _, b in _problems(found["Shopify"])] == [("connection", True)]
    assert "cannot reach http://127.0.0.1:9" in _problems(found["Shopify"])[0][1]
    text = checks.report([f for fs in found.values() for f in fs])
    assert "not-the-key" not in text and "pat-na1-wrong" not in text


def test_missing_odoo_rights_name_the_group_to_give(business, monkeypatch):
    access = {model: set(ops) for model, ops in odoo_simulator.ACCESS.items()}
    access["stock.quant"] -= {"read"}
    access["sale.order"] -= {"create"}
    monkeypatch.setattr(odoo_simulator, "ACCESS", access)
    problems = _problems(_check(business, Credentials())["Odoo"])
    assert [(c, b) for c, _, b in problems] == [("rights", True), ("rights", False)]
    assert "may not read stock.quant, needed to read" in problems[0][1] and "Inventory: User" in problems[0][1]
    assert "may not create sale.order" in problems[1][1] and "Sales: User" in problems[1][1]


def test_a_retired_shopify_version_is_said_without_stopping_the_night(business):
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        config = registry.simulator_configs(server.base_url, credentials)["shopify"]
        old = dataclasses.replace(config, url=config.url.replace("2026-10", "2024-01"))
        findings = checks.check_all({"shopify": old})
    (problem,) = _problems(findings)
    assert problem[0] == "version" and not problem[2]
    assert "asks for Admin API 2024-01, which Shopify has retired (it answered as 2026-01)" in problem[1]


def test_a_system_without_settings_is_reported_not_raised(monkeypatch):
    for name in ("PUENTE_HUBSPOT_URL", "PUENTE_HUBSPOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    findings = checks.check_all(checks.read_configs(["hubspot"], lambda n: registry.source(n).config.from_env()))
    assert [(f.system, f.check, f.ok, f.blocking) for f in findings] == [("HubSpot", "configuration", False, True)]
    assert "PUENTE_HUBSPOT" in findings[0].message


def test_the_required_scopes_cover_what_the_connectors_read():
    from puente.simulators.hubspot import required_scopes

    needed = {scope for o in registry.source("hubspot").object_names
              for scope in required_scopes("GET", f"/crm/v3/objects/{o}")}  # tickets: "tickets"
    assert needed and needed <= set(HUBSPOT_READ)
    assert {f"read_{r}" for r in registry.source("shopify").object_names} <= set(SHOPIFY_READ)


def test_woocommerce_check_names_the_key_and_the_api(business, monkeypatch):
    from puente.simulators import woocommerce as woo_simulator

    credentials = Credentials()
    fit = _check(business, credentials)["WooCommerce"]
    assert _problems(fit) == [] and [f.check for f in fit] == [
        "configuration", "connection", "version", "credentials", "rights"]
    assert "WooCommerce REST API v3 is served" in fit[2].message

    found = _check(business, credentials, woocommerce={"consumer_secret": "cs_not-the-secret"})["WooCommerce"]
    ((check, message, blocking),) = _problems(found)
    assert (check, blocking) == ("credentials", True)
    assert "Consumer secret is invalid" in message and "Settings > Advanced > REST API" in message
    assert "cs_not-the-secret" not in checks.report(found) and credentials.woocommerce_key not in checks.report(found)

    write_only = _problems(_check(business, dataclasses.replace(credentials, woocommerce_permissions="write"))[
        "WooCommerce"])
    assert [c for c, _, _ in write_only] == ["credentials"] and "does not have read permissions" in write_only[0][1]

    monkeypatch.setattr(woo_simulator, "NAMESPACES", ["wp/v2", "wc/v2"])  # WooCommerce too old, or switched off
    ((check, message, _),) = _problems(_check(business, credentials)["WooCommerce"])
    assert check == "version" and "no WooCommerce REST API v3" in message


def test_a_site_without_its_rest_path_points_at_the_permalinks(business):
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        config = registry.simulator_configs(server.base_url, credentials)["woocommerce"]
        nowhere = dataclasses.replace(config, url=f"{server.base_url}/nothing-here/wp-json/wc/v3")
        ((check, message, blocking),) = _problems(checks.check_all({"woocommerce": nowhere}))
    assert (check, blocking) == ("connection", True) and "Settings > Permalinks" in message


def test_tiendanube_check_names_the_token_and_the_scopes(business):
    credentials = Credentials()
    fit = _check(business, credentials)["Tienda Nube"]
    assert _problems(fit) == [] and [f.check for f in fit] == ["configuration", "connection", "credentials", "rights"]
    assert "Casa Andina Outlet" in fit[1].message

    found = _check(business, credentials, tiendanube={"token": "not-the-token"})["Tienda Nube"]
    ((check, message, blocking),) = _problems(found)
    assert (check, blocking) == ("credentials", True)
    assert "Invalid access token" in message and "Aplicaciones" in message
    assert "not-the-token" not in checks.report(found) and credentials.tiendanube_token not in checks.report(found)

    no_orders = dataclasses.replace(credentials, tiendanube_scopes=("read_customers", "read_products"))
    ((check, message, _),) = _problems(_check(business, no_orders)["Tienda Nube"])
    assert check == "rights" and "read_orders" in message and "read_customers" not in message


def _elsewhere(url: str) -> str:
    """The same base URL on a host of the network, over plain http://, which the HTTP client refuses."""
    return urlsplit(url)._replace(scheme="http", netloc="10.0.0.1:9").geturl()


def test_a_url_the_http_client_refuses_fails_each_system_and_stops_none(business, fresh_db, monkeypatch):
    monkeypatch.delenv("PUENTE_ALLOW_HTTP_HOSTS", raising=False)
    credentials = Credentials()
    configs = {name: dataclasses.replace(config, url=_elsewhere(config.url))
               for name, config in registry.simulator_configs("http://127.0.0.1:9", credentials).items()}
    assert len(configs) == len(registry.SOURCES)  # every system has a base URL
    findings = checks.check_all(configs, fresh_db)
    for name in configs:
        title = registry.source(name).title
        mine = [(f.check, f.ok, f.blocking) for f in findings if f.system == title]
        assert mine == [("configuration", True, True), ("connection", False, True)], name
        (problem,) = [f for f in findings if f.system == title and not f.ok]
        assert "http://10.0.0.1:9" in problem.message and "PUENTE_ALLOW_HTTP_HOSTS=10.0.0.1" in problem.message


def test_cli_reports_a_refused_url_as_one_fail_and_checks_the_other_systems(business, monkeypatch, capsys):
    monkeypatch.delenv("PUENTE_ALLOW_HTTP_HOSTS", raising=False)
    status = _check_against_the_simulators(business, monkeypatch, Credentials(),
                                           PUENTE_HUBSPOT_URL="http://10.0.0.1:9")
    out = capsys.readouterr().out
    assert status == 1, out
    lines = out.splitlines()
    (fail,) = [line for line in lines if line.split()[0] != "ok"][:-1]
    assert fail.split()[:3] == ["FAIL", "HubSpot", "connection"] and "plain http://" in fail
    assert "Admin API 2026-10 is served" in out and "Odoo 17.0" in out  # the others were asked
    assert lines[-1] == "1 problem(s) stop the night (HubSpot)"


def test_a_check_that_breaks_is_its_systems_fail_not_the_commands(business, monkeypatch):
    def broken(config):
        raise KeyError("scopes")

    monkeypatch.setitem(registry._BY_NAME, "hubspot", dataclasses.replace(registry.source("hubspot"), check=broken))
    found = _check(business, Credentials())
    assert [(c, b) for c, _, b in _problems(found["HubSpot"])] == [("connection", True)]
    assert "KeyError" in _problems(found["HubSpot"])[0][1]
    assert _problems(found["Odoo"]) == [] and _problems(found["Shopify"]) == []
