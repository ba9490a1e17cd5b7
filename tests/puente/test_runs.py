"""The audit of runs (puente/runs.py): each run of Puente's DAGs with who triggered it, when and how
it ended, in ops.dag_runs and in marts.audit_log (real dbt on a fresh database). The DAG's own
recording, from a real run's context, is tested with the erasure DAG (tests/dbt/test_erasure.py)."""

from __future__ import annotations

from datetime import date
from enum import Enum
from types import SimpleNamespace

import pendulum
import psycopg
import pytest

from puente import runs
from puente.dbt import run_dbt


class RunType(Enum):  # as Airflow passes it (airflow.utils.types.DagRunType)
    SCHEDULED = "scheduled"
    MANUAL = "manual"


def _context(dag_id: str, run_id: str, run_type: RunType, user: str | None, day: str | None,
             started: str | None = None) -> dict:
    dag_run = SimpleNamespace(dag_id=dag_id, run_id=run_id, run_type=run_type, triggering_user_name=user,
                              logical_date=pendulum.parse(day) if day else None,
                              start_date=pendulum.parse(started) if started else None)
    return {"dag_run": dag_run}


def test_who_triggered_a_run():
    scheduled = runs.run_of(_context("puente_nightly", "scheduled__2026-11-16T03:00:00+00:00", RunType.SCHEDULED,
                                     None, "2026-11-16T03:00:00+00:00"))
    assert scheduled == runs.Run("puente_nightly", "scheduled__2026-11-16T03:00:00+00:00", "scheduled",
                                 "scheduler", date(2026, 11, 16), None)
    by_hand = runs.run_of(_context("puente_erasure", "manual__1", RunType.MANUAL, "ana.dpo", None))
    assert (by_hand.triggered_by, by_hand.run_type, by_hand.logical_date) == ("ana.dpo", "manual", None)
    # a manual run without a user (an old API server) does not pass for the scheduler's
    assert runs.run_of(_context("puente_nightly", "m2", RunType.MANUAL, None, None)).triggered_by == \
        "unknown (manual run)"


def test_the_outcome_comes_from_the_other_tasks():
    assert runs.outcome_of({"extract.odoo": "success", "raw_gate": "skipped", "run_report": "running"},
                           excluding=["run_report"]) == ("success", [])
    assert runs.outcome_of({"extract.odoo": "failed", "raw_gate": "upstream_failed", "run_report": "failed"},
                           excluding=["run_report"]) == ("failed", ["extract.odoo", "raw_gate"])
    with pytest.raises(ValueError):
        runs.record_finished("postgresql://unused", runs.run_of(_context("d", "r", RunType.MANUAL, "x", None)),
                             "running")


def test_runs_reach_the_audit_log_with_their_user(fresh_db):
    night = runs.run_of(_context("puente_nightly", "scheduled__2026-11-16", RunType.SCHEDULED, None,
                                 "2026-11-16T03:00:00+00:00", started="2026-11-16T03:00:05+00:00"))
    rerun = runs.run_of(_context("puente_nightly", "manual__2026-11-16", RunType.MANUAL, "carlos", "2026-11-16"))
    erasure = runs.run_of(_context("puente_erasure", "manual__e1", RunType.MANUAL, "ana.dpo", None))
    runs.record_started(fresh_db, night)
    runs.record_finished(fresh_db, night, "failed", ["extract.shopify"])
    runs.record_started(fresh_db, rerun)
    runs.record_finished(fresh_db, rerun, "success")
    runs.record_started(fresh_db, erasure)  # still running
    # the night cleared and run again by someone else keeps who triggered it, and ends anew
    runs.record_started(fresh_db, runs.Run(night.dag_id, night.run_id, "scheduled", "somebody", night.logical_date))
    runs.record_finished(fresh_db, night, "success")

    run_dbt(["run", "--select", "+audit_log"], fresh_db)
    with psycopg.connect(fresh_db) as conn:
        # when: Airflow's start of the run (a run that started before its first task reached the warehouse)
        assert conn.execute("select happened_at from marts.audit_log where detail ->> 'run_id' = "
                            "'scheduled__2026-11-16'").fetchone()[0] == pendulum.parse("2026-11-16T03:00:05+00:00")
        rows = conn.execute("select actor, subject, outcome, detail ->> 'run_id', detail -> 'failed_tasks', "
                            "detail ->> 'finished_at' is not null, detail_table from marts.audit_log "
                            "where action = 'run' order by happened_at").fetchall()
    assert rows == [
        ("scheduler", "puente_nightly for 2026-11-16", "success", "scheduled__2026-11-16", [], True, "ops.dag_runs"),
        ("carlos", "puente_nightly for 2026-11-16", "success", "manual__2026-11-16", [], True, "ops.dag_runs"),
        ("ana.dpo", "puente_erasure", "running", "manual__e1", [], False, "ops.dag_runs"),
    ]


def test_a_warehouse_out_of_reach_never_fails_the_run(caplog):
    run = runs.run_of(_context("puente_nightly", "r", RunType.SCHEDULED, None, None))
    runs.record_started("postgresql://nobody@127.0.0.1:1/none", run)
    assert "could not record run r of puente_nightly in ops.dag_runs" in caplog.text


def _review_audit(url: str, columns: str, decisions: str, shown: str) -> list[tuple]:
    """marts.audit_log's identity-review rows (`shown`), built over ops.customer_match_overrides
    holding `decisions` (the values of an insert into `columns`)."""
    run_dbt(["run", "--select", "+audit_log"], url)  # creates ops.customer_match_overrides
    with psycopg.connect(url) as conn:
        conn.execute(f"insert into ops.customer_match_overrides ({columns}) values {decisions}")
    run_dbt(["run", "--select", "audit_log"], url)
    with psycopg.connect(url) as conn:
        return conn.execute(f"select {shown} from marts.audit_log where action like 'identity review%' "
                            "order by happened_at").fetchall()


def test_a_revoked_review_decision_reaches_the_audit_log_with_who_revoked_it_and_why(fresh_db):
    rows = _review_audit(
        fresh_db, "record_key, other_record_key, action, reason, decided_by, decided_at, is_revoked, revoked_by, "
                  "revoke_reason, revoked_at",
        "('odoo_partner:7', 'hubspot_contact:9', 'distinct', 'two sisters', 'ana', '2026-11-16T10:00:00+00', true, "
        "'carlos', 'one person after all', '2026-11-20T09:00:00+00')",
        "happened_at, actor, action, subject, outcome, detail ->> 'reason'")
    assert rows == [
        (pendulum.parse("2026-11-16T10:00:00+00:00"), "ana", "identity review: distinct",
         "odoo_partner:7 / hubspot_contact:9", "revoked", "two sisters"),
        (pendulum.parse("2026-11-20T09:00:00+00:00"), "carlos", "identity review: revoke distinct",
         "odoo_partner:7 / hubspot_contact:9", "revoked", "one person after all"),
    ]


def test_a_decision_a_later_one_on_the_same_pair_replaced_is_overruled_in_the_audit_log(fresh_db):
    rows = _review_audit(
        fresh_db, "record_key, other_record_key, action, reason, decided_by, decided_at",
        "('odoo_partner:7', 'hubspot_contact:9', 'distinct', 'two sisters', 'ana', '2026-11-16T10:00:00+00'), "
        "('hubspot_contact:9', 'odoo_partner:7', 'merge', 'one person', 'bob', '2026-11-17T10:00:00+00'), "
        "('odoo_partner:7', null, 'split', 'two in one', 'ana', '2026-11-18T10:00:00+00'), "
        "('odoo_partner:8', 'hubspot_contact:9', 'distinct', null, 'ana', '2026-11-19T10:00:00+00')",
        "actor, action, outcome")
    assert rows == [("ana", "identity review: distinct", "overruled"), ("bob", "identity review: merge", "in force"),
                    ("ana", "identity review: split", "in force"), ("ana", "identity review: distinct", "in force")]
