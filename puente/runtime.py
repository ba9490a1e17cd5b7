"""The local runtime: the environment Airflow, dbt and the simulators run in on one machine.

``make demo``, ``make airflow`` and the end-to-end tests all use these helpers, so the three
agree on Airflow's home, its metadata database (a database of its own on the warehouse server)
and how the simulators' settings reach the DAG: as the ``PUENTE_<SOURCE>_*`` environment
variables, the fallback the DAG uses only for a source without an Airflow connection, so a
connection made in the UI always wins (never written to disk or printed).

This module starts Airflow only as a subprocess; it never imports it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from puente import warehouse
from puente.config import PROJECT_ROOT, dbt_project_dir, puente_home
from puente.simulators.app import ENV as SIMULATOR_ENV
from puente.simulators.app import Credentials
from puente.sources import registry
from puente.sources.http import ALLOW_HTTP_SETTING, is_local_host
from puente.sources.spec import Source

AIRFLOW_METADATA_DB = "airflow"
API_HOST = "127.0.0.1"


def quiet_telemetry_env() -> dict[str, str]:
    """Telemetry off for every tool in the stack; nothing leaves the machine."""
    return {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "SCARF_ANALYTICS": "false",
        "AIRFLOW__CORE__ANALYTICS": "False",
    }


def airflow_metadata_db() -> str:
    """The database of Airflow's own metadata on the warehouse server (``PUENTE_AIRFLOW_DB``,
    default ``airflow``): two local Airflows on one server keep apart by naming different ones."""
    return os.environ.get("PUENTE_AIRFLOW_DB") or AIRFLOW_METADATA_DB


def airflow_env(warehouse_url: str) -> dict[str, str]:
    """Environment for a local Airflow over ``warehouse_url`` (metadata in its own database)."""
    home = puente_home() / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    metadata_db = airflow_metadata_db()
    warehouse.create_database(warehouse_url, metadata_db, private=True)
    meta = warehouse.sqlalchemy_url(warehouse.with_database(warehouse_url, metadata_db))
    env = {
        **quiet_telemetry_env(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
        "AIRFLOW__API__HOST": API_HOST,
        "AIRFLOW__COSMOS__CACHE_DIR": str(puente_home() / "cosmos_cache"),
        "AIRFLOW__COSMOS__PROPAGATE_LOGS": "False",
        "AIRFLOW__OPENLINEAGE__DISABLED": "True",
        "PUENTE_DBT_PROJECT_DIR": str(dbt_project_dir()),
        "PUENTE_HOME": str(puente_home()),
        "XDG_RUNTIME_DIR": os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
        # Task logs are files, never a terminal: no ANSI colour codes from dbt in them.
        "DBT_USE_COLORS": "False",
        "AIRFLOW_CONN_PUENTE_WAREHOUSE": warehouse_connection(warehouse_url),
    }
    return env


def api_server_env(port: int) -> dict[str, str]:
    """Where the local api-server listens, and where task processes find its execution API
    (Airflow assumes port 8080 for the latter unless told)."""
    return {
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{API_HOST}:{port}/execution/",
    }


def child_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of an Airflow child process: this one's, plus ``env``, with the
    virtualenv's ``bin`` first on ``PATH``. ``airflow standalone`` starts its scheduler,
    dag-processor, triggerer and api-server by the bare name ``airflow``, and ``make`` does not
    activate the virtualenv."""
    merged = {**os.environ, **env}
    venv_bin = str(Path(sys.executable).parent)
    merged["PATH"] = os.pathsep.join([venv_bin, *(p for p in merged.get("PATH", "").split(os.pathsep) if p)])
    return merged


def warehouse_connection(url: str) -> str:
    """The ``puente_warehouse`` Airflow connection (JSON form) for a postgres URL, its libpq options
    (``sslmode``…) in ``extra``: the inverse of ``puente.warehouse.warehouse_url_from``.

    The embedded warehouse's URL carries its generated password. A URL without one (a server that
    asks none of this client) gets a placeholder, because cosmos' Postgres profile mapping requires
    a password: a server that asks for one must have it in the URL or the Airflow connection.
    """
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    connection = {
        "conn_type": "postgres",
        "host": parts.hostname,
        "port": parts.port or 5432,
        "login": unquote(parts.username or "postgres"),
        "password": unquote(parts.password) if parts.password else "no-password-in-url",
        "schema": parts.path.lstrip("/") or warehouse.DEFAULT_DATABASE,
    }
    options = warehouse.connection_options(url)
    if options:
        connection["extra"] = json.dumps(options)
    return json.dumps(connection)


def simulated_sources_env(credentials: Credentials, base_url: str) -> dict[str, str]:
    """The ``PUENTE_<SOURCE>_*`` variables pointing every registered source at the simulators at
    ``base_url`` (accepting ``credentials``), and ``PUENTE_SIMULATORS_URL`` so that logs can say a
    source's settings are the simulator's.

    Not ``AIRFLOW_CONN_*``: those would hide any connection the user makes in the UI.
    """
    env = {"PUENTE_SIMULATORS_URL": base_url}
    for config in registry.simulator_configs(base_url, credentials).values():
        env.update(config.to_env())
    host = urlsplit(base_url).hostname or ""
    if not is_local_host(host):  # e.g. a Docker network's "simulators": plain http:// on purpose
        env[ALLOW_HTTP_SETTING] = host
    return env


def simulator_env(credentials: Credentials) -> dict[str, str]:
    """The ``PUENTE_SIM_*`` variables that make a simulator process accept ``credentials``."""
    return {var: getattr(credentials, name) for name, var in SIMULATOR_ENV.items()}


class SimulatorProcess:
    """The simulators as a child process (``python -m puente.simulators serve``); the simulated
    business runs the opt-in systems (WooCommerce, Mercado Pago, …) among ``systems`` (default: those
    this business is configured with, ``registry.configured()``), so that their extract tasks find
    records."""

    def __init__(self, credentials: Credentials, *, port: int, seed: int, customers: int,
                 start: str, log_path: Path, systems: tuple[Source, ...] | None = None):
        from puente.simulators.server import OPT_IN_SYSTEMS

        self.credentials = credentials
        self.base_url = f"http://127.0.0.1:{port}"
        systems = registry.configured() if systems is None else systems
        self._args = [sys.executable, "-m", "puente.simulators", "serve", "--port", str(port),
                      "--seed", str(seed), "--customers", str(customers), "--start", start,
                      *(f"--{s.name}" for s in systems if s.name in OPT_IN_SYSTEMS)]
        self._log_path = log_path
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> SimulatorProcess:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self._log_path.open("w")
        env = {**os.environ, **simulator_env(self.credentials)}
        self._proc = subprocess.Popen(self._args, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the simulators exited at start; see {self._log_path}")
            try:
                httpx.get(f"{self.base_url}/_sim/state", timeout=2).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError(f"the simulators did not answer within 120 s; see {self._log_path}")

    def __exit__(self, *exc) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def state(self) -> dict:
        return httpx.get(f"{self.base_url}/_sim/state", timeout=10).json()

    def advance(self, days: int = 1) -> dict:
        response = httpx.post(f"{self.base_url}/_sim/advance", json={"days": days}, timeout=120)
        response.raise_for_status()
        return response.json()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int, host: str = API_HOST) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def migrate_airflow(env: dict[str, str]) -> None:
    """``airflow db migrate`` (idempotent; a few seconds when already current)."""
    subprocess.run([airflow_bin(), "db", "migrate"], env=child_env(env), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
