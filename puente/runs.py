"""Who ran what, and how it ended: one row per run of Puente's DAGs in ``ops.dag_runs``.

Airflow keeps its own runs in its metadata database, which a warehouse reader cannot see and which
Airflow prunes (``airflow db clean``). The audit (``marts.audit_log``) needs them beside everything
else Puente did: each run of ``puente_nightly``, ``puente_web_orders`` and ``puente_erasure``, who
triggered it, when it started and finished, and how it ended.

- **Who**: the run's ``triggering_user_name`` (Airflow 3 records the user who triggered a run
  from the UI, the REST API or the CLI; ``dag.test()`` records ``dag_test``); a run the scheduler
  made (``run_type`` scheduled, or asset-triggered) is ``scheduler``. A run cleared and rerun
  keeps the user who first triggered it (Airflow does not record who cleared it on the run; its
  own audit log does).
- **When**: Airflow's start of the run, and the end of its last task.
- **Outcome**: ``running`` from the run's first task that reaches the warehouse, then ``success``,
  ``failed`` (with the tasks that failed) or ``skipped`` (a web-orders run that gave its turn to
  the night), written by the run's last task, a teardown that always runs.

The DAG tasks pass their Airflow context (a mapping with ``dag_run``); this module reads it as
plain attributes and never imports Airflow. Recording never fails a run: a warehouse that cannot
be reached is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"
# Airflow's run types made without a person (DagRunType values).
_UNATTENDED = {"scheduled", "asset_triggered", "asset_materialization"}
# Task states that make a run failed (Airflow's TaskInstanceState values).
_FAILED_STATES = {"failed", "upstream_failed"}
OUTCOMES = ("running", "success", "failed", "skipped")


@dataclass(frozen=True)
class Run:
    dag_id: str
    run_id: str
    run_type: str
    triggered_by: str
    logical_date: date | None
    started_at: datetime | None = None  # when Airflow started the run


def _value(thing: Any) -> str:
    """An enum's value, or the text of anything else (Airflow passes run types as enums)."""
    return str(getattr(thing, "value", thing))


def run_of(context: Mapping[str, Any]) -> Run:
    """The running DAG run, from a task's Airflow context (``context["dag_run"]``)."""
    dag_run = context["dag_run"]
    run_type = _value(dag_run.run_type)
    user = (getattr(dag_run, "triggering_user_name", None) or "").strip()
    logical = getattr(dag_run, "logical_date", None)
    if logical is not None and hasattr(logical, "in_timezone"):
        logical = logical.in_timezone("UTC")
    return Run(dag_id=dag_run.dag_id, run_id=dag_run.run_id, run_type=run_type,
               triggered_by=user or (SCHEDULER if run_type in _UNATTENDED else f"unknown ({run_type} run)"),
               logical_date=logical.date() if logical is not None else None,
               started_at=getattr(dag_run, "start_date", None))


def outcome_of(task_states: Mapping[str, str], *, excluding: Iterable[str] = ()) -> tuple[str, list[str]]:
    """``failed`` and the failed tasks when any task of the run failed (or could not run because
    one upstream failed), else ``success``; ``excluding`` the task asking (it is still running)."""
    left_out = set(excluding)
    failed = sorted(task for task, state in task_states.items()
                    if task not in left_out and _value(state) in _FAILED_STATES)
    return ("failed" if failed else "success"), failed


def record_started(url: str, run: Run) -> None:
    """The run has started (a rerun of the same run starts it again, keeping when it first started)."""
    _write(url, run, "running", None)


def record_finished(url: str, run: Run, outcome: str, failed_tasks: Iterable[str] = ()) -> None:
    """How the run ended: ``success``, ``failed`` (with ``failed_tasks``) or ``skipped``."""
    if outcome not in OUTCOMES[1:]:
        raise ValueError(f"a run ends in one of {OUTCOMES[1:]}, not {outcome!r}")
    _write(url, run, outcome, list(failed_tasks))


def _write(url: str, run: Run, outcome: str, failed_tasks: list[str] | None) -> None:
    finished = outcome != "running"
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute(
                """
                insert into ops.dag_runs (dag_id, run_id, run_type, triggered_by, logical_date, started_at,
                                          outcome, failed_tasks, finished_at)
                values (%(dag_id)s, %(run_id)s, %(run_type)s, %(triggered_by)s, %(logical_date)s,
                        coalesce(%(started_at)s, now()), %(outcome)s, %(failed)s,
                        case when %(finished)s then now() end)
                on conflict (dag_id, run_id) do update set
                    outcome = excluded.outcome, failed_tasks = excluded.failed_tasks,
                    finished_at = excluded.finished_at,
                    triggered_by = coalesce(ops.dag_runs.triggered_by, excluded.triggered_by)
                """, {"dag_id": run.dag_id, "run_id": run.run_id, "run_type": run.run_type,
                      "triggered_by": run.triggered_by, "logical_date": run.logical_date, "outcome": outcome,
                      "started_at": run.started_at, "failed": failed_tasks or [], "finished": finished})
    except psycopg.Error as error:
        log.warning("could not record run %s of %s in ops.dag_runs (%s): the audit log will miss it",
                    run.run_id, run.dag_id, str(error).splitlines()[0] if str(error) else type(error).__name__)
