"""``make airflow``: the Airflow UI over the same warehouse as ``make demo``.

It starts the simulators (continuing the demo's business where the warehouse left it), then
``airflow standalone`` (scheduler, dag-processor, triggerer, api-server and the LocalExecutor's
workers) in a process group of its own, waits until the UI answers and the ``puente_nightly``
DAG is registered, and unpauses the DAG so that a night triggered from the UI runs at once.

- Port: ``PUENTE_AIRFLOW_PORT`` when set (an error if it is busy), else 8080, else a free one;
  the address is printed.
- Output of the Airflow components goes to ``.puente/logs/airflow-standalone.log``; this
  command prints only what a person needs (address, login, state, how to stop).
- Ctrl-C or SIGTERM stops everything it started: the whole process group of
  ``airflow standalone``, and any descendant that left it, then the simulators.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import psutil

from puente import dbt, runtime, warehouse
from puente.config import puente_home
from puente.demo import DemoBusiness, demo_systems
from puente.simulators.app import Credentials
from puente.sources import registry

DAG_ID = "puente_nightly"
PORT_ENV = "PUENTE_AIRFLOW_PORT"
DEFAULT_PORT = 8080
# Measured here: the UI answers and the DAG is registered 23-34 s after start on 2 busy cores.
READY_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 30


class Stopped(Exception):
    """SIGTERM arrived: unwind and stop what was started, as Ctrl-C does."""


def choose_port(environ: dict[str, str] | None = None) -> int:
    """``PUENTE_AIRFLOW_PORT`` if set, else 8080 when free, else any free port."""
    environ = os.environ if environ is None else environ
    requested = environ.get(PORT_ENV)
    if requested:
        if not requested.isdigit() or not 0 < int(requested) < 65536:
            raise SystemExit(f"{PORT_ENV}={requested!r} is not a TCP port (1-65535).")
        if runtime.port_in_use(int(requested)):
            raise SystemExit(f"Port {requested} ({PORT_ENV}) is already in use on {runtime.API_HOST}: "
                             f"stop what listens there, or choose another port.")
        return int(requested)
    return runtime.free_port() if runtime.port_in_use(DEFAULT_PORT) else DEFAULT_PORT


class AirflowApi:
    """The few REST calls ``make airflow`` needs (Airflow 3 public API, ``/api/v2``), logged in
    as the simple auth manager's ``admin`` with the password Airflow generated."""

    def __init__(self, base_url: str, password_file: Path):
        self.base_url = base_url
        self.password_file = password_file
        self._token: str | None = None

    def health(self) -> dict | None:
        """``/api/v2/monitor/health`` (no login needed), or None while the api-server is down."""
        try:
            response = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            password = json.loads(self.password_file.read_text())["admin"]
            response = httpx.post(f"{self.base_url}/auth/token", timeout=10,
                                  json={"username": "admin", "password": password})
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def dag(self, dag_id: str = DAG_ID) -> dict | None:
        response = httpx.get(f"{self.base_url}/api/v2/dags/{dag_id}", headers=self._headers(), timeout=10)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def import_errors(self) -> list[dict]:
        response = httpx.get(f"{self.base_url}/api/v2/importErrors", headers=self._headers(), timeout=10)
        response.raise_for_status()
        return response.json().get("import_errors", [])

    def unpause(self, dag_id: str = DAG_ID) -> dict:
        response = httpx.patch(f"{self.base_url}/api/v2/dags/{dag_id}", headers=self._headers(), timeout=10,
                               json={"is_paused": False})
        response.raise_for_status()
        return response.json()


def components_ready(health: dict | None) -> bool:
    """Every component the health endpoint reports (metadatabase, scheduler, triggerer,
    dag_processor) says healthy."""
    return bool(health) and all(
        isinstance(part, dict) and part.get("status") == "healthy" for part in health.values()
    )


class StandaloneAirflow:
    """``airflow standalone`` in a session (and process group) of its own, so that stopping it
    reaches every component and worker, not only the parent that Ctrl-C would interrupt."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self._env = env
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> StandaloneAirflow:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen([runtime.airflow_bin(), "standalone"], env=self._env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def exited(self) -> int | None:
        return self.proc.poll() if self.proc else 0

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGTERM to the whole group (every component shuts down cleanly on it), SIGKILL to
        whatever still runs after ``timeout``; returns how many processes were stopped."""
        if self.proc is None or self.proc.returncode is not None:
            return 0
        with _signals_ignored():
            family = _family(self.proc.pid)
            print(f"Stopping Airflow ({len(family)} processes)…", flush=True)
            _signal_group(self.proc.pid, signal.SIGTERM)
            for child in family:
                _signal(child, signal.SIGTERM)  # also those that left the group (a bash task's session)
            _, alive = psutil.wait_procs(family, timeout=timeout)
            for child in alive + [p for p in _family(self.proc.pid) if p not in family]:
                _signal(child, signal.SIGKILL)
            _signal_group(self.proc.pid, signal.SIGKILL)
            psutil.wait_procs(alive, timeout=5)
            self.proc.wait()
        return len(family)


def _family(pid: int) -> list[psutil.Process]:
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _signal(process: psutil.Process, sig: int) -> None:
    try:
        process.send_signal(sig)
    except psutil.NoSuchProcess:
        pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """A second Ctrl-C or SIGTERM must not cut the clean-up short."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into an exception, so that ``with`` blocks stop what they started."""

    def handler(signum, frame):
        raise Stopped()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _last_business_date(url: str) -> date | None:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("select max(logical_date) from ops.load_batches").fetchone()
    return row[0] if row else None


def _tail(path: Path, lines: int = 30) -> str:
    with path.open(errors="replace") as fh:
        return "".join(fh.readlines()[-lines:])


def _wait_until_ready(airflow: StandaloneAirflow, api: AirflowApi, started: float) -> dict:
    """Block until every component is healthy and the DAG is registered; return the DAG."""
    shown = 0.0
    while time.monotonic() - started < READY_TIMEOUT_SECONDS:
        if airflow.exited() is not None:
            raise RuntimeError(f"airflow standalone exited with code {airflow.exited()}:\n{_tail(airflow.log_path)}")
        health = api.health()
        if components_ready(health):
            dag = api.dag()
            if dag is not None:
                return dag
            for error in api.import_errors():
                raise RuntimeError(f"Airflow could not import {error.get('filename')}:\n{error.get('stack_trace')}")
        if time.monotonic() - shown >= 10:
            waiting = "the api-server" if health is None else ", ".join(
                name for name, part in health.items() if part.get("status") != "healthy") or f"the DAG {DAG_ID}"
            print(f"  … {time.monotonic() - started:.0f} s, waiting for {waiting}", flush=True)
            shown = time.monotonic()
        time.sleep(1)
    raise RuntimeError(f"Airflow was not ready within {READY_TIMEOUT_SECONDS} s; see {airflow.log_path}")


def run_airflow_ui() -> int:
    port = choose_port()
    url = warehouse.warehouse_url()
    dbt.ensure_manifest(url)  # what the DAGs read
    warehouse.ensure_schema(url)
    env = {**runtime.airflow_env(url), **runtime.api_server_env(port)}
    print("Preparing Airflow's metadata database…", flush=True)
    runtime.migrate_airflow(env)
    last = _last_business_date(url)
    logs = puente_home() / "logs"
    credentials = Credentials()
    # The last demo's business on the embedded warehouse (the default one on another warehouse, or
    # before any demo), unless PUENTE_SYSTEMS or the settings file says which systems run.
    business = DemoBusiness() if os.environ.get("PUENTE_WAREHOUSE_URL") else DemoBusiness.last()
    own = os.environ.get("PUENTE_SYSTEMS") or registry.config_file().exists()
    systems = registry.configured() if own else demo_systems(business.profile)
    env["PUENTE_SYSTEMS"] = ",".join(s.name for s in systems)
    simulators = runtime.SimulatorProcess(
        credentials, port=runtime.free_port(), seed=business.seed, customers=business.customers,
        start=business.start.isoformat(), log_path=logs / "simulators-airflow.log", systems=systems,
    )
    base_url = f"http://{runtime.API_HOST}:{port}"
    home = Path(env["AIRFLOW_HOME"])
    api = AirflowApi(base_url, home / "simple_auth_manager_passwords.json.generated")
    try:
        with _sigterm_unwinds(), simulators:
            if last and last > business.start:
                simulators.advance((last - business.start).days)
            env.update(runtime.simulated_sources_env(credentials, simulators.base_url))
            print(f"Warehouse:   {warehouse.describe(url)}\n"
                  f"Simulators:  {simulators.base_url} (business day {simulators.state().get('today')})\n"
                  f"Airflow:     starting on {base_url} (log: {logs / 'airflow-standalone.log'})", flush=True)
            started = time.monotonic()
            with StandaloneAirflow(runtime.child_env(env), logs / "airflow-standalone.log") as airflow:
                dag = _wait_until_ready(airflow, api, started)
                if dag.get("is_paused"):
                    api.unpause()
                print(f"\nAirflow UI:  {base_url}  (ready in {time.monotonic() - started:.0f} s)\n"
                      f"Log in as:   admin, password in {api.password_file}\n"
                      f"DAG:         {DAG_ID} is unpaused: a night you trigger runs at once, and the "
                      "scheduler also starts the latest 03:00 UTC night it has not run.\n"
                      "Ctrl-C (or SIGTERM) stops Airflow and the simulators.", flush=True)
                code = airflow.proc.wait()
                print(f"airflow standalone exited with code {code}:\n{_tail(airflow.log_path)}")
                return code or 1
    except (KeyboardInterrupt, Stopped):
        print("\nStopped Airflow and the simulators.", flush=True)
        return 0
    except RuntimeError as error:
        print(f"\n{error}", flush=True)
        return 1
