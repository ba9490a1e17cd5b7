"""docker-compose.yml is for users; no Docker engine runs here, so it is checked against the
Compose Specification's JSON schema, and Compose's interpolation is applied to it (tests/deploy/
stack.py) to check what each container would really receive."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from stack import MissingVariable, interpolate, read_env_file, required_variables

REPO = Path(__file__).resolve().parents[2]
# shared/ lies beside the clone in CI, and two levels up from a worktree under /work/wt.
SPECS = [base / "shared" / "specs" / "compose" / "compose-spec.json" for base in (REPO.parent, REPO.parent.parent)]
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")
TRICKY = 'p@ss:w/rd?#%&+ é'  # every character that would break a URL


@pytest.fixture(scope="module")
def text() -> str:
    return (REPO / "docker-compose.yml").read_text()


@pytest.fixture(scope="module")
def compose(text) -> dict:
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file((REPO / ".env.example").read_text())


def _filled(env_example: dict[str, str], **values: str) -> dict[str, str]:
    """A .env as a user fills it: every empty value of .env.example given."""
    return {**{key: value or f"secret-{key.lower()}" for key, value in env_example.items()}, **values}


def test_compose_file_is_valid_against_the_spec(compose):
    spec = next((path for path in SPECS if path.exists()), None)
    if spec is None:
        pytest.skip(f"compose spec not found at {SPECS}")
    jsonschema.validate(compose, json.loads(spec.read_text()))


def test_compose_runs_the_celery_stack_and_the_simulators(compose):
    assert {"warehouse", "airflow-db", "redis", "simulators", "airflow-init", *AIRFLOW_SERVICES} <= set(compose["services"])
    assert compose["services"]["airflow-worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_env_example_lists_every_secret_compose_requires(text, env_example):
    required = required_variables(text)
    assert {"AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "WAREHOUSE_PASSWORD",
            "AIRFLOW_DB_PASSWORD", "PUENTE_SIM_HUBSPOT_TOKEN"} <= required
    assert required <= set(env_example), f"missing from .env.example: {sorted(required - set(env_example))}"
    assert all(value == "" for key, value in env_example.items() if key in required), "no secret in .env.example"


def test_compose_refuses_to_start_without_each_secret(compose, env_example):
    for name in ("AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "WAREHOUSE_PASSWORD"):
        env = _filled(env_example, **{name: ""})
        with pytest.raises(MissingVariable, match=f"required variable {name} is missing a value: set {name} in .env"):
            interpolate(compose, env)


def test_every_airflow_container_gets_the_same_shared_secrets(compose, env_example):
    services = interpolate(compose["services"], _filled(env_example))
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__FERNET_KEY"] == "secret-airflow_fernet_key", name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "secret-airflow_jwt_secret", name
        assert env["AIRFLOW__API__SECRET_KEY"] == "secret-airflow_api_secret_key", name
        assert ".env" in services[name]["env_file"]


def test_passwords_need_no_escaping(compose, env_example):
    services = interpolate(compose["services"], _filled(env_example, WAREHOUSE_PASSWORD=TRICKY,
                                                        AIRFLOW_DB_PASSWORD=TRICKY))
    env = services["airflow-worker"]["environment"]
    warehouse = json.loads(env["AIRFLOW_CONN_PUENTE_WAREHOUSE"])
    assert warehouse["password"] == TRICKY and warehouse["host"] == "warehouse"
    # Airflow's metadata database: no password in the URLs, libpq reads PGPASSWORD.
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
        assert "airflow@airflow-db:5432/airflow" in env[key] and TRICKY not in env[key]
    assert env["PGPASSWORD"] == TRICKY == services["airflow-db"]["environment"]["POSTGRES_PASSWORD"]
    assert services["warehouse"]["environment"]["POSTGRES_PASSWORD"] == TRICKY


def test_airflow_init_refuses_a_warehouse_password_json_cannot_hold(compose, env_example):
    services = interpolate(compose["services"], _filled(env_example, WAREHOUSE_PASSWORD='say "hi"'))
    init = services["airflow-init"]
    script = init["command"][0]
    env = {"PATH": os.environ["PATH"], **{k: str(v) for k, v in init["environment"].items()}}
    done = subprocess.run([*init["entrypoint"], script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "WAREHOUSE_PASSWORD must not contain a double quote or a backslash" in done.stderr


def test_sources_reach_the_simulators_through_puente_variables_not_connections(compose, env_example):
    from puente import runtime
    from puente.simulators.app import ENV, SECRETS, Credentials

    services = interpolate(compose["services"], _filled(env_example))
    simulators = services["simulators"]["environment"]
    # Every simulator's secret (a source's credentials, puente/simulators/app.py) is set in .env
    # and reaches the simulators; every registered source reaches them from Airflow (below).
    assert {ENV[name] for name in SECRETS} <= set(env_example) & set(simulators)
    # What the simulators accept, and what the local runtime would hand the DAG for them.
    credentials = Credentials(**{name: simulators[var] for name, var in ENV.items()})
    expected = runtime.simulated_sources_env(credentials, "http://simulators:8765")
    assert "PUENTE_SIMULATORS_URL" in expected and "PUENTE_SHOPIFY_URL" in expected
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        env = services[name]["environment"]
        # A connection here would override one the user makes in the UI.
        assert [k for k in env if k.startswith("AIRFLOW_CONN_")] == ["AIRFLOW_CONN_PUENTE_WAREHOUSE"], name
        assert {k: env.get(k) for k in expected} == expected, name
    # .env.example shows how to add a real system's connection, but only commented out.
    assert not [key for key in env_example if key.startswith("AIRFLOW_CONN_")]
    assert "# AIRFLOW_CONN_PUENTE_HUBSPOT=" in (REPO / ".env.example").read_text()


def test_airflow_services_have_healthchecks_restarts_and_shared_volumes(compose):
    services = compose["services"]
    for name in (*AIRFLOW_SERVICES, "simulators", "warehouse", "airflow-db", "redis"):
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["restart"] in ("always", "unless-stopped"), name
    assert services["airflow-init"]["restart"] == "no"
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        volumes = services[name]["volumes"]
        assert "artifacts:/opt/puente/artifacts" in volumes and "logs:/opt/airflow/logs" in volumes, name
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    assert {"artifacts", "logs"} <= set(compose["volumes"])


def test_compose_holds_no_literal_secret(compose):
    secretive = ("PASSWORD", "TOKEN", "API_KEY", "SECRET", "FERNET", "AIRFLOW_CONN_")
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in secretive) and not key.endswith("_FILE"):
                assert "${" in str(value), f"{key} must come from .env"


def test_celery_provider_and_redis_client_are_pinned():
    pins = dict(line.split("==") for line in (REPO / "constraints.txt").read_text().split())
    for package in ("apache-airflow-providers-celery", "celery", "kombu", "redis"):
        assert package in pins, f"{package} is not pinned in constraints.txt"
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'celery = [\n  "apache-airflow-providers-celery",\n  "redis",\n]' in pyproject
