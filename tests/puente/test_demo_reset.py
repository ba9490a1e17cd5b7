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
    with pytest.raises(SystemExit):
        cli.main(["demo", "--days", "0"])
    assert "not a whole number of at least 1" in capsys.readouterr().err
