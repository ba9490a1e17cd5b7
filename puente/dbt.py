"""Running Puente's dbt project (``dbt_project/``) from Python.

dbt reads its connection from ``PUENTE_DBT_*`` environment variables (see
``dbt_project/profiles.yml``); ``run_dbt`` derives them from a warehouse URL, so callers only
ever pass the URL. The nightly selectors:

- main build, after the raw gate: ``["build", "--exclude", "tag:activation"]``
- activations, after ML scoring: ``["build", "--select", "tag:activation"]``

both without the project's unit tests (``NIGHTLY_EXCLUDED_RESOURCE_TYPES``), which ``make test`` runs.

The Airflow DAG renders the project with astronomer-cosmos from ``target/manifest.json``
(``LoadMode.DBT_MANIFEST``) so that DAG parsing never runs dbt; ``ensure_manifest`` keeps that
file current.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from puente.config import NIGHTLY_EXCLUDED_RESOURCE_TYPES, dbt_project_dir, puente_home
from puente.warehouse import DBT_PROFILE_OPTIONS, LIBPQ_ENV_OPTIONS, connection_options

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

_NIGHTLY_EXCLUDES = tuple(arg for kind in NIGHTLY_EXCLUDED_RESOURCE_TYPES for arg in ("--exclude-resource-type", kind))
MAIN_BUILD_ARGS = ("build", "--exclude", "tag:activation", *_NIGHTLY_EXCLUDES)
ACTIVATION_BUILD_ARGS = ("build", "--select", "tag:activation", *_NIGHTLY_EXCLUDES)

# dbt parses without connecting, but profiles.yml still needs every variable to render.
_PARSE_ONLY_ENV = {
    "PUENTE_DBT_HOST": "127.0.0.1",
    "PUENTE_DBT_PORT": "5432",
    "PUENTE_DBT_USER": "puente",
    "PUENTE_DBT_PASSWORD": "",
    "PUENTE_DBT_DBNAME": "puente",
}
_QUIET_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
_FAILED_STATUSES = {"error", "fail", "runtime error"}


class DbtFailed(RuntimeError):
    """A dbt invocation failed; the message lists each failing node and what it said."""

    def __init__(self, command: str, failures: list[str]):
        self.failures = failures
        listing = "\n".join(f"  - {failure}" for failure in failures)
        super().__init__(
            f"dbt {command} failed ({len(failures)} node(s)):\n{listing}\n"
            f"Compiled SQL of each node is under {dbt_project_dir() / 'target' / 'compiled'}; "
            f"run `dbt {command} --select <node>` to reproduce."
        )


def dbt_env(url: str) -> dict[str, str]:
    """The ``PUENTE_DBT_*`` variables that profiles.yml reads, from a ``postgresql://`` URL.

    The URL's libpq options (``?sslmode=verify-full&sslrootcert=…``, see
    ``puente.warehouse.CONNECTION_OPTIONS``) reach dbt too: as profile fields where dbt-postgres
    has them, as libpq's own ``PG*`` variables otherwise. So Python and dbt connect alike.
    """
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise ValueError(f"not a PostgreSQL URL: {parts.scheme}://…")
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ValueError("the warehouse URL names no database (expected postgresql://user@host:port/dbname)")
    env = {
        "PUENTE_DBT_HOST": parts.hostname or "127.0.0.1",
        "PUENTE_DBT_PORT": str(parts.port or 5432),
        "PUENTE_DBT_USER": unquote(parts.username or "postgres"),
        "PUENTE_DBT_PASSWORD": unquote(parts.password or ""),
        "PUENTE_DBT_DBNAME": unquote(dbname),
    }
    for option, value in connection_options(url).items():
        env[DBT_PROFILE_OPTIONS.get(option) or LIBPQ_ENV_OPTIONS[option]] = value
    return env


PROFILE_NAME, PROFILE_TARGET = "puente", "warehouse"


def profile_target() -> dict:
    """dbt's connection profile as ``dbt_project/profiles.yml`` declares it (its ``warehouse``
    target): every field a template over the ``PUENTE_DBT_*`` variables ``dbt_env`` sets, no value
    and no secret. The nightly DAG hands this same profile to cosmos, so dbt connects alike from
    ``puente dbt …`` and from Airflow."""
    import yaml

    profiles = yaml.safe_load((dbt_project_dir() / "profiles.yml").read_text())
    return dict(profiles[PROFILE_NAME]["outputs"][PROFILE_TARGET])


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a dbt call, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def lighten_adapter_start() -> None:
    """Two costs that dbt's adapter start-up pays in a process that runs dbt many times (cosmos'
    dbtRunner tasks in ``dag.test()``, the demo, the tests); call this before each dbt command.

    - dbt-adapters (1.24.5, the newest) hands its module-level ``DEFAULT_BASE_BEHAVIOR_FLAGS`` to each
      new adapter, whose ``behavior`` setter *extends that list in place* with the adapter's own flags
      (Postgres: one). dbt creates an adapter per command, so the list gains a flag each time: 5 flags
      built for the ninth dbt task of a night, 56 for the sixtieth (about 1.5 CPU-s). Each flag name
      is kept once, as the first command saw it.
    - Each flag built names the module that declared it by walking ``inspect.stack()``, which reads
      the source file of every frame (about 0.1 CPU-s a flag). The same name is read from the
      frames' globals instead.
    """
    from dbt.adapters.base import impl
    from dbt_common import behavior_flags

    seen: set[str] = set()
    impl.DEFAULT_BASE_BEHAVIOR_FLAGS[:] = [flag for flag in impl.DEFAULT_BASE_BEHAVIOR_FLAGS
                                           if not (flag["name"] in seen or seen.add(flag["name"]))]
    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(_declaring_module)


def _declaring_module() -> str:
    """The module of the nearest caller outside dbt_common.behavior_flags (what dbt's own
    ``_default_source`` finds through ``inspect.stack()``)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != "dbt_common.behavior_flags":
            return name
        frame = frame.f_back
    return "Unknown"


# Where run_dbt's commands write dbt's files (run results, compiled SQL, the partial parse) when set,
# a folder per warehouse database and --vars in it (``_target_folder``); by default the project's
# target/. `make test`'s two processes name one each, so that they never write one folder. run_dbt
# hands it to dbt as DBT_TARGET_PATH for the length of its call only: set in the process, cosmos'
# tasks would inherit it and read and write their partial parse outside their own copy of the project.
TARGET_PATH_ENV = "PUENTE_DBT_TARGET_PATH"


def _target_folder(args: list[str], connection: Mapping[str, str]) -> dict[str, str]:
    """dbt's DBT_TARGET_PATH for a run_dbt command: under ``PUENTE_DBT_TARGET_PATH``, one folder per
    database (``connection``: ``dbt_env``'s variables) and value of ``--vars``. dbt keeps one partial
    parse per target folder and parses the whole project again (about 3 s) when the connection
    settings or the --vars differ from those it was saved with; commands that alternate between
    databases or vars (the tests' fixtures) each keep theirs."""
    base = os.environ.get(TARGET_PATH_ENV)
    if not base:
        return {}
    cli_vars = args[args.index("--vars") + 1] if "--vars" in args[:-1] else ""
    settings = sorted((k, v) for k, v in connection.items() if k != "PUENTE_DBT_PASSWORD")
    key = hashlib.sha256(repr((settings, cli_vars)).encode()).hexdigest()[:12]
    return {"DBT_TARGET_PATH": str(Path(base) / f"{connection['PUENTE_DBT_DBNAME']}-{key}")}


def side_target(name: str) -> Path:
    """The target folder of a dbt command that runs beside the nightly build (``freshness``,
    ``web-orders``), so that it never rewrites the build's partial parse: under
    ``PUENTE_DBT_TARGET_PATH`` when set, else ``.puente/dbt-<name>``."""
    base = os.environ.get(TARGET_PATH_ENV)
    return Path(base) / name if base else puente_home() / f"dbt-{name}"


def _invoke(args: list[str], env: Mapping[str, str]) -> dbtRunnerResult:
    from dbt.cli.main import dbtRunner

    lighten_adapter_start()
    project = str(dbt_project_dir())
    args = [*args, "--project-dir", project, "--profiles-dir", project]
    # dbt writes the process's own command line into its log and run_results.json as the
    # "invocation_command": the dbt command's, never the caller's (`puente erase --email …`)
    argv, sys.argv = sys.argv, ["dbt", *args]
    try:
        with _environ({**_QUIET_ENV, **env}):
            return dbtRunner().invoke(args)
    finally:
        sys.argv = argv


def _failures(result: dbtRunnerResult) -> list[str]:
    failures = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(node_result.status)
        if status in _FAILED_STATUSES:
            node = node_result.node
            message = " ".join(str(node_result.message or "").split())
            failures.append(f"{node.unique_id} [{status}]: {message}")
    return failures


def run_dbt(args: list[str], url: str, env: Mapping[str, str] | None = None) -> dbtRunnerResult:
    """Run one dbt command (``["build", "--exclude", "tag:activation"]``) against ``url``.

    Raises ``DbtFailed`` naming every failed model, test or seed, or dbt's own error when it
    could not run at all (bad project, unreachable warehouse). The PUENTE_DBT_* variables, and
    ``env`` (``{"PUENTE_AS_OF_DATE": "2026-11-16"}``: the day the models measure from, as the nightly
    DAG gives it; unlike ``--vars``, a new value does not make dbt parse the whole project again), are
    set in this process for the duration of the call: run one dbt command at a time per process.
    """
    args, connection = list(args), dbt_env(url)
    # as dbt's own variable only for this call: commands without a target folder (debug) ignore it,
    # and an explicit --target-path wins over it
    result = _invoke(args, {**connection, **_target_folder(args, connection), **(env or {})})
    if result.success:
        return result
    command = next((arg for arg in args if not arg.startswith("-")), "?")
    if result.exception is not None:
        raise DbtFailed(command, [f"{type(result.exception).__name__}: {result.exception}"]) from result.exception
    raise DbtFailed(command, _failures(result) or ["dbt reported failure without a failing node; see dbt's log"])


def source_freshness(url: str, sources: list[str], target_path: Path | None = None) -> list[dict]:
    """``dbt source freshness`` over ``sources`` (names of dbt sources: ``shopify``, ``ml``…), with the
    thresholds their ``_*__sources.yml`` declare (``loaded_at_field``, ``warn_after``, ``error_after``).

    One dict per table that holds records: ``source``, ``table``, ``status`` (``pass``, ``warn``,
    ``error``), ``max_loaded_at``, ``age_seconds`` and the ``threshold`` it broke. A table that never
    received a record is left out (a system not in use is not stale). A stale source is a result, not
    an error: only a freshness query dbt could not run raises ``DbtFailed``. ``target_path``: where dbt
    writes its files (``side_target("freshness")`` by default)."""
    args = ["source", "freshness", "--select", *(f"source:{name}" for name in sources),
            "--target-path", str(target_path or side_target("freshness"))]
    result = _invoke(args, dbt_env(url))
    if result.exception is not None:
        raise DbtFailed("source freshness", [f"{type(result.exception).__name__}: {result.exception}"]) \
            from result.exception
    found, errors = [], []
    for node_result in getattr(result.result, "results", None) or []:
        node = node_result.node
        if getattr(node, "resource_type", None) != "source":  # the project's on-run hooks
            continue
        status = str(node_result.status)
        if status == "runtime error":
            errors.append(f"{node.unique_id}: {' '.join(str(node_result.message or '').split())}")
            continue
        # an empty table: dbt reports the year 1 as its latest record
        if node_result.max_loaded_at is None or node_result.max_loaded_at.year < 1900:
            continue
        freshness = node.freshness
        criteria = freshness.error_after if status == "error" else freshness.warn_after
        period = getattr(criteria.period, "value", criteria.period) if criteria else None
        found.append({"source": node.source_name, "table": node.name, "status": status,
                      "max_loaded_at": node_result.max_loaded_at.isoformat(timespec="minutes"),
                      "age_seconds": float(node_result.age),
                      "threshold": f"{criteria.count} {period}s" if criteria and criteria.count else ""})
    if errors:
        raise DbtFailed("source freshness", errors)
    return found


def _newest_source_mtime(project: Path) -> float:
    files = [project / "dbt_project.yml", project / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests", "snapshots"):
        files.extend(path for path in (project / folder).rglob("*") if path.is_file())
    return max(path.stat().st_mtime for path in files if path.exists())


def ensure_manifest(url: str | None = None) -> Path:
    """Return ``dbt_project/target/manifest.json``, running ``dbt parse`` first when it is
    missing or older than any SQL/YAML file of the project.

    Parsing does not connect to the warehouse; without ``url`` the ``PUENTE_DBT_*`` variables
    already set are used, and placeholders for any that are not.
    """
    project = dbt_project_dir()
    manifest = project / "target" / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(project):
        return manifest
    env = dbt_env(url) if url else {name: os.environ.get(name, value) for name, value in _PARSE_ONLY_ENV.items()}
    # written where it is read, whatever DBT_TARGET_PATH (or DBT_WRITE_JSON) says
    result = _invoke(["parse", "--write-json", "--target-path", str(project / "target")], env)
    if not result.success:
        raise DbtFailed("parse", [f"{type(result.exception).__name__}: {result.exception}"]
                        if result.exception is not None else ["see dbt's log"])
    return manifest
