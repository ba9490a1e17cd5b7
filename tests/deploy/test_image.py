"""The image, tested without Docker: what its build context holds, and that its build steps and
every service's command work in an environment laid out like it.

The context is computed with the ``.dockerignore`` rules and copied to a temporary folder; the
Dockerfile's dbt step runs there with the Dockerfile's ``ENV`` (``/opt/puente`` mapped onto the
copy), and the DAG, the executor and each service's command are then resolved with the copy's
code first on ``sys.path`` and the environment docker-compose.yml gives the Airflow services.
The Python packages are the virtualenv's, installed from the same lock and extras as the image's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from stack import (
    build_context,
    dockerfile_env,
    dockerfile_instructions,
    dockerignore_rules,
    interpolate,
    is_ignored,
    read_env_file,
)

REPO = Path(__file__).resolve().parents[2]
IMAGE_ROOT = "/opt/puente"
VENV_BIN = str(Path(sys.executable).parent)


@pytest.fixture(scope="module")
def rules():
    return dockerignore_rules((REPO / ".dockerignore").read_text())


def test_the_context_holds_the_project_and_nothing_secret_or_local(rules):
    context = set(build_context(REPO, rules))
    for needed in ("pyproject.toml", "constraints.txt", "README.md", "dags/puente_nightly.py", "puente/cli.py",
                   "puente/simulators/server.py", "ml/__init__.py", "expectations/gates.py",
                   "dbt_project/dbt_project.yml", "dbt_project/profiles.yml"):
        assert needed in context, f"{needed} is missing from the build context"
    assert not [p for p in context if p.startswith(("tests/", "bench/", ".venv/", ".puente/", ".git/"))]
    assert not [p for p in context if p.startswith("dbt_project/target/") or "__pycache__" in p]
    # Paths a user's folder may hold, whether or not this one does.
    assert not is_ignored("puente.yml", rules), "the business's list of systems belongs in the image"
    for secret_or_local in (".env", ".env.production", "puente/.env", "dbt_project/.env.local", ".venv/bin/python",
                            ".puente/pgdata/PG_VERSION", ".git/config", "dbt_project/target/manifest.json",
                            "dbt_project/logs/dbt.log", "puente/__pycache__/cli.cpython-311.pyc", "notes.txt",
                            "puente.egg-info/PKG-INFO"):
        assert is_ignored(secret_or_local, rules), f"{secret_or_local} would be copied into the image"


def test_the_dockerfile_copies_the_context_as_the_airflow_user_and_builds_the_manifest():
    steps = dockerfile_instructions((REPO / "Dockerfile").read_text())
    assert steps[0] == ("FROM", "apache/airflow:slim-3.3.0-python3.11")
    user = None
    for instruction, args in steps:
        if instruction == "USER":
            user = args
        if instruction in ("COPY", "RUN") and user != "root":
            assert user == "airflow", f"{instruction} {args} runs as {user}"
        if instruction == "COPY":
            assert args.startswith("--chown=airflow:root")
    runs = [args for instruction, args in steps if instruction == "RUN"]
    assert any("-c constraints.txt" in run and "'.[celery]'" in run for run in runs)
    assert any("puente dbt-parse" in run for run in runs)
    assert any("mkdir -p /opt/puente/artifacts" in run for run in runs)


@pytest.fixture(scope="module")
def image_copy(rules, tmp_path_factory):
    """The build context copied to a folder standing for /opt/puente, after the Dockerfile's
    dbt step has run in it exactly as written."""
    root = tmp_path_factory.mktemp("image") / "puente"
    for rel in build_context(REPO, rules):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    env = _image_env(root)
    steps = dockerfile_instructions((REPO / "Dockerfile").read_text())
    (parse_step,) = [args for instruction, args in steps if instruction == "RUN" and "dbt-parse" in args]
    done = subprocess.run(["bash", "-c", parse_step], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\x1b[" not in done.stdout + done.stderr, "dbt wrote ANSI colour codes into the build log"
    return root


def _image_env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The Dockerfile's ENV with /opt/puente mapped onto ``root``; PATH and PYTHONPATH as in the
    image (its Python's scripts, the project's code first)."""
    env = {k: v.replace(IMAGE_ROOT, str(root)) for k, v in dockerfile_env((REPO / "Dockerfile").read_text()).items()}
    env.update({k: v.replace(IMAGE_ROOT, str(root)) for k, v in (extra or {}).items()})
    env.update({"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
                "PYTHONPATH": str(root), "AIRFLOW_HOME": str(root.parent / "airflow-home")})
    return env


def test_the_manifest_is_built_into_the_image(image_copy):
    manifest = json.loads((image_copy / "dbt_project" / "target" / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {"dim_customers", "fct_orders", "act_crm_contact_scores", "act_web_orders_to_erp"} <= models


_SERVICE_CHECK = r"""
import json, os, sys
from airflow.cli import cli_parser
from pathlib import Path
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.executors.executor_loader import ExecutorLoader

import puente
from puente.simulators.server import build_parser
from puente.sources import registry

commands = json.loads(sys.argv[1])
bag = BundleDagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"],
                   bundle_path=Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]))  # as the DAG processor does
parser = cli_parser.get_parser()
for name, argv in commands["airflow"].items():
    parser.parse_args(argv)  # exits non-zero on a command this Airflow does not have
build_parser().parse_args(commands["simulators"])
from airflow.providers.celery.executors.celery_executor import app  # the worker healthcheck's --app
print(json.dumps({
    "puente_from": puente.__file__,
    "import_errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()},
    "dags": sorted(bag.dag_ids),
    "tasks": len(bag.dags["puente_nightly"].tasks) if "puente_nightly" in bag.dags else 0,
    "executor": ExecutorLoader.import_default_executor_cls()[0].__name__,
    "celery_app": app.main,
    "sources": {s.name: s.config.from_env().origin for s in registry.configured()},
}))
"""


def test_every_service_finds_what_it_needs(image_copy):
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    env_example = read_env_file((REPO / ".env.example").read_text())
    dot_env = {key: value or f"test-{key.lower()}" for key, value in env_example.items()}
    dot_env["AIRFLOW_FERNET_KEY"] = "a" * 43 + "="  # 32 bytes, url-safe base64, as Fernet requires
    services = interpolate(compose["services"], dot_env)
    airflow_env = {k: str(v) for k, v in services["airflow-scheduler"]["environment"].items()}
    ours = {name: s for name, s in services.items() if s.get("image") == "puente-airflow:local"}
    assert set(ours) >= {"airflow-apiserver", "airflow-scheduler", "airflow-worker", "simulators", "airflow-init"}
    commands = {"airflow": {name: s["command"] for name, s in ours.items()
                            if name not in ("airflow-init", "simulators")},
                "simulators": services["simulators"]["command"][3:]}
    commands["airflow"]["airflow-init"] = ["db", "migrate"]
    for name, service in ours.items():
        check = (service.get("healthcheck") or {}).get("test", [])
        if check[:1] == ["CMD-SHELL"] and check[1].startswith("airflow "):
            commands["airflow"][f"{name} healthcheck"] = check[1].split()[1:5] + ["--hostname", "h"]
    done = subprocess.run([sys.executable, "-c", _SERVICE_CHECK, json.dumps(commands)], cwd=image_copy,
                          env=_image_env(image_copy, airflow_env), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["puente_from"].startswith(str(image_copy)), "the DAG must import the image's own code"
    assert found["import_errors"] == {}
    assert found["dags"] == ["puente_erasure", "puente_nightly", "puente_review_decisions", "puente_web_orders"] and found["tasks"] > 40
    assert found["executor"] == "CeleryExecutor" and found["celery_app"]
    # Each source's settings resolve from the environment compose gives, and say they are the simulator's.
    assert found["sources"] == {name: f"environment PUENTE_{name.upper()}_* (simulator)"
                                for name in ("odoo", "hubspot", "shopify")}
    assert shutil.which("celery", path=VENV_BIN), "the worker's healthcheck runs `celery`"
