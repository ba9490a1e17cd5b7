"""docker-compose.yml is for users; no Docker engine runs here, so it is checked against the
Compose Specification's JSON schema and for the promises the README makes about it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO.parent / "shared" / "specs" / "compose" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_file_is_valid_against_the_spec(compose):
    if not SPEC.exists():
        pytest.skip(f"compose spec not found at {SPEC}")
    jsonschema.validate(compose, json.loads(SPEC.read_text()))


def test_compose_runs_the_celery_stack_and_the_simulators(compose):
    services = set(compose["services"])
    assert {"warehouse", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker", "redis", "simulators"} <= services
    worker_env = compose["services"]["airflow-worker"]["environment"]
    assert worker_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_compose_holds_no_literal_secret(compose):
    text = (REPO / "docker-compose.yml").read_text()
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "TOKEN", "API_KEY")):
                assert str(value).startswith("${"), f"{key} must come from the environment"
    assert "password:" not in text.lower().replace("_password:", "")
