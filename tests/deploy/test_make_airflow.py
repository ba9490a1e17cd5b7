"""``make airflow`` as a user runs it: from a shell whose PATH does not hold the virtualenv.

It must bring the UI up (health endpoint), register and unpause the DAG (REST API, logged in
with the password Airflow generated), print where it listens, and on SIGTERM stop every process
it started: scheduler, dag-processor, triggerer, api-server, the executor's workers and the
simulators. The warehouse, Airflow's metadata database and Airflow's home are the test's own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from puente import runtime, warehouse

REPO = Path(__file__).resolve().parents[2]
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"


def _descendants(pid: int) -> set[psutil.Process]:
    try:
        return set(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return set()


@pytest.mark.e2e
@pytest.mark.timeout(400)
def test_make_airflow_from_a_clean_shell_serves_the_dag_and_stops_whole(warehouse_url, fresh_db, tmp_path):
    assert shutil.which("airflow", path=CLEAN_PATH) is None, "the clean PATH must not find airflow"
    metadata_db = f"airflow_e2e_{uuid.uuid4().hex[:8]}"
    port = runtime.free_port()
    env = {"PATH": CLEAN_PATH, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
           "PUENTE_HOME": str(tmp_path / "puente"), "PUENTE_WAREHOUSE_URL": fresh_db,
           "PUENTE_AIRFLOW_DB": metadata_db, "PUENTE_AIRFLOW_PORT": str(port)}
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "make-airflow.log"
    seen: set[psutil.Process] = set()
    with log_path.open("w") as log:
        make = subprocess.Popen(["make", "--no-print-directory", "airflow"], cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        dag = None
        while dag is None or dag.get("is_paused"):
            assert make.poll() is None, f"make airflow exited early:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"not ready in 300 s:\n{log_path.read_text()[-3000:]}"
            seen |= _descendants(make.pid)
            time.sleep(2)
            try:
                health = httpx.get(f"{base}/api/v2/monitor/health", timeout=5)
            except httpx.HTTPError:
                continue
            if health.status_code != 200:
                continue
            password_file = tmp_path / "puente" / "airflow" / "simple_auth_manager_passwords.json.generated"
            token = httpx.post(f"{base}/auth/token", timeout=10, json={
                "username": "admin", "password": json.loads(password_file.read_text())["admin"]})
            assert token.status_code == 201, token.text
            response = httpx.get(f"{base}/api/v2/dags/puente_nightly", timeout=10,
                                 headers={"Authorization": f"Bearer {token.json()['access_token']}"})
            dag = response.json() if response.status_code == 200 else None
        assert health.json()["metadatabase"]["status"] == "healthy"
        assert dag["dag_id"] == "puente_nightly" and dag["is_paused"] is False
        assert not dag.get("has_import_errors")
        seen |= _descendants(make.pid)
        names = " ".join(_cmdline(p) for p in seen)
        for component in ("standalone", "scheduler", "dag-processor", "api_server", "triggerer", "simulators"):
            assert component in names, f"{component} is not running under make airflow"
        printed = log_path.read_text()
        assert f"Airflow UI:  {base}" in printed
        assert "FileNotFoundError" not in (tmp_path / "puente" / "logs" / "airflow-standalone.log").read_text()

        make.send_signal(signal.SIGTERM)  # what `kill <pid>` or a service manager sends
        make.wait(timeout=90)
        survivors = [p for p in seen if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not survivors, [_cmdline(p) for p in survivors]
        assert not runtime.port_in_use(port)
        assert "Stopped Airflow and the simulators." in log_path.read_text()
    finally:
        for process in _descendants(make.pid) | seen:
            if process.is_running():
                process.kill()
        if make.poll() is None:
            make.kill()
        warehouse.drop_database(warehouse_url, metadata_db)


def _cmdline(process: psutil.Process) -> str:
    """A process's command line; empty once it has exited (or is a zombie waiting to be reaped)."""
    try:
        return " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return ""
