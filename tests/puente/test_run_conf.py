"""A night's trigger configuration: what the DAG's first task refuses, and that it refuses it
before anything runs (real ``dag.test()`` runs that stop at the first task)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest

from puente.run_conf import InvalidRunConf, check_run_conf

DECLARED = ["sources", "full_refresh", "backfill_from", "backfill_to", "rebuild_marts", "retrain"]
DEFAULTS = {"sources": ["odoo", "hubspot", "shopify"], "full_refresh": False, "backfill_from": None,
            "backfill_to": None, "rebuild_marts": False, "retrain": False}
NIGHT = datetime(2026, 11, 16, tzinfo=UTC)
TODAY = date(2026, 11, 30)


def _check(conf: dict, logical_date: datetime | None = NIGHT) -> None:
    check_run_conf(conf, DECLARED, {**DEFAULTS, **conf}, logical_date, TODAY)


def test_a_valid_configuration_passes():
    _check({})
    _check({"full_refresh": True, "sources": ["odoo"]})
    _check({"backfill_from": "2026-01-01", "backfill_to": "2026-11-30"})
    _check({"backfill_to": "2026-06-01"})  # everything updated before June


@pytest.mark.parametrize(("conf", "message"), [
    ({"full_refesh": True}, "unknown parameter 'full_refesh' (did you mean 'full_refresh'?)"),
    ({"sources": []}, "'sources' is empty"),
    ({"backfill_from": "1999-12-31"}, "backfill_from 1999-12-31 is before 2000-01-01"),
    ({"backfill_from": "2026-12-01"}, "backfill_from 2026-12-01 is in the future (today is 2026-11-30)"),
    ({"backfill_to": "2027-01-01"}, "backfill_to 2027-01-01 is in the future"),
    ({"backfill_from": "2026-05-01", "backfill_to": "2026-04-01"},
     "backfill_from 2026-05-01 must be before backfill_to 2026-04-01"),
    ({"backfill_from": "2026-05-01", "backfill_to": "2026-05-01"}, "must be before backfill_to"),
    ({"backfill_from": "16/11/2026"}, "backfill_from '16/11/2026' is not a date (YYYY-MM-DD)"),
])
def test_each_mistake_is_named(conf, message):
    with pytest.raises(InvalidRunConf) as error:
        _check(conf)
    assert message in str(error.value)
    assert "Known parameters: backfill_from, backfill_to, full_refresh" in str(error.value)


def test_every_mistake_is_listed_at_once():
    with pytest.raises(InvalidRunConf) as error:
        _check({"ful_refresh": True, "sourcess": ["odoo"], "backfill_from": "1990-01-01"}, logical_date=None)
    text = str(error.value)
    for part in ("no logical date", "'ful_refresh' (did you mean 'full_refresh'?)",
                 "'sourcess' (did you mean 'sources'?)", "before 2000-01-01"):
        assert part in text


def test_an_unrelated_key_gets_no_suggestion():
    with pytest.raises(InvalidRunConf, match=r"unknown parameter 'colour'\n"):
        _check({"colour": "blue"})


# --- the DAG's first task, in real runs ------------------------------------------------------


def test_validation_runs_first(nightly_dag):
    validate = nightly_dag.get_task("validate_run")
    assert not validate.upstream_task_ids
    assert nightly_dag.get_task("check_connections").upstream_task_ids == {"validate_run"}
    assert nightly_dag.get_task("prepare_warehouse").upstream_task_ids == {"check_connections"}
    # Airflow's own schema refuses an empty source list when the run is triggered.
    assert nightly_dag.params.get_param("sources").schema["minItems"] == 1


def test_a_refused_run_stops_before_the_warehouse(nightly_dag, fresh_db, monkeypatch, capsys):
    from puente import runtime

    monkeypatch.setenv("AIRFLOW_CONN_PUENTE_WAREHOUSE", runtime.warehouse_connection(fresh_db))
    # A run triggered without a logical date (Airflow 3 allows it) and with a typo in its conf.
    run = nightly_dag.test(logical_date=None, run_conf={"full_refesh": True})
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states.pop("validate_run") == "failed"
    assert states.pop("run_report") == "success"  # it says why there is no report: no business day
    assert set(states.values()) == {"upstream_failed"}, states
    out = capsys.readouterr().out
    assert "the run has no logical date" in out
    assert "unknown parameter 'full_refesh' (did you mean 'full_refresh'?)" in out


def test_a_missing_read_scope_stops_the_night_before_anything_is_extracted(nightly_dag, fresh_db, monkeypatch,
                                                                            capsys, caplog, alert_receiver, tmp_path):
    from puente import runtime
    from puente.simulators import Business, Credentials, SimulatorServer, create_app

    monkeypatch.setenv("PUENTE_ARTIFACTS_DIR", str(tmp_path))
    credentials = Credentials(shopify_scopes=tuple(s for s in Credentials().shopify_scopes if s != "read_all_orders"))
    business = Business(seed=3, customers=20, start=date(2026, 11, 16), history_days=10)
    with SimulatorServer(create_app(business, credentials)) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_PUENTE_WAREHOUSE", runtime.warehouse_connection(fresh_db))
        for key, value in runtime.simulated_sources_env(credentials, sim.base_url).items():
            monkeypatch.setenv(key, value)
        run = nightly_dag.test(logical_date=datetime(2026, 11, 9, tzinfo=UTC))
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert (run.state, states.pop("validate_run"), states.pop("check_connections")) == ("failed", "success", "failed")
    # The run report is written all the same, says what failed, and does not make the night a success.
    assert states.pop("run_report") == "success"
    report = (tmp_path / "runs" / "2026-11-09" / "report.html").read_text()
    assert "The night FAILED: check_connections failed" in report and "No gate ran for 2026-11-09" in report
    assert set(states.values()) <= {"upstream_failed", "skipped"}, states  # the lease was never taken
    assert states["prepare_warehouse"] == "upstream_failed"
    out = capsys.readouterr().out + caplog.text
    assert "Shopify scopes: the token lacks read_all_orders, needed to read" in out
    assert "settings from environment PUENTE_SHOPIFY_* (simulator)" in out  # which settings are in use, in the task log
    assert credentials.shopify_token not in out

    # One alert reached the webhook (Airflow's Slack notifier, from the failed task's callback), in plain words.
    (text,) = alert_receiver.texts
    assert text.startswith("Puente night of 2026-11-09 — FAILED: check_connections failed (puente_nightly)")
    assert "Shopify scopes: the token lacks read_all_orders, needed to read" in text  # the error's first lines
    assert "nothing was extracted or sent tonight: the CRM scores and tasks are still yesterday's" in text
    assert "What to do: Check the system and its Airflow connection named in the error" in text
    assert "The run in Airflow: http://" in text and "/dags/puente_nightly/runs/manual__" in text
    assert text.endswith("/runs/2026-11-09/report.html")
    assert credentials.shopify_token not in text and alert_receiver.token not in out
    with psycopg.connect(fresh_db) as conn:
        recorded = conn.execute("select kind, category, subject, status, channels from ops.alerts").fetchall()
    assert recorded == [("failure", "task_failed", "check_connections", "sent", ["slack"])]


@pytest.mark.parametrize(("value", "share"), [(None, 0.05), ("", 0.05), ("0.2", 0.2), ("0", 0.0), ("1", 1.0),
                                              ("5%", 0.05)])
def test_the_quarantine_share_setting_is_a_share(value, share):
    from puente.config import max_quarantine_share

    assert max_quarantine_share({} if value is None else {"PUENTE_MAX_QUARANTINE_SHARE": value}) == share


@pytest.mark.parametrize(("value", "hint"), [("5", "for 5% write 0.05"), ("-0.1", "got '-0.1'"),
                                             ("lots", "got 'lots'"), ("nan", "got 'nan'"), ("inf", "got 'inf'")])
def test_a_quarantine_share_out_of_range_is_refused_when_the_run_is_triggered(monkeypatch, value, hint):
    from puente.config import InvalidSetting, max_quarantine_share

    with pytest.raises(InvalidSetting, match="PUENTE_MAX_QUARANTINE_SHARE must be a share between 0 and 1") as error:
        max_quarantine_share({"PUENTE_MAX_QUARANTINE_SHARE": value})
    assert hint in str(error.value)
    monkeypatch.setenv("PUENTE_MAX_QUARANTINE_SHARE", value)
    with pytest.raises(InvalidRunConf, match="PUENTE_MAX_QUARANTINE_SHARE must be a share"):
        _check({})
