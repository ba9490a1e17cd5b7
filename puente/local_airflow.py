"""``make airflow``: the Airflow UI on 127.0.0.1:8080 over the same warehouse as ``make demo``.

It starts the simulators (continuing the demo's business where the warehouse left it), then
``airflow standalone`` with the ``puente_nightly`` DAG visible and runnable. Ctrl-C stops both.
"""

from __future__ import annotations

import os
import subprocess
from datetime import date

import psycopg

from puente import runtime, warehouse
from puente.config import puente_home
from puente.demo import DEMO_SEED, DEMO_START
from puente.simulators.app import Credentials

DEMO_CUSTOMERS = 1000


def _last_business_date(url: str) -> date | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("select max(logical_date) from ops.load_batches").fetchone()
    return row[0] if row else None


def run_airflow_ui() -> int:
    url = warehouse.warehouse_url()
    warehouse.ensure_schema(url)
    env = runtime.airflow_env(url)
    runtime.migrate_airflow(env)
    last = _last_business_date(url)
    credentials = Credentials()
    simulators = runtime.SimulatorProcess(
        credentials, port=runtime.free_port(), seed=DEMO_SEED, customers=DEMO_CUSTOMERS,
        start=DEMO_START.isoformat(), log_path=puente_home() / "logs" / "simulators-airflow.log",
    )
    with simulators:
        if last and last > DEMO_START:
            simulators.advance((last - DEMO_START).days)
        env.update(runtime.simulated_sources_env(credentials, simulators.base_url))
        home = env["AIRFLOW_HOME"]
        print(
            f"Warehouse:   {warehouse.describe(url)}\n"
            f"Simulators:  {simulators.base_url} (business day {simulators.state().get('today')})\n"
            "Airflow UI:  http://127.0.0.1:8080 (starting, about 20 s)\n"
            f"Log in as:   user 'admin', password in {home}/simple_auth_manager_passwords.json.generated\n"
            "The DAG 'puente_nightly' starts paused: unpause it or press Trigger. Ctrl-C stops everything."
        )
        try:
            return subprocess.run([runtime.airflow_bin(), "standalone"], env={**os.environ, **env}).returncode
        except KeyboardInterrupt:
            return 0
