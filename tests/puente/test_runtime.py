from __future__ import annotations

import json

from puente import runtime
from puente.simulators.app import Credentials


def test_warehouse_connection_keeps_credentials_and_fills_a_placeholder():
    with_password = json.loads(runtime.warehouse_connection("postgresql://bob:p%40ss@db.example:6543/wh"))
    assert with_password == {"conn_type": "postgres", "host": "db.example", "port": 6543,
                             "login": "bob", "password": "p@ss", "schema": "wh"}
    trust = json.loads(runtime.warehouse_connection("postgresql://postgres@127.0.0.1:55432/puente"))
    assert trust["password"] and trust["schema"] == "puente" and trust["port"] == 55432


def test_source_connections_point_each_source_at_its_simulator():
    credentials = Credentials()
    conns = {k: json.loads(v) for k, v in runtime.source_connections(credentials, "http://127.0.0.1:9").items()}
    assert conns["AIRFLOW_CONN_PUENTE_ODOO"]["host"] == "http://127.0.0.1:9/odoo"
    assert conns["AIRFLOW_CONN_PUENTE_ODOO"]["password"] == credentials.odoo_api_key
    assert conns["AIRFLOW_CONN_PUENTE_HUBSPOT"]["password"] == credentials.hubspot_token
    assert conns["AIRFLOW_CONN_PUENTE_SHOPIFY"]["host"].endswith("/shopify/admin/api/2025-01")


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
