"""The registry is the one list of sources: the DAG, the raw tables and dbt's sources agree with it,
a business picks its systems in one place, and a connection made in Airflow beats the simulators."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import yaml

from puente import runtime, warehouse
from puente.config import MissingSetting
from puente.sources import registry
from puente.sources.hubspot import HubSpotConfig
from puente.sources.odoo import OdooConfig
from puente.sources.shopify import API_VERSION, ShopifyConfig
from puente.sources.spec import Source

REPO = Path(__file__).resolve().parents[2]
STAGING = REPO / "dbt_project" / "models" / "staging"


def _raw_tables(source: Source) -> set[str]:
    return {f"{source.name}_{obj.name.replace('.', '_')}" for obj in source.objects}


def _parse_dag():
    from airflow.dag_processing.dagbag import BundleDagBag

    from puente.dbt import ensure_manifest

    ensure_manifest()
    bag = BundleDagBag(dag_folder=str(REPO / "dags" / "puente_nightly.py"), bundle_path=REPO / "dags")
    assert bag.import_errors == {}, bag.import_errors
    return bag.get_dag("puente_nightly")


def _extract_tasks(dag) -> set[str]:
    return {t.task_id for t in dag.tasks if t.task_id.startswith("extract.")}


@pytest.fixture
def no_business_settings(monkeypatch, tmp_path):
    """No PUENTE_SYSTEMS and no settings file: the default systems."""
    monkeypatch.delenv("PUENTE_SYSTEMS", raising=False)
    monkeypatch.setenv("PUENTE_CONFIG", str(tmp_path / "puente.yml"))
    (tmp_path / "puente.yml").write_text("systems: [odoo, hubspot, shopify]\n")


# --------------------------------------------------------------------------------------------
# Everything derives from the registry
# --------------------------------------------------------------------------------------------


def test_dag_extract_tasks_and_sources_param_follow_the_registry(airflow_db, no_business_settings, monkeypatch):
    configured = [s.name for s in registry.configured()]
    assert configured == ["odoo", "hubspot", "shopify"]
    dag = _parse_dag()
    assert _extract_tasks(dag) == {f"extract.{name}" for name in configured}
    param = dag.params.get_param("sources")
    assert param.value == configured and param.schema["items"]["enum"] == configured

    # A business without a shop: the DAG shows the ERP and CRM only, and offers only them.
    monkeypatch.setenv("PUENTE_SYSTEMS", "hubspot, odoo")
    dag = _parse_dag()
    assert _extract_tasks(dag) == {"extract.odoo", "extract.hubspot"}
    assert dag.params.get_param("sources").schema["items"]["enum"] == ["odoo", "hubspot"]


def test_the_web_orders_dag_extracts_the_orders_of_every_shop_the_business_runs(airflow_db, monkeypatch):
    """puente_web_orders posts new web orders between the nights: it extracts the orders and
    buyers of each configured shop (``web_order_objects``), and the ERP's orders and partners."""
    import importlib.util
    import sys

    def objects() -> dict[str, list[str]]:
        spec = importlib.util.spec_from_file_location("web_orders_dag", REPO / "dags" / "puente_web_orders.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.OBJECTS

    monkeypatch.syspath_prepend(str(REPO / "dags"))
    monkeypatch.delitem(sys.modules, "_puente", raising=False)
    erp = {"odoo": ["res.partner", "sale.order"]}
    monkeypatch.setenv("PUENTE_SYSTEMS", "odoo,hubspot,shopify,woocommerce")
    assert objects() == {"shopify": ["customers", "orders"], "woocommerce": ["customers", "orders"], **erp}
    monkeypatch.setenv("PUENTE_SYSTEMS", "odoo,hubspot,woocommerce")
    assert objects() == {"woocommerce": ["customers", "orders"], **erp}
    for source in registry.SOURCES:
        assert set(source.web_order_objects) <= set(source.object_names)
        assert bool(source.web_order_objects) == (source.kind in ("shop", "marketplace")), source.name


def test_raw_tables_are_those_of_the_registry(fresh_db):
    expected = set().union(*(_raw_tables(s) for s in registry.SOURCES))
    assert {o.table for o in warehouse.RAW_OBJECTS} == expected
    with psycopg.connect(fresh_db) as conn:
        created = {r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'")}
    assert created == expected


def test_dbt_sources_declare_exactly_the_raw_tables_of_each_source():
    raw_sources = {}
    for path in STAGING.glob("*/_*__sources.yml"):
        for declared in yaml.safe_load(path.read_text())["sources"]:
            if declared.get("schema") == "raw":
                raw_sources[declared["name"]] = (path, {t.get("identifier", t["name"]) for t in declared["tables"]})
    assert set(raw_sources) == set(registry.names()), "a dbt source in raw without a registry entry, or the reverse"
    for source in registry.SOURCES:
        path, tables = raw_sources[source.name]
        assert path == STAGING / source.name / f"_{source.name}__sources.yml"
        assert tables == _raw_tables(source), source.name


def test_every_source_declares_what_the_pipeline_derives_from_it():
    for source in registry.SOURCES:
        assert source.conn_id == f"puente_{source.name}"
        connector = registry.build_connector(source.name, source.simulator("http://127.0.0.1:9", _Credentials()))
        try:
            assert connector.source == source.name and connector.objects == source.object_names
        finally:
            connector.close()
        for obj in source.objects:
            assert obj.key and obj.cursor, (source.name, obj.name)
            assert registry.source_object(source.name, obj.name) is obj
    with pytest.raises(ValueError, match="unknown source 'pipedrive'.*odoo, hubspot, salesforce, shopify"):
        registry.source("pipedrive")


@dataclasses.dataclass
class _Credentials:
    odoo_db: str = "db"
    odoo_login: str = "me"
    odoo_api_key: str = "key"
    hubspot_token: str = "pat"
    shopify_token: str = "shpat"
    woocommerce_key: str = "ck_1"
    woocommerce_secret: str = "cs_2"
    tiendanube_token: str = "f00d"
    mercadopago_token: str = "APP_USR-1"
    mercadolibre_client_id: str = "1"
    mercadolibre_client_secret: str = "s"
    mercadolibre_refresh_token: str = "TG-1"
    stripe_key: str = "sk_live_1"
    salesforce_client_id: str = "3MVG9x"
    salesforce_client_secret: str = "123"


# --------------------------------------------------------------------------------------------
# Which systems the business runs
# --------------------------------------------------------------------------------------------


def test_systems_come_from_the_variable_then_the_file_then_the_default(tmp_path):
    settings = tmp_path / "puente.yml"
    settings.write_text("systems:\n  - shopify\n  - odoo\n")
    env = {"PUENTE_CONFIG": str(settings)}
    assert [s.name for s in registry.configured(env)] == ["odoo", "shopify"]
    assert [s.name for s in registry.configured({**env, "PUENTE_SYSTEMS": "hubspot"})] == ["hubspot"]
    assert registry.config_file({}) == REPO / "puente.yml"
    if not (REPO / "puente.yml").exists():
        assert [s.name for s in registry.configured({})] == list(registry.DEFAULT_SYSTEMS)


def test_a_wrong_systems_setting_says_what_is_wrong(tmp_path, monkeypatch):
    with pytest.raises(MissingSetting, match=r"PUENTE_SYSTEMS names unknown system\(s\) \['sap'\]; Puente knows"):
        registry.configured({"PUENTE_SYSTEMS": "odoo,sap"})
    with pytest.raises(MissingSetting, match="does not exist"):
        registry.configured({"PUENTE_CONFIG": str(tmp_path / "missing.yml")})
    settings = tmp_path / "puente.yml"
    settings.write_text("systems: odoo\n")
    with pytest.raises(MissingSetting, match="list of system names under 'systems:'"):
        registry.configured({"PUENTE_CONFIG": str(settings)})
    # One ERP and one CRM: a second CRM in the registry may not run beside the first.
    other_crm = dataclasses.replace(registry.source("hubspot"), name="othercrm")
    monkeypatch.setitem(registry._BY_NAME, "othercrm", other_crm)
    with pytest.raises(MissingSetting, match="2 systems of kind crm.*runs one CRM"):
        registry.configured({"PUENTE_SYSTEMS": "odoo,hubspot,othercrm"})


# --------------------------------------------------------------------------------------------
# Configuration from an Airflow connection, and which one wins
# --------------------------------------------------------------------------------------------


def _conn(**fields):
    return SimpleNamespace(**{"host": None, "schema": None, "login": None, "password": None, "port": None,
                              "extra": None, **fields})


def test_configs_read_airflow_connections_as_users_fill_them_in():
    odoo = OdooConfig.from_connection(_conn(host="mycompany.odoo.com", schema="prod", login="bot@co.co",
                                            password="k3y"))
    assert (odoo.url, odoo.db, odoo.login, odoo.api_key) == ("https://mycompany.odoo.com", "prod", "bot@co.co", "k3y")
    assert odoo.origin == "connection puente_odoo" and "k3y" not in repr(odoo)
    hubspot = HubSpotConfig.from_connection(_conn(password="pat-na1-x"))
    assert (hubspot.url, hubspot.token) == ("https://api.hubapi.com", "pat-na1-x")
    shop = ShopifyConfig.from_connection(_conn(host="https://acme.myshopify.com/", password="shpat_1"))
    assert shop.url == f"https://acme.myshopify.com/admin/api/{API_VERSION}"
    pinned = ShopifyConfig.from_connection(_conn(host="acme.myshopify.com", password="shpat_1",
                                                 extra=json.dumps({"api_version": "2025-10"})))
    assert pinned.url == "https://acme.myshopify.com/admin/api/2025-10"
    local = ShopifyConfig.from_connection(_conn(host="http://127.0.0.1/shopify/admin/api/2025-01", port=8765,
                                                password="t"))
    assert local.url == "http://127.0.0.1:8765/shopify/admin/api/2025-01"
    with pytest.raises(MissingSetting, match="'puente_odoo' has no schema: set it to the Odoo database name"):
        OdooConfig.from_connection(_conn(host="x.odoo.com", login="a", password="b"))
    # Each config reads back what it writes to the environment.
    for config in (odoo, hubspot, shop):
        assert type(config).from_env(config.to_env()) == config


@pytest.mark.e2e
def test_a_connection_made_in_airflow_beats_the_simulators_environment(airflow_db, fresh_db, monkeypatch,
                                                                       no_business_settings):
    """The local runtime hands the simulators' settings as PUENTE_<SOURCE>_* variables; a
    ``puente_hubspot`` connection in Airflow's metadata database (as the UI makes it) must win,
    and each extraction says which one it used."""
    from airflow.models import Connection
    from airflow.utils.session import create_session

    from puente.simulators import Business, Credentials, SimulatorServer, create_app

    credentials = Credentials()
    business = Business(seed=5, customers=40, start=date(2026, 11, 16), history_days=60)
    with SimulatorServer(create_app(business, credentials)) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_PUENTE_WAREHOUSE", runtime.warehouse_connection(fresh_db))
        for key, value in runtime.simulated_sources_env(credentials, sim.base_url).items():
            monkeypatch.setenv(key, value)
        dag = _parse_dag().partial_subset(["extract.hubspot"], include_upstream=False)

        def extract(logical: datetime) -> set[str]:
            """Run the extraction of HubSpot for ``logical``; where its settings came from."""
            run = dag.test(logical_date=logical)
            assert run.state == "success"
            with psycopg.connect(fresh_db) as conn:
                objects = conn.execute("select object from ops.load_batches where source = 'hubspot' "
                                       "and logical_date = %s and status = 'ok'", (logical.date(),)).fetchall()
            assert sorted(o for (o,) in objects) == sorted(o.name for o in registry.source("hubspot").objects)
            return {s["settings"] for s in _returned(run.run_id, "extract.hubspot").values()}

        # No connection: the simulators, through the environment.
        assert extract(datetime(2026, 11, 16, tzinfo=UTC)) == {"environment PUENTE_HUBSPOT_* (simulator)"}

        # A connection in the metadata database, as the UI makes it, with the real token; the
        # environment's token is wrong, so the night succeeds only if the connection wins.
        monkeypatch.setenv("PUENTE_HUBSPOT_TOKEN", "pat-na1-not-the-right-one")
        with create_session() as session:
            session.query(Connection).filter(Connection.conn_id == "puente_hubspot").delete()
            session.add(Connection(conn_id="puente_hubspot", conn_type="http", host=f"{sim.base_url}/hubspot",
                                   password=credentials.hubspot_token))
        try:
            assert extract(datetime(2026, 11, 17, tzinfo=UTC)) == {"connection puente_hubspot"}
        finally:
            with create_session() as session:
                session.query(Connection).filter(Connection.conn_id == "puente_hubspot").delete()


def _returned(run_id: str, task_id: str) -> dict:
    """What a task of run ``run_id`` returned (its XCom)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        value = session.query(XComModel.value).filter(XComModel.run_id == run_id, XComModel.task_id == task_id,
                                                      XComModel.key == "return_value").scalar()
    return json.loads(value) if isinstance(value, str) else value
