from __future__ import annotations

import os

import psycopg
import pytest

from puente import warehouse


def test_second_start_reuses_the_running_server(warehouse_url):
    if "127.0.0.1" not in warehouse_url:
        pytest.skip("PUENTE_WAREHOUSE_URL points at an external server")
    assert warehouse.ensure_embedded() == warehouse_url


def test_schema_is_idempotent_and_complete(fresh_db):
    warehouse.ensure_schema(fresh_db)  # second time: no error, nothing duplicated
    with psycopg.connect(fresh_db) as conn:
        tables = {
            f"{s}.{t}"
            for s, t in conn.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('raw', 'ops', 'ml')"
            )
        }
    assert {o.qualified_table for o in warehouse.RAW_OBJECTS} <= tables
    assert {"ops.extract_state", "ops.load_batches", "ops.quarantine", "ops.activation_state",
            "ops.activation_audit", "ops.activation_issues", "ml.model_runs", "ml.churn_scores"} <= tables


def test_forecasts_of_an_earlier_version_gain_the_warehouse_key(fresh_db):
    """ml.demand_forecasts made with one row per product keeps its rows and gets warehouse_id in its key."""
    with psycopg.connect(fresh_db) as conn:
        conn.execute("drop table ml.demand_forecasts")
        conn.execute("create table ml.demand_forecasts (product_id text, forecast_date date, horizon_date date, "
                     "p50 float8, primary key (product_id, forecast_date, horizon_date))")
        conn.execute("insert into ml.demand_forecasts values ('p1', '2026-11-01', '2026-11-02', 1.5)")
    warehouse.ensure_schema(fresh_db)
    warehouse.ensure_schema(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        key = conn.execute(
            "select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum)) "
            "from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey) "
            "where i.indrelid = 'ml.demand_forecasts'::regclass and i.indisprimary").fetchone()[0]
        rows = conn.execute("select product_id, warehouse_id, p50 from ml.demand_forecasts").fetchall()
    assert key == ["product_id", "warehouse_id", "forecast_date", "horizon_date"]
    assert rows == [("p1", "", 1.5)]


def test_describe_hides_password():
    assert warehouse.describe("postgresql://bob:s3cret@db.example:5432/w") == "postgresql://bob@db.example:5432/w"


def test_raw_object_names():
    assert warehouse.raw_object("odoo", "sale.order.line").qualified_table == "raw.odoo_sale_order_line"


# --------------------------------------------------------------------------------------------
# One warehouse configuration for Python and dbt, from an Airflow connection's fields
# --------------------------------------------------------------------------------------------

def test_a_connection_with_its_extra_becomes_one_url():
    from puente.warehouse import warehouse_url_from

    url = warehouse_url_from(host="db.example", port=6543, login="puente", password="p@ss:/w?rd", database="wh",
                             extra='{"sslmode": "verify-full", "sslrootcert": "/etc/ssl/ca.pem", '
                                   '"connect_timeout": 5, "cursor": "dictcursor"}')
    assert url == ("postgresql://puente:p%40ss%3A%2Fw%3Frd@db.example:6543/wh"
                   "?connect_timeout=5&sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fca.pem")
    assert psycopg.conninfo.conninfo_to_dict(url) == {
        "user": "puente", "password": "p@ss:/w?rd", "host": "db.example", "port": "6543", "dbname": "wh",
        "sslmode": "verify-full", "sslrootcert": "/etc/ssl/ca.pem", "connect_timeout": "5"}
    assert warehouse_url_from(host="::1", database=None, extra={}) == "postgresql://[::1]/puente"


def test_a_warehouse_off_this_machine_requires_tls_unless_told_otherwise(monkeypatch):
    from puente.warehouse import warehouse_url, warehouse_url_from

    assert warehouse_url_from(host="db.example", login="puente", database="wh") == \
        "postgresql://puente@db.example/wh?sslmode=require"
    assert psycopg.conninfo.conninfo_to_dict(warehouse_url_from(host="db.example", extra={"connect_timeout": 5}))[
        "sslmode"] == "require"
    # an explicit mode is kept (a private network's "disable" too); this machine needs none
    assert warehouse_url_from(host="db.example", extra={"sslmode": "disable"}).endswith("?sslmode=disable")
    assert "sslmode" not in warehouse_url_from(host="localhost") + warehouse_url_from(host="127.0.0.1")
    monkeypatch.setenv("PUENTE_WAREHOUSE_URL", "postgresql://bob:pw@db.example:6543/wh?connect_timeout=5")
    assert warehouse_url() == "postgresql://bob:pw@db.example:6543/wh?connect_timeout=5&sslmode=require"
    monkeypatch.setenv("PUENTE_WAREHOUSE_URL", "postgresql://bob:pw@db.example/wh?sslmode=verify-full")
    assert warehouse_url() == "postgresql://bob:pw@db.example/wh?sslmode=verify-full"


def test_an_extra_key_that_is_no_connection_option_is_refused():
    from puente.warehouse import warehouse_url_from

    with pytest.raises(ValueError, match=r"extra has key\(s\) \['ssl_mode'\].*known: .*sslmode"):
        warehouse_url_from(host="db.example", extra={"ssl_mode": "require"})
    with pytest.raises(ValueError, match="extra is not JSON"):
        warehouse_url_from(host="db.example", extra="{sslmode: require")
    # neither a value nor a broken extra's text is repeated in the message: it may hold a secret
    with pytest.raises(ValueError) as refused:
        warehouse_url_from(host="db.example", extra={"password": "hunter2-secret"})
    with pytest.raises(ValueError) as broken:
        warehouse_url_from(host="db.example", extra="{'sslpassword': 'hunter2-secret'}")
    with pytest.raises(ValueError) as not_an_object:
        warehouse_url_from(host="db.example", extra='["hunter2-secret"]')
    assert all("hunter2" not in str(e.value) for e in (refused, broken, not_an_object))


def test_dbt_receives_every_option_of_the_url():
    from puente.dbt import dbt_env

    env = dbt_env("postgresql://bob:pw@db.example:6543/wh?sslmode=verify-ca&sslrootcert=%2Fca.pem"
                  "&target_session_attrs=read-write&application_name=puente")
    assert {k: v for k, v in env.items() if k not in ("PUENTE_DBT_USER", "PUENTE_DBT_PASSWORD")} == {
        "PUENTE_DBT_HOST": "db.example", "PUENTE_DBT_PORT": "6543", "PUENTE_DBT_DBNAME": "wh",
        "PUENTE_DBT_SSLMODE": "verify-ca", "PUENTE_DBT_SSLROOTCERT": "/ca.pem",
        "PUENTE_DBT_APPLICATION_NAME": "puente", "PGTARGETSESSIONATTRS": "read-write"}
    with pytest.raises(ValueError, match=r"option\(s\) \['sslmod'\]"):
        dbt_env("postgresql://bob@db.example/wh?sslmod=require")


def test_python_and_dbt_both_honour_the_urls_sslmode(warehouse_url):
    """The embedded server speaks no TLS: with sslmode=require both clients must refuse it, which
    they only do if the option reached them."""
    from puente.dbt import DbtFailed, run_dbt

    if "127.0.0.1" not in warehouse_url:
        pytest.skip("PUENTE_WAREHOUSE_URL points at an external server")
    required = f"{warehouse_url}?sslmode=require"
    with pytest.raises(psycopg.OperationalError, match="server does not support SSL"):
        psycopg.connect(required)
    run_dbt(["debug", "--connection"], f"{warehouse_url}?sslmode=disable")
    with pytest.raises(DbtFailed, match="dbt debug failed"):
        run_dbt(["debug", "--connection"], required)


# --------------------------------------------------------------------------------------------
# The embedded server asks every role for its password
# --------------------------------------------------------------------------------------------

def _embedded_only(url: str) -> None:
    if "127.0.0.1" not in url:
        pytest.skip("PUENTE_WAREHOUSE_URL points at an external server")


def _without_password(url: str) -> str:
    parts = psycopg.conninfo.conninfo_to_dict(url)
    return f"postgresql://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}"


def test_the_embedded_server_refuses_a_connection_without_the_password(warehouse_url):
    _embedded_only(warehouse_url)
    from puente.config import puente_home

    passfile = puente_home() / warehouse.PASSFILE
    assert passfile.stat().st_mode & 0o777 == 0o600
    with pytest.raises(psycopg.OperationalError, match="no password supplied|password authentication failed"):
        psycopg.connect(_without_password(warehouse_url), passfile=str(passfile.with_name("none")))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(_without_password(warehouse_url), password="postgres")
    passwords, _ = warehouse.role_passwords()
    for role in warehouse.EMBEDDED_ROLES:  # every role logs in with its own password from the passfile
        with psycopg.connect(_without_password(warehouse_url).replace("postgres@", f"{role}@", 1),
                             passfile=str(passfile)) as conn:
            assert conn.execute("select current_user").fetchone()[0] == role
        assert passwords[role] in passfile.read_text()
    # BI logs in to the warehouse only: not to the server's maintenance database, nor Airflow's metadata
    from puente import runtime

    runtime.airflow_env(warehouse_url)  # makes Airflow's database, as `make airflow` does
    for database in ("postgres", runtime.airflow_metadata_db()):
        reader = warehouse.with_database(_without_password(warehouse_url), database).replace("postgres@", "bi_reader@", 1)
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(reader, passfile=str(passfile))


@pytest.fixture
def scratch_home(monkeypatch):
    """A PUENTE_HOME of its own inside the project's (whose folders the server's OS user may
    traverse), its server stopped and removed afterwards. It listens on a free port: a PUENTE_PG_PORT
    of the person running the tests is the session's server's."""
    import shutil
    import uuid

    from puente.config import puente_home

    monkeypatch.delenv("PUENTE_PG_PORT", raising=False)
    home = puente_home() / f"scratch-{uuid.uuid4().hex[:8]}"
    home.mkdir(parents=True)
    try:
        yield home
    finally:
        warehouse.stop_embedded(home)
        shutil.rmtree(home, ignore_errors=True)


def test_an_embedded_warehouse_of_an_earlier_version_moves_to_passwords_and_keeps_its_data(
        warehouse_url, scratch_home):
    """A data directory made with --auth=trust and left running, as earlier versions did: the next
    start sets passwords and rewrites pg_hba.conf in place; the data stays."""
    _embedded_only(warehouse_url)
    pgdata = scratch_home / "pgdata"
    run_as = warehouse._prepare_server_user(scratch_home, pgdata)
    warehouse._pg_commands().initdb(["--auth=trust", "--encoding=UTF8", "--locale=C", "-U", "postgres"],
                                    pgdata=pgdata, user=run_as)
    port = warehouse._start(scratch_home, pgdata, None, "unused")  # an existing cluster: no initdb
    old = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    with psycopg.connect(old, autocommit=True) as conn:  # anyone could, then
        conn.execute("create table kept (note text)")
        conn.execute("insert into kept values ('written before the upgrade')")
        conn.execute("create role bi_reader nologin")  # as create_bi_reader made it

    url = warehouse.ensure_embedded(scratch_home)
    assert warehouse.ensure_embedded(scratch_home) == url  # a second start changes nothing
    with psycopg.connect(warehouse.with_database(url, "postgres")) as conn:
        assert conn.execute("select note from kept").fetchall() == [("written before the upgrade",)]
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(old, passfile=str(scratch_home / "none"))
    assert not warehouse._uses_trust(pgdata)
    passfile = scratch_home / warehouse.PASSFILE
    assert passfile.stat().st_mode & 0o777 == 0o600
    with psycopg.connect(_without_password(url).replace("postgres@", "bi_reader@", 1), passfile=str(passfile)) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "bi_reader"


def test_a_new_embedded_warehouse_asks_every_role_for_its_password(warehouse_url, scratch_home):
    _embedded_only(warehouse_url)
    url = warehouse.ensure_embedded(scratch_home)
    assert not warehouse._uses_trust(scratch_home / "pgdata")
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(_without_password(url), passfile=str(scratch_home / "none"))
    passfile = str(scratch_home / warehouse.PASSFILE)
    for role in warehouse.EMBEDDED_ROLES:
        with psycopg.connect(_without_password(url).replace("postgres@", f"{role}@", 1), passfile=passfile) as conn:
            assert conn.execute("select current_user").fetchone()[0] == role


def test_the_embedded_server_runs_without_jit_and_commits_without_waiting_for_the_disk(warehouse_url, scratch_home):
    """warehouse._start's settings: jit off (compiling queries to machine code cost small builds a tenth of
    their time), and synchronous_commit off (a crash of the server may lose its last fraction of a second
    of commits, whole transactions each: a block of records with its cursor, extracted again by the next
    run)."""
    _embedded_only(warehouse_url)
    url = warehouse.ensure_embedded(scratch_home)
    with psycopg.connect(_without_password(url), passfile=str(scratch_home / warehouse.PASSFILE)) as conn:
        assert [conn.execute(f"show {name}").fetchone()[0] for name in ("jit", "synchronous_commit")] == ["off", "off"]


def test_a_pid_file_naming_another_program_is_stale(tmp_path):
    """A server that died leaves postmaster.pid behind; when its process id is reused by another
    program (here: this test), the home is treated as stopped and the stale file removed."""
    from puente.warehouse import _running_port

    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    pidfile = pgdata / "postmaster.pid"
    pidfile.write_text(f"{os.getpid()}\n{pgdata}\n1796037917\n55432\n")
    assert _running_port(pgdata) is None
    assert not pidfile.exists()


@pytest.fixture
def taken_port():
    """A port another program listens on."""
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_chosen_port_another_program_holds_is_an_error_not_another_port(monkeypatch, taken_port):
    from puente.config import InvalidSetting

    monkeypatch.setenv("PUENTE_PG_PORT", str(taken_port))
    with pytest.raises(InvalidSetting, match=f"port {taken_port} .PUENTE_PG_PORT. is taken"):
        warehouse._port_to_listen_on(None)
    monkeypatch.setenv("PUENTE_PG_PORT", "fifty")
    with pytest.raises(InvalidSetting, match="not a port number"):
        warehouse._port_to_listen_on(None)


def test_the_default_port_taken_gives_way_to_a_free_one_with_a_warning(monkeypatch, taken_port, caplog):
    monkeypatch.delenv("PUENTE_PG_PORT", raising=False)
    monkeypatch.setattr(warehouse, "DEFAULT_PORT", taken_port)
    with caplog.at_level("WARNING", logger=warehouse.log.name):
        port = warehouse._port_to_listen_on(None)
    assert port != taken_port and not warehouse._port_open(port)
    assert f"port {taken_port} is taken" in caplog.text and f"listens on {port}" in caplog.text
