"""`puente activations list`: each activation's latest real run, and a later dry run told apart,
read from ops.activation_runs in a real PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from puente import cli, dbt, run_report
from puente.activation import spec
from puente.activation.cli import _list
from puente.activation.engine import run_activation
from puente.activation.spec import MODEL_TABLE_COLUMNS, Activation

ACTIVATION = Activation(name="test_scores", model="act_test_scores", relation="activations.act_test_scores",
                        target="hubspot", object="contacts", mode="update", owns=("puente_churn_score",),
                        summary="churn scores onto contacts")
OTHER = Activation(name="test_tasks", model="act_test_tasks", relation="activations.act_test_tasks",
                   target="hubspot", object="tasks", mode="create", owns=("hs_task_subject",))


def _model(url: str, rows: list[tuple[str, str | None]]) -> None:
    """ACTIVATION's model table holding one row per (row_key, invalid_reason)."""
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists activations")
        conn.execute(f"create table {ACTIVATION.relation} ({MODEL_TABLE_COLUMNS})")
        for key, reason in rows:
            conn.execute(f"insert into {ACTIVATION.relation} (row_key, target_id, payload, invalid_reason, context) "
                         "values (%s, %s, %s, %s, '{}')", (key, key, Jsonb({"puente_churn_score": "0.4"}), reason))


def _recorded_run(url: str, run_id: str, activation: Activation, finished_at: datetime, *, dry_run: bool,
                  pending: int, sent: int, failed: int, invalid: int, withheld: int = 0) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into ops.activation_runs (run_id, activation, target, target_object, dry_run, rows_total, "
            "rows_pending, rows_invalid, rows_withheld, rows_sent, rows_created, rows_adopted, rows_failed, "
            "requests, seconds, reasons, finished_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0, %s, "
            "1, 0.1, '{}', %s)",
            (run_id, activation.name, activation.target, activation.object, dry_run, pending, pending, invalid,
             withheld, sent, failed, finished_at))


def _finished(url: str, run_id: str) -> datetime:
    """When the run finished, as the warehouse's session gives it back (the listing's time zone)."""
    with psycopg.connect(url) as conn:
        return conn.execute("select finished_at from ops.activation_runs where run_id = %s", (run_id,)).fetchone()[0]


def _lines(capsys, url: str, activations: list[Activation]) -> dict[str, str]:
    assert _list(url, activations) == 0
    out = capsys.readouterr().out.splitlines()
    return {line.split()[0]: line for line in out if line and not line.startswith(" ")}


def test_list_keeps_the_real_run_and_names_a_later_dry_run_with_what_it_would_send(fresh_db, capsys):
    night = datetime.now().astimezone().replace(microsecond=0) - timedelta(days=1)
    _recorded_run(fresh_db, "night", ACTIVATION, night, dry_run=False, pending=5, sent=3, failed=1, invalid=1)
    _model(fresh_db, [("c1", None), ("c2", None), ("c3", "no contact owner")])
    dry = run_activation(fresh_db, ACTIVATION, None, dry_run=True)  # what `activations dry-run` does
    assert (dry.pending, dry.invalid, dry.withheld, dry.sent) == (3, 1, 0, 0)

    night = _finished(fresh_db, "night")
    line = _lines(capsys, fresh_db, [ACTIVATION])["test_scores"]
    assert f"last run {night:%Y-%m-%d %H:%M}: 3 sent, 1 refused, 1 invalid" in line, line
    assert "; latest dry run " in line and ": would send 2 (1 invalid, 0 withheld), nothing sent" in line, line
    assert "(dry run)" not in line and "0 sent" not in line


def test_list_without_a_later_dry_run_or_without_a_real_run(fresh_db, capsys):
    night = datetime.now().astimezone().replace(microsecond=0) - timedelta(hours=2)
    # an older dry run is not mentioned; an activation only ever dry-run says so, with its figures
    _recorded_run(fresh_db, "old-dry", ACTIVATION, night - timedelta(days=1), dry_run=True, pending=9, sent=0,
                  failed=0, invalid=0)
    _recorded_run(fresh_db, "night", ACTIVATION, night, dry_run=False, pending=4, sent=4, failed=0, invalid=0)
    _recorded_run(fresh_db, "tasks-dry", OTHER, night, dry_run=True, pending=6, sent=0, failed=0, invalid=1,
                  withheld=2)

    night = _finished(fresh_db, "night")
    lines = _lines(capsys, fresh_db, [ACTIVATION, OTHER])
    assert lines["test_scores"].endswith(f"; last run {night:%Y-%m-%d %H:%M}: 4 sent, 0 refused, 0 invalid")
    assert lines["test_tasks"].endswith(f"; no real run yet; latest dry run {night:%Y-%m-%d %H:%M}: would send 3 "
                                        "(1 invalid, 2 withheld), nothing sent")


def test_build_runs_as_of_the_latest_night_or_the_date_given_and_a_missing_manifest_is_said(
        fresh_db, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PUENTE_WAREHOUSE_URL", fresh_db)
    monkeypatch.setattr(spec, "load_activations", lambda: [])
    built: list[dict | None] = []
    monkeypatch.setattr(dbt, "run_dbt", lambda args, url, env=None: built.append(env))
    monkeypatch.setattr(run_report, "latest_night", lambda url: date(2026, 11, 18))
    monkeypatch.setattr("puente.activation.cli._run", lambda *args, **kwargs: 0)
    assert cli.main(["activations", "dry-run", "--build"]) == 0
    assert cli.main(["activations", "dry-run", "--build", "--date", "2026-11-16"]) == 0
    assert built == [{"PUENTE_AS_OF_DATE": "2026-11-18"}, {"PUENTE_AS_OF_DATE": "2026-11-16"}]
    assert "as of 2026-11-18" in capsys.readouterr().out
    # a date without --build would be silently ignored: refused, nothing built
    assert cli.main(["activations", "dry-run", "--date", "2026-11-16"]) == 2
    assert "give --build too" in capsys.readouterr().err and len(built) == 2

    monkeypatch.undo()
    with pytest.raises(spec.DeclarationError, match="no dbt manifest.*puente dbt-parse"):
        spec.load_activations(tmp_path / "target" / "manifest.json")
