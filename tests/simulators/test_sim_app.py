"""The combined app: admin API, injected faults, credentials, the CLI and the limiters themselves."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import pytest

from puente.simulators import Credentials, FaultRates, Faults, ManualClock
from puente.simulators.limits import LeakyBucket, RollingWindow
from puente.simulators.server import build_parser


def test_admin_api_state_advance_and_truth(client_for, new_business):
    business = new_business(customers=40, history_days=60)
    client = client_for(business)
    state = client.get("/_sim/state").json()
    assert state["today"] == business.today.isoformat() and state["counts"]["odoo"]["res.partner"] > 0
    start = business.today
    advanced = client.post("/_sim/advance", json={"days": 2}).json()
    assert advanced["today"] == (start + timedelta(days=2)).isoformat() == business.today.isoformat()
    assert [d["date"] for d in advanced["days"]] == [(start + timedelta(days=n)).isoformat() for n in (1, 2)]
    assert client.post("/_sim/advance").json()["today"] == (start + timedelta(days=3)).isoformat()
    assert client.post("/_sim/advance", json={"days": 0}).status_code == 400
    assert client.post("/_sim/advance", json={"days": "many"}).status_code == 400
    truth = client.get("/_sim/truth").json()
    assert {r["system"] for r in truth["records"]} == {"odoo", "hubspot", "shopify"}
    assert {p["person_id"] for p in truth["people"]} >= {r["person_id"] for r in truth["records"]}


def test_faults_are_injected_at_the_set_rates_and_repeat_with_the_seed(client_for, business, credentials):
    faults = Faults(seed=3, hubspot=FaultRates(too_many_requests=0.3, server_error=0.2),
                    shopify=FaultRates(server_error=1.0), odoo=FaultRates(too_many_requests=1.0))
    auth = {"Authorization": f"Bearer {credentials.hubspot_token}"}

    def statuses():
        client = client_for(business, faults=faults)
        return [client.get("/hubspot/crm/v3/objects/deals?limit=1", headers=auth).status_code for _ in range(60)]
    first = statuses()
    assert first == statuses()
    assert {200, 429, 502} == set(first) and 5 < first.count(429) < 30 and 3 < first.count(502) < 25
    client = client_for(business, faults=faults)
    shop = client.get("/shopify/admin/api/2026-10/products.json",
                      headers={"X-Shopify-Access-Token": credentials.shopify_token})
    assert shop.status_code == 503 and "errors" in shop.json()
    odoo = client.post("/odoo/xmlrpc/2/common", content=b"<methodCall/>")
    assert odoo.status_code == 429 and odoo.headers["Retry-After"]
    with pytest.raises(ValueError):
        FaultRates(too_many_requests=0.7, server_error=0.5)


def test_credentials_come_from_the_environment_or_are_generated():
    given, generated = Credentials.from_env({
        "PUENTE_SIM_ODOO_DB": "acme", "PUENTE_SIM_ODOO_LOGIN": "bot@acme.co", "PUENTE_SIM_ODOO_API_KEY": "k1",
        "PUENTE_SIM_HUBSPOT_TOKEN": "t2", "PUENTE_SIM_SHOPIFY_TOKEN": "t3", "PUENTE_SIM_WOOCOMMERCE_KEY": "ck_4",
        "PUENTE_SIM_WOOCOMMERCE_SECRET": "cs_5", "PUENTE_SIM_TIENDANUBE_TOKEN": "t6",
        "PUENTE_SIM_MERCADOPAGO_TOKEN": "APP_USR-7", "PUENTE_SIM_MERCADOLIBRE_CLIENT_ID": "8",
        "PUENTE_SIM_MERCADOLIBRE_CLIENT_SECRET": "s9", "PUENTE_SIM_MERCADOLIBRE_REFRESH_TOKEN": "TG-10",
        "PUENTE_SIM_STRIPE_KEY": "sk_live_11",
        "PUENTE_SIM_SALESFORCE_CLIENT_ID": "3MVG9x", "PUENTE_SIM_SALESFORCE_CLIENT_SECRET": "12"})
    assert (given.odoo_db, given.odoo_login, given.odoo_api_key, given.hubspot_token, given.shopify_token) == (
        "acme", "bot@acme.co", "k1", "t2", "t3") and (given.woocommerce_key, given.woocommerce_secret) == (
        "ck_4", "cs_5") and (given.tiendanube_token, given.mercadopago_token) == ("t6", "APP_USR-7") and generated == []
    assert (given.mercadolibre_client_id, given.mercadolibre_client_secret, given.mercadolibre_refresh_token) == (
        "8", "s9", "TG-10") and given.stripe_key == "sk_live_11"
    assert (given.salesforce_client_id, given.salesforce_client_secret) == ("3MVG9x", "12")
    fresh, generated = Credentials.from_env({})
    assert generated == ["PUENTE_SIM_ODOO_API_KEY", "PUENTE_SIM_HUBSPOT_TOKEN", "PUENTE_SIM_SALESFORCE_CLIENT_ID",
                         "PUENTE_SIM_SALESFORCE_CLIENT_SECRET", "PUENTE_SIM_SHOPIFY_TOKEN", "PUENTE_SIM_WOOCOMMERCE_KEY",
                         "PUENTE_SIM_WOOCOMMERCE_SECRET", "PUENTE_SIM_TIENDANUBE_TOKEN", "PUENTE_SIM_MERCADOPAGO_TOKEN",
                         "PUENTE_SIM_MERCADOLIBRE_CLIENT_SECRET", "PUENTE_SIM_MERCADOLIBRE_REFRESH_TOKEN",
                         "PUENTE_SIM_STRIPE_KEY"]  # each simulator's, in registry order
    assert fresh.salesforce_client_id.startswith("3MVG9") and fresh.salesforce_client_secret not in repr(fresh)
    assert fresh.woocommerce_key.startswith("ck_") and fresh.woocommerce_secret.startswith("cs_")
    assert fresh.woocommerce_secret not in repr(fresh) and fresh.mercadopago_token not in repr(fresh)
    assert fresh.mercadopago_token.startswith("APP_USR-")
    assert fresh.stripe_key.startswith("sk_live_") and fresh.stripe_key not in repr(fresh)
    assert fresh.shopify_token.startswith("shpat_") and fresh.hubspot_token.startswith("pat-")
    assert len(fresh.odoo_api_key) == 40 and fresh != Credentials.from_env({})[0]
    assert fresh.hubspot_token not in repr(fresh)
    assert fresh.mercadolibre_refresh_token.startswith("TG-") and fresh.mercadolibre_refresh_token not in repr(fresh)
    assert fresh.mercadolibre_client_secret not in repr(fresh)


def test_cli_arguments_and_help():
    args = build_parser().parse_args(["serve", "--port", "0", "--customers", "50", "--start", "2026-12-01"])
    assert (args.port, args.customers, args.start, args.seed, args.history_days) == (0, 50, date(2026, 12, 1), 7, 540)
    shown = subprocess.run([sys.executable, "-m", "puente.simulators", "serve", "--help"], capture_output=True,
                           text=True, check=True).stdout
    assert "--customers" in shown and "--start" in shown
    overview = subprocess.run([sys.executable, "-m", "puente.simulators", "--help"], capture_output=True,
                              text=True, check=True).stdout
    assert "PUENTE_SIM_HUBSPOT_TOKEN" in overview
    # a value the business refuses is a usage error naming it, not a traceback
    for option, value, said in (("--customers", "-5", "customers and history_days must be at least 1"),
                                ("--web-orders-retyped", "1.5", "web_orders_retyped is a share between 0 and 1")):
        refused = subprocess.run([sys.executable, "-m", "puente.simulators", "serve", "--port", "0", option, value],
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert f"error: {said}" in refused.stderr


def test_rolling_window_and_leaky_bucket_on_a_manual_clock():
    clock = ManualClock(100.0)
    window = RollingWindow(3, 10.0, clock)
    assert [window.acquire().allowed for _ in range(4)] == [True, True, True, False]
    clock.advance(4)
    refused = window.acquire()
    assert not refused.allowed and refused.retry_after == pytest.approx(6.0)
    clock.advance(6)
    assert window.acquire().allowed
    bucket = LeakyBucket(4, 1.0, clock)
    assert [bucket.acquire().allowed for _ in range(5)] == [True, True, True, True, False]
    clock.advance(2.5)
    assert bucket.used == 2 and bucket.acquire().remaining == 1


def test_each_system_registers_its_simulator_and_the_shared_files_follow(new_business, credentials, monkeypatch):
    """The app, the `serve` options, the credentials and the faults loop over the registry's
    simulators (each declared in its own module): one more, declared nowhere else, is mounted and
    offered."""
    import dataclasses

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from puente.simulators import app as app_module
    from puente.simulators import server, systems
    from puente.simulators.limits import UPDATED_AT
    from puente.sources import registry

    assert [s.name for s in systems.simulated()] == list(registry.names())
    assert set(UPDATED_AT) == set(registry.names())
    declared = [c.name for s in systems.simulated() for c in s.credentials]
    assert [f.name for f in dataclasses.fields(Credentials)] == declared
    assert {"shopify_token", "woocommerce_permissions", "stripe_key"} <= set(declared)
    assert set(server.OPT_IN_SYSTEMS) == {"woocommerce", "tiendanube", "mercadopago", "mercadolibre", "stripe",
                                          "salesforce"}
    acme_api = FastAPI()
    acme_api.get("/v1/ping")(lambda: {"pong": True})
    acme = dataclasses.replace(systems.simulator("stripe"), name="acme", mount=lambda *_: acme_api,
                               opt_in="the business also sells on Acme", business_options={})
    monkeypatch.setattr(app_module, "simulated", lambda: (*systems.simulated(), acme))
    monkeypatch.setattr(server, "simulated", lambda: (*systems.simulated(), acme))
    client = TestClient(app_module.create_app(new_business(customers=5, history_days=5), credentials))
    assert client.get("/acme/v1/ping").json() == {"pong": True}
    assert build_parser().parse_args(["serve", "--acme"]).acme is True
    with pytest.raises(TypeError, match="acme"):  # no faults for a system the registry does not list
        Faults(acme=FaultRates(timeout=1.0))
