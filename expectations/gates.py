"""The nightly gates: validate the warehouse with Great Expectations, record the outcome.

- ``run_raw_gate``: after extraction, before dbt — landing integrity of every non-empty raw
  table and the share of quarantined records of the night's batches.
- ``run_marts_gate``: after the dbt build — keys, amounts, currencies and dates of the marts.
- ``run_sync_gate``: after ``dbt build --select tag:activation`` — every activation model
  (what is about to be written to the ERP, the shop and the CRM).

Each gate builds one ephemeral GX context with a PostgreSQL data source on the warehouse,
validates its targets (``expectations.suites``), records one row in ``ops.gate_results`` and
returns a ``GateResult``; with a logical date, the gate's Great Expectations data docs (one page
per validated table, and an index) are written under the night's folder
(``data_docs_index(day, gate)``) for the run report to link to. ``GateResult.raise_for_failure()``
stops the night with a ``GateFailed`` that says what failed and where to look. Plain Python: the DAG calls these
functions inside its tasks.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb

from puente.config import run_folder
from puente.warehouse import RAW_OBJECTS, describe, sqlalchemy_url

if TYPE_CHECKING:
    from expectations.suites import Target

log = logging.getLogger(__name__)

EXAMPLES_SHOWN = 5
# A check's severity, from its expectation's ``meta["severity"]``: a failed ``error`` check fails
# the gate and stops the night; a failed ``warn`` check is recorded, logged and reported (alerts,
# run report) while the night goes on.
ERROR, WARN = "error", "warn"
_ARGUMENTS_SHOWN = ("min_value", "max_value", "value_set", "regex")


class GateFailed(RuntimeError):
    """A gate refused the data; the message lists every failed check and what to look at."""

    def __init__(self, result: GateResult):
        self.result = result
        failed = result.errors
        where = f"logical date {result.logical_date}" if result.logical_date else "latest data"
        lines = [f"{result.gate} gate failed {result.failed} of {result.evaluated} checks ({where}, {result.warehouse}):"]
        for check in failed:
            lines.append(f"  - {describe_check(check)}")
            if check.get("hint"):
                lines.append(f"    what to look at: {check['hint']}")
        lines.append(
            "Nothing downstream of this gate runs until it passes; rerun the gate after fixing the data. "
            f"The run is recorded in ops.gate_results (gate_run_id {result.gate_run_id})."
        )
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class GateResult:
    """Outcome of one gate run: ``details`` has one entry per check (JSON-ready)."""

    gate: str
    success: bool
    evaluated: int
    failed: int
    details: list[dict[str, Any]] = field(default_factory=list)
    logical_date: date | None = None
    gate_run_id: int | None = None
    warehouse: str = ""

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The failed checks that fail the gate (severity ``error``)."""
        return [check for check in self.details if not check["success"] and check.get("severity") != WARN]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """The failed checks of severity ``warn``: people are told, the night goes on."""
        return [check for check in self.details if not check["success"] and check.get("severity") == WARN]

    def raise_for_failure(self) -> GateResult:
        if not self.success:
            raise GateFailed(self)
        return self

    def summary(self) -> dict[str, Any]:
        """A small JSON-ready summary (an Airflow task's return value): counts and failed checks."""
        return {
            "gate": self.gate,
            "success": self.success,
            "evaluated": self.evaluated,
            "failed": self.failed,
            "logical_date": self.logical_date.isoformat() if self.logical_date else None,
            "gate_run_id": self.gate_run_id,
            "failed_checks": [describe_check(check) for check in self.errors],
            "warnings": [describe_check(check) for check in self.warnings],
        }


def run_raw_gate(url: str, logical_date: date | str | None = None, max_quarantine_share: float = 0.05) -> GateResult:
    """Landing integrity of every non-empty raw table, and at most ``max_quarantine_share`` of
    the records received per source object quarantined in the batches of ``logical_date``
    (the latest logical date in ops.load_batches when None)."""
    from expectations import suites

    day = _as_date(logical_date)
    with psycopg.connect(url) as conn:
        day = day or conn.execute("select max(logical_date) from ops.load_batches").fetchone()[0]
        non_empty = {
            obj.qualified_table for obj in RAW_OBJECTS
            if conn.execute(f"select exists (select from {obj.qualified_table})").fetchone()[0]
        }
    return _run_gate("raw", url, day, suites.raw_targets(non_empty, day, max_quarantine_share))


def run_marts_gate(url: str, logical_date: date | str | None = None) -> GateResult:
    """Keys, amounts, currencies and dates of marts.dim_customers and marts.fct_orders."""
    from expectations import suites

    return _run_gate("marts", url, _as_date(logical_date), suites.marts_targets())


def run_sync_gate(url: str, logical_date: date | str | None = None, activations: list | None = None) -> GateResult:
    """The activation models (``activations``: the declared ones by default): a key and a payload
    per row; for the CRM score fields a score in [0, 1], a known risk band and action."""
    from expectations import suites

    return _run_gate("sync", url, _as_date(logical_date), suites.activation_targets(activations))


# --------------------------------------------------------------------------------------------


def _as_date(value: date | str | None) -> date | None:
    """Accept a date, a datetime or Airflow's ``ds`` string (``2026-11-21``)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def data_docs_index(logical_date: date, gate: str) -> Path:
    """The index page of a gate's Great Expectations data docs for one night (rewritten by a rerun)."""
    return run_folder(logical_date) / "data_docs" / gate / "index.html"


def _run_gate(gate: str, url: str, logical_date: date | None, targets: list[Target]) -> GateResult:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs = _DataDocs(context, gate, logical_date) if logical_date else None
    source = context.data_sources.add_postgres(name="warehouse", connection_string=sqlalchemy_url(url))
    with psycopg.connect(url) as conn:
        missing = {t.table for t in targets if conn.execute("select to_regclass(%s)", (t.table,)).fetchone()[0] is None}

    checks: list[dict[str, Any]] = []
    try:
        for target in targets:
            if target.table in missing:
                checks.append(_missing_table_check(target))
            else:
                checks.extend(_validate(context, source, target, docs))
    finally:
        source.get_engine().dispose()
    if docs:
        docs.build()

    failed = sum(not check["success"] and check["severity"] != WARN for check in checks)
    result = GateResult(
        gate=gate, success=failed == 0, evaluated=len(checks), failed=failed,
        details=checks, logical_date=logical_date, warehouse=describe(url),
    )
    result = _record(url, result)
    log.info("%s gate: %s (%d checks, %d failed, %d warnings, gate_run_id %s)", gate,
             "passed" if result.success else "FAILED", result.evaluated, result.failed, len(result.warnings),
             result.gate_run_id)
    for warning in result.warnings:
        log.warning("%s gate warning: %s", gate, describe_check(warning))
    return result


class _DataDocs:
    """A gate's data docs: each validation result is kept in the ephemeral context's (in-memory)
    results store, then one file site under the night's folder renders them with an index. A
    failure here is logged and never changes the gate's outcome: the docs are for reading."""

    def __init__(self, context: Any, gate: str, logical_date: date):
        from great_expectations.core.run_identifier import RunIdentifier

        self.context, self.folder = context, data_docs_index(logical_date, gate).parent
        self.run_id = RunIdentifier(run_name=f"{gate}-gate-{logical_date}", run_time=datetime.now(UTC))
        self.keys: list[Any] = []

    def keep(self, batch: Any, suite_name: str, validation: Any) -> None:
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        try:
            key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=suite_name), self.run_id, batch.id)
            self.context.validation_results_store.set(key, validation)
            self.keys.append(key)
        except Exception as error:  # the docs never fail a gate
            log.warning("data docs: could not keep the validation of %s: %s", suite_name, error)

    def build(self) -> None:
        import shutil

        try:
            shutil.rmtree(self.folder, ignore_errors=True)  # a rerun's docs replace the night's earlier ones
            self.context.add_data_docs_site("night", {
                "class_name": "SiteBuilder", "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(self.folder)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
            self.context.build_data_docs(site_names=["night"], resource_identifiers=self.keys)
            self._drop_unused_images()
        except Exception as error:  # the docs never fail a gate
            log.warning("data docs of the gate could not be written to %s: %s", self.folder, error)

    def _drop_unused_images(self) -> None:
        """GX copies its tutorial animations (3.4 MB) into every site; no page of ours shows them."""
        pages = " ".join(p.read_text(errors="replace") for p in self.folder.rglob("*") if p.suffix in (".html", ".css"))
        for image in (self.folder / "static" / "images").glob("*"):
            if image.name not in pages:
                image.unlink()


def _validate(context: Any, source: Any, target: Target, docs: _DataDocs | None = None) -> list[dict[str, Any]]:
    if target.query:
        asset = source.add_query_asset(name=target.suite.name, query=target.query)
    else:
        schema, table = target.table.split(".", 1)
        asset = source.add_table_asset(name=target.table, table_name=table, schema_name=schema)
    batch = asset.add_batch_definition_whole_table("whole table").get_batch()
    validation = batch.validate(
        context.suites.add(target.suite),
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": EXAMPLES_SHOWN,
            "unexpected_index_column_names": [target.key, *target.shown],
        },
    )
    if docs:
        docs.keep(batch, target.suite.name, validation)
    return [_check(target, result) for result in validation.results]


def _check(target: Target, validation: Any) -> dict[str, Any]:
    config = validation.expectation_config
    kwargs = config.kwargs
    outcome = validation.result or {}
    error = (validation.exception_info or {}).get("exception_message")
    if error is None:  # failed metrics report their exceptions keyed by metric
        nested = [info for info in (validation.exception_info or {}).values() if isinstance(info, dict)]
        error = next((info.get("exception_message") for info in nested if info.get("raised_exception")), None)
    check = {
        "table": target.table,
        "column": kwargs.get("column"),
        "expectation": config.type,
        "arguments": {name: kwargs[name] for name in _ARGUMENTS_SHOWN if kwargs.get(name) is not None},
        "success": bool(validation.success),
        "element_count": outcome.get("element_count"),
        "unexpected_count": outcome.get("unexpected_count"),
        "observed_value": outcome.get("observed_value"),
        "examples": outcome.get("partial_unexpected_index_list") or outcome.get("partial_unexpected_list") or [],
        "error": error.splitlines()[0] if error else None,
        "hint": (config.meta or {}).get("hint"),
        "severity": (config.meta or {}).get("severity", ERROR),
    }
    return json.loads(json.dumps(check, default=str))


def _missing_table_check(target: Target) -> dict[str, Any]:
    return {
        "table": target.table, "column": None, "expectation": "table_exists", "arguments": {},
        "success": False, "element_count": None, "unexpected_count": None, "observed_value": None,
        "examples": [], "error": f"{target.table} does not exist", "severity": ERROR,
        "hint": "build it first: dbt models are built by `dbt build` (the activation models by "
                "`dbt build --select tag:activation`), raw and ops tables by puente.warehouse.ensure_schema",
    }


def describe_check(check: dict[str, Any]) -> str:
    """One check of ``GateResult.details`` in a line: where, which expectation, what was observed
    (the gate's failure message, its log and the alerts of ``puente.alerts`` all read it so)."""
    where = check["table"] + (f".{check['column']}" if check.get("column") else "")
    arguments = ", ".join(f"{name}={value}" for name, value in check.get("arguments", {}).items())
    expectation = f"{check['expectation']}({arguments})"
    if check.get("error"):
        observed = f"could not be evaluated: {check['error']}"
    elif check.get("unexpected_count") is not None:
        observed = f"{check['unexpected_count']} of {check['element_count']} rows unexpected"
        if check.get("examples"):
            observed += ", e.g. " + "; ".join(_describe_example(example) for example in check["examples"])
    else:
        observed = f"observed {check.get('observed_value')}"
    return f"{where}: {expectation}: {observed}"


def _describe_example(example: Any) -> str:
    if isinstance(example, dict):
        return " ".join(f"{name}={value}" for name, value in example.items())
    return str(example)


def _record(url: str, result: GateResult) -> GateResult:
    with psycopg.connect(url) as conn:
        gate_run_id = conn.execute(
            "insert into ops.gate_results (gate, logical_date, success, evaluated, failed, details) "
            "values (%s, %s, %s, %s, %s, %s) returning gate_run_id",
            (result.gate, result.logical_date, result.success, result.evaluated, result.failed,
             Jsonb(result.details)),
        ).fetchone()[0]
    return replace(result, gate_run_id=gate_run_id)
