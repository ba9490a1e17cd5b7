"""``make demo``: a few simulated nights of the real pipeline on the embedded default.

It starts (or reuses) the embedded PostgreSQL, empties the demo warehouse, starts the ERP, CRM
and shop simulators with fresh random credentials, and for each business day runs the real
``puente_nightly`` DAG with ``airflow dags test``; after each night it prints what the night
did, read back from the warehouse, a few CRM contacts as a salesperson would see them, and the
path of the night's HTML run report (written by the DAG's ``run_report`` task).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg

from puente import dbt, report, runtime, warehouse
from puente.config import puente_home
from puente.simulators.app import Credentials
from puente.sources import registry
from puente.sources.spec import SINGLE_KINDS, Source

DEMO_START = date(2026, 11, 16)
DEMO_SEED = 7
DEMO_CUSTOMERS = 1000
# The businesses the demo simulates (``puente demo --profile``): the systems each runs, in the
# order of the registry's kinds. The same simulated people and orders feed every system a profile
# has. ``default``: an ERP, a CRM, two web shops, a marketplace and two payment providers (Stripe
# collects the WooCommerce store's card checkout, Mercado Pago the Shopify shop's); ``salesforce``: a
# business whose sales team runs Salesforce and that sells through Tienda Nube. The simulated payment
# providers collect the Shopify shop's and the WooCommerce store's checkout, not the Tienda Nube
# store's, so that profile runs without them (their payments would all be for orders the warehouse
# never sees).
PROFILES: dict[str, tuple[str, ...]] = {
    "default": ("odoo", "hubspot", "shopify", "woocommerce", "mercadolibre", "mercadopago", "stripe"),
    "salesforce": ("odoo", "salesforce", "tiendanube"),
}
# A night of the demo takes 1.5 to 4 minutes here (86-221 s measured); past this something is
# stuck (airflow dags test waits forever on tasks whose dependencies can never be met).
NIGHT_TIMEOUT_SECONDS = 1800
PROGRESS_POLL_SECONDS = 2


def demo_systems(profile: str = "default") -> tuple[Source, ...]:
    """The systems a demo profile's business runs, checked as any business's list is."""
    return registry.configured({"PUENTE_SYSTEMS": ",".join(PROFILES[profile])})


# The business the last demo simulated, beside the embedded warehouse it filled: `make airflow`
# continues that business (same seed, size, first day and systems), not the default one.
BUSINESS_FILE = "demo-business.json"


@dataclass(frozen=True)
class DemoBusiness:
    seed: int = DEMO_SEED
    customers: int = DEMO_CUSTOMERS
    start: date = DEMO_START
    profile: str = "default"

    def save(self) -> None:
        (puente_home() / BUSINESS_FILE).write_text(json.dumps({**asdict(self), "start": self.start.isoformat()}))

    @classmethod
    def last(cls) -> DemoBusiness:
        """The business of the last demo on the embedded warehouse, or the default one when there was none."""
        try:
            saved = json.loads((puente_home() / BUSINESS_FILE).read_text())
            business = cls(seed=int(saved["seed"]), customers=int(saved["customers"]),
                           start=date.fromisoformat(saved["start"]), profile=str(saved["profile"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls()
        return business if business.profile in PROFILES else cls()


def refusal(base: str, database: str = "puente") -> str | None:
    """Why the demo must not empty ``database`` (None when it may): it holds nights the demo did not
    run, runs of the DAGs that Airflow's scheduler or a person started (``make airflow`` shares the
    demo's database, and may have been pointed at real systems). The demo's own nights are
    ``airflow dags test`` runs (ops.dag_runs ``triggered_by`` ``dag_test``)."""
    with psycopg.connect(warehouse.with_database(base, "postgres")) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
            return None
    with psycopg.connect(warehouse.with_database(base, database)) as conn:
        if conn.execute("select to_regclass('ops.dag_runs')").fetchone()[0] is None:
            return None
        runs, last = conn.execute("select count(*), max(started_at)::date from ops.dag_runs "
                                  "where triggered_by is distinct from 'dag_test'").fetchone()
    if not runs:
        return None
    return (f"the warehouse's database {database!r} holds {runs} run{'s' * (runs != 1)} of Puente's DAGs that the "
            f"demo did not make (Airflow's scheduler or a person started them; the latest on {last}), and the demo "
            "empties it before its first night. Run `.venv/bin/puente demo --reset` to empty it anyway, or run the demo with "
            "another PUENTE_HOME to keep them.")


def run_demo(days: int = 3, customers: int = DEMO_CUSTOMERS, start: date = DEMO_START, seed: int = DEMO_SEED,
             profile: str = "default", reset: bool = False) -> int:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:  # piped into a file or CI: wide enough for the tables
        console = Console(width=120)
    started = time.monotonic()
    console.rule("[bold]Puente demo")
    systems = demo_systems(profile)
    console.print(f"{days} night{'s' * (days != 1)} from {start}, a simulated business of {customers} customers (seed {seed}), "
                  f"profile {profile}: {', '.join(s.title for s in systems)}.")

    base = warehouse.ensure_embedded()
    url = warehouse.with_database(base, "puente")
    refused = None if reset else refusal(base)
    if refused:
        console.print(f"[red]Not run:[/] {refused}")
        return 2
    console.print(f"Warehouse: embedded PostgreSQL at {warehouse.describe(url)} (emptied for the demo)")
    dbt.ensure_manifest(url)  # what the DAGs read; `make demo` parses first, `puente demo` alone must too
    warehouse.drop_database(base, "puente")
    warehouse.create_database(base, "puente")
    warehouse.ensure_schema(url)
    DemoBusiness(seed=seed, customers=customers, start=start, profile=profile).save()

    env = runtime.airflow_env(url)
    env["PUENTE_SYSTEMS"] = ",".join(s.name for s in systems)  # what the DAG extracts
    runtime.migrate_airflow(env)
    logs = puente_home() / "logs"
    credentials = Credentials()
    simulators = runtime.SimulatorProcess(
        credentials, port=runtime.free_port(), seed=seed, customers=customers,
        start=start.isoformat(), log_path=logs / "simulators.log", systems=systems,
    )
    with simulators:
        served = (f"{s.kind.upper() if s.kind in SINGLE_KINDS else s.kind} ({s.title})" for s in systems)
        console.print(f"Simulators: {', '.join(served)} at {simulators.base_url}")
        env.update(runtime.simulated_sources_env(credentials, simulators.base_url))
        for night in range(days):
            business_date = start + timedelta(days=night)
            if night:
                simulators.advance(1)
            console.rule(f"Night {night + 1}/{days}: business day {business_date}")
            night_started = datetime.now(UTC)
            ok, seconds, log_path = _run_night(env, business_date, logs, console)
            status = "[green]succeeded[/]" if ok else "[red]FAILED[/]"
            console.print(f"puente_nightly {status} in {seconds:.0f} s (Airflow log: {log_path})")
            if not ok:
                console.print(_tail(log_path))
                _print_report(console, url, business_date)
                return 1
            summary = report.night_summary(url, business_date, night_started)
            crm = next((s.name for s in systems if s.kind == "crm"), None)
            report.render_night(console, business_date, summary, _crm_examples(simulators, credentials, crm))
            _print_report(console, url, business_date)
    console.rule(f"Done in {time.monotonic() - started:.0f} s")
    console.print("Open the Airflow UI on the same warehouse with [bold]make airflow[/].")
    return 0


def _print_report(console, url: str, business_date: date) -> None:
    """The night's run report: the DAG's run_report task wrote it; written here if it could not."""
    from puente import run_report

    path = run_report.report_path(business_date)
    if not path.exists():
        path = run_report.write_report(url, business_date)
    console.print(f"[bold]Run report[/] {path} ({path.stat().st_size / 1024:.0f} KB; open it in a browser)")


def _run_night(env: dict[str, str], business_date: date, logs, console) -> tuple[bool, float, str]:
    """One night with ``airflow dags test``, printing each stage as it finishes."""
    log_path = logs / f"night-{business_date.isoformat()}.log"
    logical = datetime(business_date.year, business_date.month, business_date.day, tzinfo=UTC)
    started = datetime.now(UTC)
    progress = NightProgress(lambda: _task_states(env, logical, started), console.print)
    began = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.Popen([runtime.airflow_bin(), "dags", "test", "puente_nightly", logical.isoformat()],
                                env=runtime.child_env(env), stdout=log, stderr=subprocess.STDOUT)
        try:
            while proc.poll() is None:
                if time.monotonic() - began > NIGHT_TIMEOUT_SECONDS:
                    proc.kill()
                    proc.wait()
                    log.write(f"\npuente demo: the night did not finish within {NIGHT_TIMEOUT_SECONDS} s; stopped it.\n")
                    return False, time.monotonic() - began, str(log_path)
                progress.poll()
                time.sleep(PROGRESS_POLL_SECONDS)
        except BaseException:
            proc.kill()
            raise
    progress.poll()
    seconds = time.monotonic() - began
    return proc.returncode == 0 and _run_state(env, logical) == "success", seconds, str(log_path)


def _metadata_url(env: dict[str, str]) -> str:
    return env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg://", "postgresql://")


def _task_states(env: dict[str, str], logical: datetime, since: datetime) -> list[tuple]:
    """(task_id, state, start_date, end_date) of each task of the night's run, from Airflow's
    metadata database (``airflow dags test`` records them there as the run goes). A task last
    run before ``since`` belongs to an earlier run of the same date: it counts as not run yet."""
    import psycopg

    with psycopg.connect(_metadata_url(env)) as conn:
        rows = conn.execute(
            "select ti.task_id, ti.state, ti.start_date, ti.end_date from task_instance ti "
            "join dag_run dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id "
            "where dr.dag_id = 'puente_nightly' and dr.logical_date = %s",
            (logical,),
        ).fetchall()
    return [row if (row[2] or row[3] or since) >= since else (row[0], None, None, None) for row in rows]


def _run_state(env: dict[str, str], logical: datetime) -> str | None:
    """The DAG run's final state, read from Airflow's metadata database."""
    import psycopg

    with psycopg.connect(_metadata_url(env)) as conn:
        row = conn.execute(
            "select state from dag_run where dag_id = 'puente_nightly' and logical_date = %s", (logical,)
        ).fetchone()
    return row[0] if row else None


class NightProgress:
    """Stage-by-stage progress of a running night, from its task states.

    A stage is a top-level task or task group (``extract``, ``raw_gate``, ``transform``…). A
    line is printed when a stage finishes (with its task count and wall time) or a task fails
    or waits for a retry, and a reminder of what is running after ``quiet_seconds`` of silence.
    """

    _DONE = {"success", "skipped", "failed", "upstream_failed", "removed"}

    def __init__(self, fetch, emit, quiet_seconds: float = 20, clock=time.monotonic):
        self._fetch, self._emit, self._quiet, self._clock = fetch, emit, quiet_seconds, clock
        self._reported: set[str] = set()
        self._last_line = clock()

    def _say(self, line: str) -> None:
        self._emit(line)
        self._last_line = self._clock()

    def poll(self) -> None:
        stages: dict[str, list[tuple]] = {}
        for task_id, state, start, end in self._fetch():
            stages.setdefault(task_id.split(".")[0], []).append((task_id, state, start, end))
        for task_id, state, *_ in (t for tasks in stages.values() for t in tasks):
            # a retry, or a failure inside a group that goes on running: say so now
            news = state == "up_for_retry" or (state == "failed" and "." in task_id)
            if news and f"{task_id}:{state}" not in self._reported:
                self._reported.add(f"{task_id}:{state}")
                self._say(f"  ✗ {task_id} {'failed' if state == 'failed' else 'failed, will retry'}")
        finished = [(name, tasks) for name, tasks in stages.items()
                    if name not in self._reported and all(t[1] in self._DONE for t in tasks)
                    and any(t[1] in ("success", "failed") for t in tasks)]
        for name, tasks in sorted(finished, key=lambda item: max(t[3] for t in item[1] if t[3])):
            self._reported.add(name)
            starts = [t[2] for t in tasks if t[2]]
            ends = [t[3] for t in tasks if t[3]]
            counts = Counter(t[1] for t in tasks)
            detail = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()) if state != "success")
            ok = "✓" if not counts.keys() & {"failed", "upstream_failed"} else "✗"
            took = f"{(max(ends) - min(starts)).total_seconds():.0f} s" if starts and ends else ""
            self._say(f"  {ok} {name:<18} {len(tasks):>3} task{'s' if len(tasks) > 1 else ' '} {took:>6}"
                      + (f"  ({detail})" if detail else ""))
        if self._clock() - self._last_line >= self._quiet:
            running = [f"{name} {sum(t[1] in self._DONE for t in tasks)}/{len(tasks)}"
                       for name, tasks in stages.items() if any(t[1] == "running" for t in tasks)]
            if running:
                self._say("  … running: " + ", ".join(running))


def _tail(log_path: str, lines: int = 40) -> str:
    with open(log_path, errors="replace") as fh:
        return "".join(fh.readlines()[-lines:])


def _crm_examples(simulators: runtime.SimulatorProcess, credentials: Credentials, crm: str | None,
                  limit: int = 5) -> list[dict]:
    """A few contacts as the business's CRM shows them (at-risk customers the CRM suggests something
    for), read back through its own API: HubSpot's search, or a SOQL query on Salesforce."""
    if crm == "salesforce":
        return _salesforce_examples(simulators, credentials, limit)
    if crm != "hubspot":
        return []
    body = {
        "filterGroups": [{"filters": [{"propertyName": "puente_churn_risk", "operator": "EQ", "value": "high"},
                                      {"propertyName": "puente_next_action", "operator": "NEQ", "value": "none"}]}],
        "properties": ["firstname", "lastname", "puente_churn_score", "puente_churn_risk", "puente_next_action",
                       "puente_next_action_product", "puente_next_action_reason"],
        "limit": limit,
    }
    response = httpx.post(f"{simulators.base_url}/hubspot/crm/v3/objects/contacts/search", json=body,
                          headers={"Authorization": f"Bearer {credentials.hubspot_token}"}, timeout=30)
    if response.status_code != 200:
        return []
    return [
        {"id": r["id"],
         "name": f"{r['properties'].get('firstname') or ''} {r['properties'].get('lastname') or ''}".strip(),
         "score": r["properties"].get("puente_churn_score"), "risk": r["properties"].get("puente_churn_risk"),
         "action": r["properties"].get("puente_next_action"),
         "product": r["properties"].get("puente_next_action_product"),
         "reason": r["properties"].get("puente_next_action_reason")}
        for r in response.json().get("results", [])
    ]


def _salesforce_examples(simulators: runtime.SimulatorProcess, credentials: Credentials, limit: int) -> list[dict]:
    from puente.sources.http import SourceError
    from puente.sources.salesforce import SalesforceConnector
    from puente.sources.salesforce.settings import DATA_PATH

    config = registry.source("salesforce").simulator(simulators.base_url, credentials)
    connector = SalesforceConnector(config, timeout=30)
    soql = ("SELECT Id, FirstName, LastName, Puente_Churn_Score__c, Puente_Churn_Risk__c, Puente_Next_Action__c, "
            "Puente_Next_Action_Product__c, Puente_Next_Action_Reason__c FROM Contact WHERE Puente_Churn_Risk__c = "
            f"'high' AND Puente_Next_Action__c != 'none' LIMIT {limit}")
    try:
        records = connector.get(f"{DATA_PATH}/query", "contacts", params={"q": soql}).get("records") or []
    except SourceError:
        return []
    finally:
        connector.close()
    return [{"id": r["Id"], "name": f"{r.get('FirstName') or ''} {r.get('LastName') or ''}".strip(),
             "score": r.get("Puente_Churn_Score__c"), "risk": r.get("Puente_Churn_Risk__c"),
             "action": r.get("Puente_Next_Action__c"), "product": r.get("Puente_Next_Action_Product__c"),
             "reason": r.get("Puente_Next_Action_Reason__c")} for r in records]
