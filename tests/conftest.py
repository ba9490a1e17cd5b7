"""Shared fixtures: a real PostgreSQL for every test that needs one, and a local Airflow.

The embedded server (or the one ``PUENTE_WAREHOUSE_URL`` names) is started once per session;
each test that asks for ``fresh_db`` gets a database of its own with Puente's schemas, dropped
afterwards, so tests never see each other's rows. Airflow reads its configuration when first
imported, so ``pytest_configure`` points it at a test home and a metadata database of its own
before any test module can import it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from puente import warehouse
from puente.dbt import TARGET_PATH_ENV

SESSION = uuid.uuid4().hex[:6]  # this test session's part of its databases' names (scratch_database)
_OWN_TARGET: Path | None = None  # the dbt target folder this session made (pytest_configure)


def _server_url() -> str:
    return os.environ.get("PUENTE_WAREHOUSE_URL") or warehouse.ensure_embedded()


def pytest_configure(config) -> None:
    from puente import runtime
    from puente.config import puente_home

    # `make test` runs the test files in two processes (pytest-xdist, a file at a time to each). Each
    # has its own Airflow home and metadata database, artifacts folder, target folder for run_dbt's dbt
    # and cosmos cache: the two share only the PostgreSQL server, with a database per test or module.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    suffix = f"-{worker}" if worker else ""
    os.environ.setdefault("PUENTE_ARTIFACTS_DIR", str(puente_home() / f"test-artifacts{suffix}"))
    global _OWN_TARGET
    runs_tests = not getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput")
    if runs_tests and TARGET_PATH_ENV not in os.environ:  # (xdist's workers inherit the controller's)
        # run_dbt's dbt files: a folder per database and --vars in it (puente.dbt._target_folder), so
        # that each keeps its partial parse as the tests move between databases; removed at the end
        _OWN_TARGET = puente_home() / "dbt-target-test" / SESSION
        os.environ[TARGET_PATH_ENV] = str(_OWN_TARGET)
    os.environ.setdefault("PUENTE_RETRY_DELAY_SECONDS", "1")
    # dbt's file log (dbt_project/logs/dbt.log) at info, not debug: the tests' dozens of builds would
    # write every query there, unread (a failure's nodes and messages are in DbtFailed), at about a
    # tenth of each build's CPU (tests/dbt/test_dbt_build.py: 92.7 CPU-s at debug, 84.1 at info, 83.2 off).
    os.environ.setdefault("DBT_LOG_LEVEL_FILE", "info")
    # No manifest.json or run_results.json in the target folder either, as the nightly DAG's dbt writes
    # none (dags/puente_nightly.py, DBT_GLOBAL_FLAGS): unread, and about a second of each dbt command's CPU.
    # The commands whose files are read say --write-json (ensure_manifest, `puente dbt-docs`).
    os.environ.setdefault("DBT_WRITE_JSON", "False")
    # Two dbt threads, not the default four: the two test processes share two cores, and the tests' builds
    # are small, so more threads only take turns. Seven dbt-heavy files (erasure, own writes, key rotation,
    # incremental facts, WooCommerce order-to-cash, Mercado Libre carts, order-reference collisions), one
    # run each on the quiet machine: 303 s with two threads, 319 s with four, 359 s with one.
    os.environ.setdefault("PUENTE_DBT_THREADS", "2")
    base = _server_url()
    env = runtime.airflow_env(base)
    env["AIRFLOW_HOME"] = str(puente_home() / f"airflow-test{suffix}")
    env["AIRFLOW__COSMOS__CACHE_DIR"] = str(puente_home() / f"cosmos_cache-test{suffix}")
    metadata_db = f"airflow_test{suffix.replace('-', '_')}"
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace(
        f"/{runtime.AIRFLOW_METADATA_DB}", f"/{metadata_db}")
    warehouse.create_database(base, metadata_db)
    os.makedirs(env["AIRFLOW_HOME"], exist_ok=True)
    os.environ.update(env)


def pytest_unconfigure(config) -> None:
    if _OWN_TARGET is not None:
        shutil.rmtree(_OWN_TARGET, ignore_errors=True)


def pytest_collection_modifyitems(config, items) -> None:
    """The longest files first, each file's tests kept together and in order: `make test` shares the
    files out between its two processes one at a time as each runs short of work, so a long file
    started last would leave one process idle at the end. Files with end-to-end nights come first,
    then those that use the warehouse (dbt builds, gates, ML jobs), then the rest."""
    def weight(item) -> int:
        return 0 if item.get_closest_marker("e2e") else 1 if "warehouse_url" in item.fixturenames else 2

    by_file: dict = {}
    for item in items:
        by_file[item.path] = min(by_file.get(item.path, 2), weight(item))
    items.sort(key=lambda item: by_file[item.path])


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    return _server_url()


@contextmanager
def scratch_database(server_url: str, name: str, template: str | None = None) -> Iterator[str]:
    """A new database ``name`` with Puente's schemas, or a copy of the database made as ``template``
    (PostgreSQL copies its files: a built warehouse in about a second, where building it takes 20-30 s),
    dropped afterwards.

    The tests name their databases by role (``test_fresh``, ``test_module``…) and test session, not by
    test: dbt keeps its partial parse only while the profile's connection settings stay the same, the
    database's name among them, and parsing the project again costs 6-8 s a dbt command. A session runs
    its tests one at a time, so a name is never in use twice at once; the session's part keeps two
    sessions on the same server (a `make test-fast` beside a `make test`) out of each other's way."""
    name = f"{name}_{SESSION}"
    warehouse.drop_database(server_url, name)
    if template is None:
        warehouse.create_database(server_url, name)
        warehouse.ensure_schema(warehouse.with_database(server_url, name))
    else:
        import psycopg

        template = f"{template}_{SESSION}"
        with psycopg.connect(warehouse.with_database(server_url, "postgres"), autocommit=True) as conn:
            # a template must have no other session (dbt's and the tests' connections are closed by now)
            conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (template,))
            conn.execute(f'create database "{name}" template "{template}"')
    try:
        yield warehouse.with_database(server_url, name)
    finally:
        warehouse.drop_database(server_url, name)


@pytest.fixture(scope="session")
def scratch_db(warehouse_url: str):
    """``scratch_db(name, template=None)``: ``scratch_database`` on the tests' server, for fixtures of any
    scope."""
    return lambda name, template=None: scratch_database(warehouse_url, name, template)


@pytest.fixture
def fresh_db(scratch_db):
    """A database of this test's own."""
    with scratch_db("test_fresh") as url:
        yield url


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database, migrated once per session (a few seconds when current)."""
    from puente import runtime

    runtime.migrate_airflow({})


@pytest.fixture(scope="session")
def dag_bag(airflow_db):
    """Puente's DAGs parsed from ``dags/`` (with a current dbt manifest), once per session."""
    from pathlib import Path

    from airflow.dag_processing.dagbag import BundleDagBag

    from puente.dbt import ensure_manifest

    ensure_manifest()
    dags = Path(__file__).resolve().parents[1] / "dags"
    # as Airflow's DAG processor reads a bundle: its folder on sys.path (dags/_puente.py)
    bag = BundleDagBag(dag_folder=str(dags), bundle_path=dags)
    assert bag.import_errors == {}, bag.import_errors
    return bag


@pytest.fixture(scope="session")
def nightly_dag(dag_bag):
    """The ``puente_nightly`` DAG."""
    return dag_bag.get_dag("puente_nightly")


class AlertReceiver:
    """A local stand-in for a Slack or Microsoft Teams incoming webhook: records every message posted to
    it (with the path and query it was posted to) and answers as Slack does (200, ``ok``)."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.messages = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received.append({"path": self.path, **body})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.token = f"T0PUENTE/B0ALERTS/{uuid.uuid4().hex}"  # the secret part of a webhook's URL

    @property
    def texts(self) -> list[str]:
        """The Slack messages' texts."""
        return [message["text"] for message in self.messages if "text" in message]

    @property
    def teams_messages(self) -> list[dict]:
        """The messages posted as a Microsoft Teams webhook takes them (an activity with attachments)."""
        return [message for message in self.messages if "attachments" in message]

    def connection(self) -> str:
        import json

        return json.dumps({"conn_type": "slackwebhook", "host": f"http://127.0.0.1:{self.server.server_port}",
                           "password": self.token})

    def teams_connection(self) -> str:
        """The Airflow connection ``puente_alerts_teams`` as an operator makes it: the webhook's whole
        URL (a Workflows URL carries its secret, ``sig``, in the query string) as the password."""
        import json

        return json.dumps({"conn_type": "http", "password": f"http://127.0.0.1:{self.server.server_port}/workflows/"
                           f"{self.token}/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s3cr3t"})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def alert_receiver(monkeypatch):
    """A webhook receiver on this machine, and the Airflow connection ``puente_alerts_slack`` pointing at it."""
    receiver = AlertReceiver()
    monkeypatch.setenv("AIRFLOW_CONN_PUENTE_ALERTS_SLACK", receiver.connection())
    yield receiver
    receiver.close()
