from __future__ import annotations

import pytest

from puente import cli, warehouse
from puente.config import HubSpotConfig, MissingSetting, OdooConfig


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "warehouse", "airflow", "dbt-parse", "dbt-docs", "report"):
        assert command in out


@pytest.mark.parametrize("argv, says", [
    (["airflow"], "Start the Airflow UI"),
    (["dbt-parse"], "manifest.json"),
    (["activations", "list"], "its last run"),
])
def test_each_commands_help_says_what_it_does(capsys, argv, says):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, "-h"])
    assert exit_.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    # below the usage line and before the options: a description of the command
    assert says in help_text.split("options:")[0], help_text


def test_warehouse_url_prints_without_password(capsys, warehouse_url):
    from urllib.parse import urlsplit

    assert cli.main(["warehouse", "url"]) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == warehouse.describe(warehouse_url)
    password = urlsplit(warehouse_url).password
    assert not password or password not in printed.out + printed.err


def test_a_warehouse_that_cannot_be_reached_is_one_line_without_the_password(capsys, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PUENTE_WAREHOUSE_URL", f"postgresql://postgres:s3cret-pw@127.0.0.1:{port}/puente")
    assert cli.main(["report"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("puente: error: cannot connect to the warehouse") and f"port {port}" in err
    assert "s3cret-pw" not in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_warehouse_url_does_not_start_a_stopped_server(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("PUENTE_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("PUENTE_HOME", str(tmp_path))
    assert cli.main(["warehouse", "url"]) == 1
    printed = capsys.readouterr()
    assert printed.out == "" and "not running" in printed.err and "puente warehouse start" in printed.err
    assert list(tmp_path.iterdir()) == []  # nothing initialised, no passwords written


def test_report_writes_the_nights_page_and_prints_its_path(capsys, fresh_db, monkeypatch, tmp_path):
    import re

    import psycopg

    monkeypatch.setenv("PUENTE_WAREHOUSE_URL", fresh_db)
    monkeypatch.setenv("PUENTE_ARTIFACTS_DIR", str(tmp_path))
    assert cli.main(["report"]) == 1
    assert "no night yet" in capsys.readouterr().err
    with psycopg.connect(fresh_db) as conn:
        conn.execute("insert into ops.load_batches (batch_id, source, object, logical_date, status, rows_received) "
                     "values ('b1', 'odoo', 'res.partner', '2026-11-20', 'succeeded', 3), "
                     "('b0', 'odoo', 'res.partner', '2026-11-19', 'succeeded', 1)")
    assert cli.main(["report"]) == 0  # the latest night
    assert cli.main(["report", "--date", "2026-11-19"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "runs" / day / "report.html") for day in ("2026-11-20", "2026-11-19")]
    page = (tmp_path / "runs" / "2026-11-20" / "report.html").read_text()
    assert "odoo res.partner 3 " in " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_report_refuses_a_date_no_night_ran_for(capsys, fresh_db, monkeypatch, tmp_path):
    """A date the warehouse has no trace of gets no page (it would show today's marts under that
    date); a night that started but stopped before its first batch or gate still gets one."""
    import psycopg

    monkeypatch.setenv("PUENTE_WAREHOUSE_URL", fresh_db)
    monkeypatch.setenv("PUENTE_ARTIFACTS_DIR", str(tmp_path))
    assert cli.main(["report", "--date", "2025-01-01"]) == 1
    printed = capsys.readouterr()
    assert "no night has run for 2025-01-01 in this warehouse" in printed.err
    assert "no night is on record yet" in printed.err and printed.out == ""
    with psycopg.connect(fresh_db) as conn:
        conn.execute("insert into ops.load_batches (batch_id, source, object, logical_date, status, rows_received) "
                     "values ('b1', 'odoo', 'res.partner', '2026-11-20', 'succeeded', 3)")
        conn.execute("insert into ops.gate_results (gate, logical_date, success, evaluated, failed, details) "
                     "values ('raw', '2026-11-18', true, 1, 0, '{}')")
        # a web-orders run is not a night; the nightly run of the 17th stopped before extracting anything
        conn.execute("insert into ops.dag_runs (dag_id, run_id, run_type, triggered_by, logical_date, outcome) "
                     "values ('puente_web_orders', 'w1', 'scheduled', 'scheduler', '2025-01-01', 'success'), "
                     "('puente_nightly', 'n1', 'scheduled', 'scheduler', '2026-11-17', 'failed')")
    assert cli.main(["report", "--date", "2025-01-01"]) == 1
    printed = capsys.readouterr()
    assert ("no night has run for 2025-01-01 in this warehouse (no load batch, gate run or nightly DAG run for it); "
            "nights on record: 2026-11-20, 2026-11-18, 2026-11-17 (latest first).") in printed.err
    assert printed.out == "" and not (tmp_path / "runs" / "2025-01-01").exists()

    assert cli.main(["report", "--date", "2026-11-17"]) == 0  # started, stopped before its first gate
    page = (tmp_path / "runs" / "2026-11-17" / "report.html").read_text()
    assert "the night stopped before its first gate" in page
    assert capsys.readouterr().out.split() == [str(tmp_path / "runs" / "2026-11-17" / "report.html")]


@pytest.mark.parametrize("argv, env, says", [
    (["check", "shopfy"], {}, "unknown source 'shopfy'"),
    (["check"], {"PUENTE_SYSTEMS": "odoo,hubspt"}, "PUENTE_SYSTEMS names unknown system(s) ['hubspt']"),
    (["erase", "--email", "x@y.z", "--requested-by", "tester"], {"PUENTE_SYSTEMS": "odoo,hubspot,shopify"},
     "give --no-crm"),
])
def test_a_typing_mistake_is_one_line_on_stderr_and_exit_2(capsys, monkeypatch, argv, env, says):
    for name in ("PUENTE_SYSTEMS", "PUENTE_CONFIG", "PUENTE_HUBSPOT_URL", "PUENTE_HUBSPOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith("puente: error: ") and printed.err.count("\n") == 1, printed.err
    assert says in printed.err and "Traceback" not in printed.err


def test_an_unexpected_error_keeps_its_traceback(monkeypatch):
    def broken(systems):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "_check", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["check"])


def test_a_date_that_is_no_date_is_said_plainly(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report", "--date", "2026-13-40"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'2026-13-40' is not a date in YYYY-MM-DD form" in err and "fromisoformat" not in err


def test_an_unknown_activation_is_said_on_stderr(capsys, monkeypatch, warehouse_url):
    from puente.activation import spec

    monkeypatch.setenv("PUENTE_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setattr(spec, "load_activations", lambda: [])
    for argv in (["activations", "dry-run", "nosuch"], ["activations", "drop", "nosuch", "k", "--reason", "r",
                                                         "--by", "ana"]):
        assert cli.main(argv) == 2
        printed = capsys.readouterr()
        assert printed.out == "" and "unknown activation" in printed.err


def test_missing_setting_names_variable_and_connection():
    with pytest.raises(MissingSetting, match="PUENTE_HUBSPOT_TOKEN.*puente_hubspot"):
        HubSpotConfig.from_env({"PUENTE_HUBSPOT_URL": "https://api.hubapi.com"})


def test_secrets_stay_out_of_repr():
    config = OdooConfig(url="https://x.odoo.com", db="x", login="me", api_key="very-secret-key")
    assert "very-secret-key" not in repr(config)


def test_dbt_output_through_make_carries_no_colour_codes(tmp_path):
    """`make manifest` pipes `puente dbt-parse` into make's output: dbt must not colour it."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    project = tmp_path / "dbt_project"
    shutil.copytree(Path(__file__).resolve().parents[2] / "dbt_project", project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    env["PUENTE_DBT_PROJECT_DIR"] = str(project)
    done = subprocess.run([str(Path(sys.executable).with_name("puente")), "dbt-parse"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (project / "target" / "manifest.json").exists()
    assert "Running with dbt" in done.stdout  # dbt did speak
    assert "\x1b[" not in done.stdout + done.stderr


def test_each_demo_profile_is_a_valid_business_whose_simulators_run_its_systems(capsys, tmp_path):
    from puente import runtime
    from puente.demo import PROFILES, demo_systems
    from puente.simulators import Credentials
    from puente.simulators.server import OPT_IN_SYSTEMS

    assert "default" in PROFILES and len(PROFILES) >= 2
    # the second business runs the alternative CRM: the simulators serve Salesforce instead of HubSpot
    assert [s.name for s in demo_systems("salesforce") if s.kind == "crm"] == ["salesforce"]
    for profile, names in PROFILES.items():
        systems = demo_systems(profile)  # one ERP, one CRM, known systems: as any business is checked
        assert {s.name for s in systems} == set(names) and {"erp", "crm"} <= {s.kind for s in systems}
        served = runtime.SimulatorProcess(Credentials(), port=1, seed=7, customers=10, start="2026-11-16",
                                          log_path=tmp_path / "sim.log", systems=systems)._args
        assert {arg[2:] for arg in served if arg[2:] in OPT_IN_SYSTEMS} == set(names) & set(OPT_IN_SYSTEMS)

    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(f"{profile} = {', '.join(names)}" in help_text for profile, names in PROFILES.items())
