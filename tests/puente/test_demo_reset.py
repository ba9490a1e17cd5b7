"""The demo empties the embedded warehouse before its first night, but never nights it did not run."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from puente import cli, demo, warehouse


def test_the_demo_empties_a_warehouse_only_when_every_run_in_it_was_the_demos(fresh_db, capsys):
    base, database = warehouse.with_database(fresh_db, "postgres"), urlsplit(fresh_db).path.lstrip("/")
    warehouse.ensure_schema(fresh_db)
    assert demo.refusal(base, database) is None  # no night has run
    with psycopg.connect(fresh_db) as conn:  # the demo's own nights: airflow dags test
        conn.execute("insert into ops.dag_runs (dag_id, run_id, run_type, triggered_by, logical_date, outcome) "
                     "values ('puente_nightly', 'd1', 'manual', 'dag_test', '2026-11-16', 'success')")
    assert demo.refusal(base, database) is None
    with psycopg.connect(fresh_db) as conn:  # a night Airflow's scheduler ran (make airflow, maybe real systems)
        conn.execute("insert into ops.dag_runs (dag_id, run_id, run_type, triggered_by, logical_date, outcome) "
                     "values ('puente_nightly', 's1', 'scheduled', 'scheduler', '2026-11-17', 'success')")
    refused = demo.refusal(base, database)
    assert refused and "1 run of Puente's DAGs that the demo did not make" in refused
    assert "puente demo --reset" in refused
    assert demo.refusal(base, "no_such_database") is None
    for option in ("--days", "--customers"):
        with pytest.raises(SystemExit):
            cli.main(["demo", option, "0"])
        assert "not a whole number of at least 1" in capsys.readouterr().err


def test_make_airflow_continues_the_last_demos_business(monkeypatch, tmp_path):
    from datetime import date

    monkeypatch.setenv("PUENTE_HOME", str(tmp_path))
    assert demo.DemoBusiness.last() == demo.DemoBusiness()  # no demo yet: the default business
    ran = demo.DemoBusiness(seed=3, customers=300, start=date(2026, 10, 1), profile="salesforce")
    ran.save()
    assert demo.DemoBusiness.last() == ran
    (tmp_path / demo.BUSINESS_FILE).write_text('{"seed": 3, "profile": "no such profile"}')
    assert demo.DemoBusiness.last() == demo.DemoBusiness()  # unreadable: the default, not a crash


def test_the_demo_parses_the_dbt_project_before_it_empties_the_warehouse(monkeypatch, fresh_db):
    """`.venv/bin/puente demo` on a fresh clone has no manifest (only `make demo` parsed first): the
    DAGs would not load, after the warehouse was emptied."""
    class Parsed(Exception):
        pass

    emptied = []
    monkeypatch.setattr(warehouse, "ensure_embedded", lambda: warehouse.with_database(fresh_db, "postgres"))
    monkeypatch.setattr(demo, "refusal", lambda base: None)
    monkeypatch.setattr(warehouse, "drop_database", lambda *args: emptied.append(args))
    def parse(url=None):
        raise Parsed

    monkeypatch.setattr(demo.dbt, "ensure_manifest", parse)
    with pytest.raises(Parsed):
        demo.run_demo(days=1)
    assert emptied == []
