from __future__ import annotations

import json

import pytest

from puente import runtime
from puente.simulators.app import Credentials
from puente.sources import registry
from puente.sources.hubspot import HubSpotConfig
from puente.sources.odoo import OdooConfig
from puente.sources.shopify import API_VERSION, ShopifyConfig


def test_warehouse_connection_keeps_credentials_and_fills_a_placeholder():
    with_password = json.loads(runtime.warehouse_connection("postgresql://bob:p%40ss@db.example:6543/wh"))
    assert with_password == {"conn_type": "postgres", "host": "db.example", "port": 6543,
                             "login": "bob", "password": "p@ss", "schema": "wh"}
    trust = json.loads(runtime.warehouse_connection("postgresql://postgres@127.0.0.1:55432/puente"))
    assert trust["password"] and trust["schema"] == "puente" and trust["port"] == 55432
    assert "extra" not in trust


def test_the_warehouse_connection_and_its_url_are_one_configuration():
    """URL -> Airflow connection (runtime) -> URL (what the DAG builds with warehouse_url_from)."""
    from puente.warehouse import warehouse_url_from

    url = "postgresql://bob:p%40ss%3A1@db.example:6543/wh?sslmode=verify-full&sslrootcert=%2Fca.pem"
    connection = json.loads(runtime.warehouse_connection(url))
    assert json.loads(connection["extra"]) == {"sslmode": "verify-full", "sslrootcert": "/ca.pem"}
    assert warehouse_url_from(host=connection["host"], port=connection["port"], login=connection["login"],
                              password=connection["password"], database=connection["schema"],
                              extra=connection["extra"]) == url


def test_simulators_on_another_host_are_allowed_plain_http_by_name():
    assert "PUENTE_ALLOW_HTTP_HOSTS" not in runtime.simulated_sources_env(Credentials(), "http://127.0.0.1:9")
    env = runtime.simulated_sources_env(Credentials(), "http://simulators:8765")
    assert env["PUENTE_ALLOW_HTTP_HOSTS"] == "simulators"


def test_simulators_reach_the_dag_as_environment_variables_that_any_connection_overrides():
    credentials = Credentials()
    env = runtime.simulated_sources_env(credentials, "http://127.0.0.1:9")
    # AIRFLOW_CONN_* would hide the connections a user makes in the UI.
    assert not [k for k in env if k.startswith("AIRFLOW_CONN_")]
    odoo = OdooConfig.from_env(env)
    assert (odoo.url, odoo.db, odoo.api_key) == ("http://127.0.0.1:9/odoo", credentials.odoo_db,
                                                 credentials.odoo_api_key)
    assert HubSpotConfig.from_env(env).token == credentials.hubspot_token
    shopify = ShopifyConfig.from_env(env)
    assert shopify.url == f"http://127.0.0.1:9/shopify/admin/api/{API_VERSION}"
    # Every registered source is covered, and says it is the simulator (without a secret).
    for source in registry.SOURCES:
        config = source.config.from_env(env)
        assert config.origin == f"environment PUENTE_{source.name.upper()}_* (simulator)"
    assert credentials.hubspot_token not in repr(HubSpotConfig.from_env(env))


def test_simulator_env_carries_every_secret():
    credentials = Credentials()
    env = runtime.simulator_env(credentials)
    assert env["PUENTE_SIM_HUBSPOT_TOKEN"] == credentials.hubspot_token
    assert env["PUENTE_SIM_SHOPIFY_TOKEN"] == credentials.shopify_token
    assert env["PUENTE_SIM_ODOO_API_KEY"] == credentials.odoo_api_key


def test_airflow_env_keeps_metadata_apart_and_telemetry_off(warehouse_url):
    env = runtime.airflow_env(warehouse_url)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(f"/{runtime.AIRFLOW_METADATA_DB}")
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "False"


def test_children_find_the_virtualenv_first_on_path(monkeypatch):
    import sys
    from pathlib import Path

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    env = runtime.child_env({"AIRFLOW_HOME": "/x"})
    first = env["PATH"].split(":")[0]
    assert first == str(Path(sys.executable).parent)
    assert (Path(first) / "airflow").exists()  # what `airflow standalone` starts by bare name
    assert env["PATH"].endswith("/usr/bin:/bin") and env["AIRFLOW_HOME"] == "/x"


def test_api_server_env_points_tasks_at_the_chosen_port():
    env = runtime.api_server_env(18555)
    assert env["AIRFLOW__API__PORT"] == "18555"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18555/execution/"


def test_metadata_database_can_be_named(monkeypatch, warehouse_url):
    monkeypatch.setenv("PUENTE_AIRFLOW_DB", "airflow_other")
    try:
        assert runtime.airflow_env(warehouse_url)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("/airflow_other")
    finally:
        from puente import warehouse

        warehouse.drop_database(warehouse_url, "airflow_other")


def test_port_choice(monkeypatch):
    import socket

    from puente.local_airflow import choose_port

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(SystemExit, match=f"Port {taken} .*already in use"):
            choose_port({"PUENTE_AIRFLOW_PORT": str(taken)})
        with pytest.raises(SystemExit, match="not a TCP port"):
            choose_port({"PUENTE_AIRFLOW_PORT": "80a"})
        free = runtime.free_port()
        assert choose_port({"PUENTE_AIRFLOW_PORT": str(free)}) == free
        monkeypatch.setattr("puente.local_airflow.DEFAULT_PORT", taken)
        chosen = choose_port({})
        assert chosen != taken and not runtime.port_in_use(chosen)
