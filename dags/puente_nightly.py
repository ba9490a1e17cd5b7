"""puente_nightly — one night of Puente for one business day.

check connections (``puente check``) → extract (Odoo, HubSpot, Shopify in parallel) → raw gate → dbt
staging (a task per system) → transform (intermediate and marts; cosmos, a task per model; the BI views
beside it in one task) → marts gate → ML (churn and demand: train weekly, score
nightly; next-best-action) → dbt activation models (one task) → sync gate → activations (one task per
declared activation: what Puente writes into the ERP, the shop and the CRM) → morning check (the
warnings that are not failures: stale sources, unusual volumes, gate warnings, the work list) →
the run report (always, puente/run_report.py). A task that fails for good, and every warning, is
sent to the alert channels (Slack and Teams webhooks, e-mail: Airflow connections
``puente_alerts_slack``, ``puente_alerts_teams``, ``puente_alerts_email``) and recorded in
``ops.alerts``. Who triggered the night, and how it ended, is recorded in ``ops.dag_runs``
(``marts.audit_log``).

Wiring only: each task calls one function of ``puente``, ``expectations`` or ``ml``, imported
inside the task so that parsing this file stays cheap. Every task is idempotent for its
logical date: loads upsert by source key, scores upsert by (customer, date), and the activation
engine sends only what differs from what each target last accepted, so a rerun changes nothing.

The extract group has one task per system the business runs (``puente.sources.registry``:
``PUENTE_SYSTEMS`` or ``puente.yml``, by default Odoo, HubSpot and Shopify). Credentials come from
Airflow connections (``puente_warehouse``, ``puente_<system>``); when a connection is missing, the
``PUENTE_*`` environment variables of the same name are used, which is how the local runtime
points the night at the simulators (see README, "Configuration").
"""

from __future__ import annotations

import gc
import logging
import os
from datetime import timedelta
from pathlib import Path

import pendulum
from _puente import (
    WAREHOUSE_CONN_ID,
    FailureAlert,
    WarehouseProfile,
    alert_channels,
    business_date,
    declared_activations,
    field_keys,
    night_task_states,
    record_run_finished,
    record_run_started,
    run_url,
    source_config,
    warehouse_url,
)
from airflow.sdk import Param, TaskGroup, dag, get_current_context, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior, TestIndirectSelection
from cosmos.operators.local import DbtBuildLocalOperator

from puente.config import NIGHTLY_EXCLUDED_RESOURCE_TYPES
from puente.sources import registry

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = Path(os.environ.get("PUENTE_DBT_PROJECT_DIR", REPO / "dbt_project"))
SOURCES = tuple(s.name for s in registry.configured())
STAGING = DBT_PROJECT / "models" / "staging"
OTHER_SYSTEMS = tuple(s.name for s in registry.SOURCES if s.name not in SOURCES and (STAGING / s.name).is_dir())
ACTIVATION_TAG = "tag:activation"
# Staging, the BI views and the activation models are built a folder (or a tag) at a time, one dbt task
# each, not one task per model: their models are cheap selects of one source object or one mart, and a
# dbt task costs about 1.2 CPU-s of start-up whatever it builds (bench/night.py). Staging has a task per
# system the business runs (`staging.odoo`), one for Puente's own tables and reference data (ops, ml,
# the seeds), and one for the systems it does not run: the unions downstream read those staging models
# (empty), so they are built every night, but the DAG shows the business's own systems. A failed model
# or test is named in the task's log and alert.
STAGING_TASKS = {
    **{name: (f"path:models/staging/{name}",) for name in SOURCES if (STAGING / name).is_dir()},
    "puente": (*(f"path:models/staging/{folder.name}" for folder in sorted(STAGING.iterdir())
                 if folder.is_dir() and folder.name not in registry.names()), "path:seeds"),
    "other_systems": tuple(f"path:models/staging/{name}" for name in OTHER_SYSTEMS),
}
BI_VIEWS = "path:models/bi"
# The rest of the transform, a task per model (the unified customers, order-to-cash, the marts): named by
# its folders rather than by what it leaves out, because cosmos repeats a group's `exclude` in every
# task's dbt command, and dbt's path method builds a Path for each node of the project per criterion (a
# third of a one-model task's dbt time with six systems left out; py-spy, three-night test).
TRANSFORM = (
    *(f"path:models/{folder.name}" for folder in sorted((DBT_PROJECT / "models").iterdir())
      if folder.is_dir() and f"path:models/{folder.name}" not in ("path:models/staging", BI_VIEWS)),
    "path:snapshots", "path:tests",
)
# A transient fault (a source's 5xx, a lock) deserves a retry a little later; tests shorten the wait.
RETRY_DELAY = timedelta(seconds=float(os.environ.get("PUENTE_RETRY_DELAY_SECONDS", 120)))


NIGHT = "puente_nightly "  # the night's holder of the writer lease: NIGHT + the run's id


def _hold_lease(context) -> None:
    """Before each task of the night that writes the warehouse (extraction, dbt, ML, activations):
    renew the night's writer lease (puente/leases.py) for another ``NIGHT_TTL``, so a night that runs
    longer than the TTL (a long backfill, a slow source) keeps it and no web-orders run starts a dbt
    build beside its own. If the lease was lost all the same (a single task longer than the TTL) or
    given back (a task cleared by hand reruns ``prepare_warehouse`` and ``release_lease`` too), the
    task takes it again, waiting for a web-orders run in progress as ``prepare_warehouse`` does."""
    from puente import leases

    leases.acquire_waiting(warehouse_url(), f"{NIGHT}{context['run_id']}", leases.NIGHT_TTL, supersedes=NIGHT)


# The process's environment as a dbt task found it (_before_dbt), given back when it ends (_after_dbt).
_environ_before_dbt: dict[str, str] | None = None


def _restore_environ() -> None:
    """Give the process back the environment it had before the dbt task. cosmos, reading a task's
    dbt artifacts for OpenLineage, copies the task's env into the process's own and leaves it there
    (cosmos/operators/local.py): the profile's ``PUENTE_DBT_*`` (the warehouse's password among
    them), the night's ``PUENTE_AS_OF_DATE``. A task in a process of its own (the scheduler's
    executors) loses them as it ends; under ``dag.test()`` (``make demo``, the tests) every task of
    every night shares one process, and a later dbt run in it (a test's, a Python session's after
    ``dag.test()``) would measure from an old night's day. A dbt task that fails skips this (its
    post_execute does not run) and what cosmos copied stays, as it did before; the next dbt task
    notes the environment anew rather than going back to a note that may be another night's or
    another test's (settings set since would be lost)."""
    global _environ_before_dbt
    if _environ_before_dbt is None:
        return
    before, _environ_before_dbt = _environ_before_dbt, None
    for key in set(os.environ) - set(before):
        del os.environ[key]
    os.environ.update(before)


def _before_dbt(context) -> None:
    """Before a dbt task: note the process's environment (``_restore_environ``), renew the night's
    lease (``_hold_lease``), then move every object alive now into the collector's permanent
    generation.
    cosmos runs ``gc.collect()`` after each dbt invocation; without this it walks the whole heap of
    Airflow, dbt and (in ``dag.test()``) the night's earlier tasks, about 0.5-0.9 s a task measured
    here (bench/night.py), to free only what dbt itself left behind. And keep dbt's default
    behaviour flags from growing with each dbt task run in this process (``lighten_adapter_start``)."""
    global _environ_before_dbt
    from puente.dbt import lighten_adapter_start

    _environ_before_dbt = dict(os.environ)
    _hold_lease(context)
    lighten_adapter_start()
    gc.freeze()


def _after_dbt(context, result=None) -> None:
    """After a dbt task: give the process its environment back (``_restore_environ``) and hand the
    frozen objects back to the collector (a failed task skips this; the next successful one thaws
    everything frozen since)."""
    _restore_environ()
    gc.unfreeze()


DBT_PROFILE = ProfileConfig(profile_name="puente", target_name="warehouse",
                            profile_mapping=WarehouseProfile(conn_id=WAREHOUSE_CONN_ID))
# What every dbt task of the night is given, whether it builds one model or a folder.
# `rebuild_marts` rebuilds every incremental model from scratch: the facts (fct_orders,
# fct_order_lines, fct_order_to_cash), the marts kept by customer, the invoices' sale order names
# (int_invoice_origins) and the staging tables of orders, lines and invoices, re-parsed from raw;
# int_customer_ids and int_customer_record_changes opt out of full refreshes, so customer ids and
# when each record last changed survive it.
# PUENTE_AS_OF_DATE: the day the models measure from (order-to-cash gaps, posting windows, service
# dates; macro as_of_date) is the run's business day, so a rerun or a backfill of a past night sees
# that night. An environment variable, not --vars: new vars each night would make every night's first
# dbt task of each group re-parse the whole project (5-7 CPU-s) instead of reusing cosmos' cached
# partial parse.
# --no-write-json: each task's dbt would write manifest.json (1.5 MB) twice and run_results.json into
# cosmos' temporary copy of the project, deleted when the task ends; nothing reads them (results reach
# the log and the task's state). About 1 CPU-s a task.
# --log-level-file none: dbt would also write a debug log of every query to logs/dbt.log in that same
# temporary copy, deleted unread; the task's log keeps dbt's info lines. Writing it took about a tenth
# of the three-night test's CPU (py-spy: the file handler and its lock).
# DBT_EXCLUDE_RESOURCE_TYPES: a model's unit tests test its code, not the night's data; they run in
# `make test` (puente.config.NIGHTLY_EXCLUDED_RESOURCE_TYPES, as the main build leaves them out).
DBT_GLOBAL_FLAGS = ["--no-write-json", "--log-level-file", "none"]
DBT_TASK_ARGS = {"install_deps": False, "full_refresh": "{{ params.rebuild_marts }}",
                 "env": {"PUENTE_AS_OF_DATE": "{{ ds }}",
                         "DBT_EXCLUDE_RESOURCE_TYPES": " ".join(NIGHTLY_EXCLUDED_RESOURCE_TYPES)},
                 "dbt_cmd_global_flags": DBT_GLOBAL_FLAGS,
                 "pre_execute": _before_dbt, "post_execute": _after_dbt}
# A task of one model also runs with --no-populate-cache: dbt would list every relation of every schema
# before building it; it asks the warehouse about the model's own relation instead (a tenth of a
# one-model task's dbt time, py-spy in the three-night test). Not where a task builds several models:
# without the listing dbt does not know which views depend on which, and replacing a view drops those
# built on it (cascade) behind the back of its cache, so the next model's replacement fails with
# "relation does not exist" (seen on the second night of bench.night).
ONE_MODEL_ARGS = {**DBT_TASK_ARGS, "dbt_cmd_global_flags": [*DBT_GLOBAL_FLAGS, "--no-populate-cache"]}


def _dbt_group(group_id: str, *, select: list[str] | None = None, exclude: list[str] | None = None):
    """A task per model (with its tests) of ``select``, in dbt's order."""
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT,
            manifest_path=DBT_PROJECT / "target" / "manifest.json",
        ),
        profile_config=DBT_PROFILE,
        # BUILDABLE: a test that spans several models (relationships, reconciliations) runs only
        # once all of its parents are built, not after the first of them.
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER,
                                         test_indirect_selection=TestIndirectSelection.BUILDABLE),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # Asset events per model cost about 1.5 s a task and cosmos' OpenLineage URIs are not
            # valid Airflow 3 asset URIs; nothing here schedules on them.
            emit_datasets=False,
            test_behavior=TestBehavior.BUILD,
            select=select or [],
            exclude=exclude or [],
        ),
        operator_args=ONE_MODEL_ARGS,
    )


def _dbt_folders(task_id: str, select: tuple[str, ...], parse_cache: Path,
                 tests: TestIndirectSelection = TestIndirectSelection.CAUTIOUS) -> DbtBuildLocalOperator:
    """One ``dbt build`` of the models of ``select`` (folders, a tag) and their tests, reusing the
    partial parse cosmos keeps for the transform (same project, same flags). Cautious by default: only
    the tests of these models alone; a test that also reads models built elsewhere (orders counted once
    across every channel) runs with those, in the transform."""
    return DbtBuildLocalOperator(
        task_id=task_id, project_dir=str(DBT_PROJECT), profile_config=DBT_PROFILE,
        invocation_mode=InvocationMode.DBT_RUNNER, select=list(select), indirect_selection=tests.value,
        emit_datasets=False, cache_dir=parse_cache, **DBT_TASK_ARGS)


@dag(
    dag_id="puente_nightly",
    description="Extract ERP, CRM and shop; unify; gate; score churn; write scores back to the CRM.",
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    # A task that fails for good (its retries spent) tells people: FailureAlert (dags/_puente.py).
    default_args={"retries": 2, "retry_delay": RETRY_DELAY, "retry_exponential_backoff": True,
                  "on_failure_callback": FailureAlert()},
    params={
        "sources": Param(list(SOURCES), type="array", items={"type": "string", "enum": list(SOURCES)},
                         minItems=1, uniqueItems=True,
                         description="Sources to extract tonight (at least one); the others are skipped."),
        "full_refresh": Param(False, type="boolean",
                              description="Ignore the stored cursors and extract everything again."),
        "backfill_from": Param(None, type=["null", "string"], format="date",
                               description="Re-extract records updated from this day (YYYY-MM-DD, from 2000 "
                                           "on, not in the future); the stored cursors do not move."),
        "backfill_to": Param(None, type=["null", "string"], format="date",
                             description="End (exclusive) of the backfill window, after backfill_from and not "
                                         "in the future; empty means now."),
        "rebuild_marts": Param(False, type="boolean",
                               description="Rebuild the incremental dbt models (facts, the marts kept by customer, and "
                                           "staging of orders, lines and invoices re-parsed from raw) from scratch "
                                           "(dbt --full-refresh); customer ids are kept."),
        "retrain": Param(False, type="boolean",
                         description="Train the churn and demand models tonight even if this week's are recent."),
        "dry_run": Param(False, type="boolean",
                         description="Build every activation and report what it would send (totals, changes, "
                                     "invalid rows with reasons, sample payloads in ops.activation_runs), but send "
                                     "nothing to any system. Run this first against real systems."),
    },
    tags=["puente", "nightly"],
    doc_md=__doc__,
)
def puente_nightly():
    @task
    def validate_run(params: dict | None = None) -> None:
        """Refuse what Airflow's param schemas let through but the night cannot honour: keys no
        param declares (a typo), a backfill window out of order or in the future, a run without
        a logical date. Fails at once, without retries, before anything is extracted."""
        from airflow.sdk.exceptions import AirflowFailException

        from puente.run_conf import InvalidRunConf, check_run_conf

        context = get_current_context()
        try:
            check_run_conf(context["dag_run"].conf, context["dag"].params.keys(), params or {},
                           context["dag_run"].logical_date, pendulum.now("UTC").date())
        except InvalidRunConf as error:
            raise AirflowFailException(str(error)) from None

    @task
    def check_connections(params: dict | None = None) -> dict:
        """Ask each of tonight's systems whether Puente can work with it (``puente check``):
        reachable, credentials accepted, read scopes or rights present, API version served. The
        log lists every finding and which settings are in use (a connection or the environment).
        A refused credential or a missing read scope fails at once, in plain words; an unreachable
        system is retried; a missing write permission only warns (the activations into that
        system will fail with the system's own error until it is granted)."""
        from airflow.sdk.exceptions import AirflowFailException

        from puente.sources import checks

        tonight = [s for s in SOURCES if s in ((params or {}).get("sources") or SOURCES)]
        findings = checks.check_all(checks.read_configs(tonight, source_config), warehouse_url())
        log.info("connections:\n%s\n%s", checks.report(findings), checks.verdict(findings))
        stops = checks.blocking(findings)
        if stops:
            message = "; ".join(f"{f.system} {f.check}: {f.message}" for f in stops)
            if all(f.check == "connection" for f in stops):
                raise RuntimeError(message)
            raise AirflowFailException(message)
        return {"checked": tonight, "warnings": [f"{f.system}: {f.message}" for f in findings if not f.ok]}

    @task
    def prepare_warehouse(run_id: str | None = None) -> None:
        """Create the raw, ops and ml schemas if missing (idempotent), then take the warehouse's
        writer lease, waiting for a web-orders run in progress to finish (puente/leases.py)."""
        from puente import leases
        from puente.warehouse import ensure_schema

        url = warehouse_url()
        ensure_schema(url)
        record_run_started()  # the audit: who triggered the night (ops.dag_runs)
        # a lease still held by another run of the night is a dead run's (max_active_runs=1)
        leases.acquire_waiting(url, f"{NIGHT}{run_id}", leases.NIGHT_TTL, supersedes=NIGHT)

    @task
    def release_lease(run_id: str | None = None) -> None:
        """Give the writer lease back, whatever the night's outcome, so web orders flow again. A
        teardown of ``prepare_warehouse``: it runs when the lease was taken, and its own success
        never makes a failed night look successful."""
        from puente import leases

        leases.release(warehouse_url(), f"{NIGHT}{run_id}")

    # every task that writes the warehouse renews the lease first (_hold_lease; the dbt tasks in _before_dbt)
    renewing = {"pre_execute": _hold_lease}
    with TaskGroup("extract", tooltip="Incremental extraction of every source into raw.*",
                   default_args=renewing) as extract:
        for source in SOURCES:

            @task(task_id=source)
            def extract_source(source: str = source, params: dict | None = None) -> dict:
                from airflow.sdk.exceptions import AirflowSkipException

                from puente.extract import extract_source as run

                params = params or {}
                if source not in (params.get("sources") or SOURCES):
                    raise AirflowSkipException(f"{source} is not among this run's sources")
                return run(warehouse_url(), source, source_config(source), business_date(),
                           full_refresh=bool(params.get("full_refresh")),
                           since=params.get("backfill_from") or None, until=params.get("backfill_to") or None,
                           field_keys=field_keys())

            extract_source()

    # none_failed: a source left out through the "sources" param must not skip the whole night.
    @task(trigger_rule="none_failed")
    def raw_gate() -> dict:
        """Great Expectations on raw.*: a failure stops the night before dbt."""
        from expectations.gates import run_raw_gate
        from puente.config import max_quarantine_share

        result = run_raw_gate(warehouse_url(), business_date(), max_quarantine_share=max_quarantine_share())
        result.raise_for_failure()
        return result.summary()

    transform = _dbt_group("transform", select=list(TRANSFORM), exclude=[ACTIVATION_TAG])
    parse_cache = next(t.cache_dir for t in transform.iter_tasks())
    with TaskGroup("staging", tooltip="dbt staging, a task per system: each source's records parsed and "
                                      "typed") as staging:
        for name, selectors in STAGING_TASKS.items():
            if selectors:
                _dbt_folders(name, selectors, parse_cache)
    bi_views = _dbt_folders("bi_views", (BI_VIEWS,), parse_cache)

    @task
    def marts_gate() -> dict:
        from expectations.gates import run_marts_gate

        result = run_marts_gate(warehouse_url(), business_date())
        result.raise_for_failure()
        return result.summary()

    with TaskGroup("ml", tooltip="Weekly training (champion/challenger), nightly scoring",
                   default_args=renewing) as ml_group:

        @task
        def train_churn(params: dict | None = None) -> dict:
            from ml.churn.jobs import train_churn_if_due

            return train_churn_if_due(warehouse_url(), business_date(),
                                      force=bool((params or {}).get("retrain")))

        @task
        def score_churn() -> dict:
            from ml.churn.jobs import score_churn as run

            return run(warehouse_url(), business_date())

        @task
        def next_best_action() -> dict:
            """One action per customer; never out of stock, below the margin floor or without consent."""
            from ml.nba.jobs import score_next_best_actions

            return score_next_best_actions(warehouse_url(), business_date())

        @task
        def train_demand(params: dict | None = None) -> dict:
            from ml.demand.jobs import train_demand_if_due

            return train_demand_if_due(warehouse_url(), business_date(),
                                       force=bool((params or {}).get("retrain")))

        @task
        def forecast_demand() -> dict:
            from ml.demand.jobs import score_demand

            return score_demand(warehouse_url(), business_date())

        train_churn() >> score_churn() >> next_best_action()
        train_demand() >> forecast_demand()

    # one task: the sync gate waits for every activation model anyway, so a task each would isolate nothing
    activation_models = _dbt_folders("activation_models", (ACTIVATION_TAG,), parse_cache,
                                     tests=TestIndirectSelection.BUILDABLE)

    @task
    def sync_gate() -> dict:
        """Great Expectations on every activation model: nothing is sent from data that fails."""
        from expectations.gates import run_sync_gate

        result = run_sync_gate(warehouse_url(), business_date())
        result.raise_for_failure()
        return result.summary()

    gate = sync_gate()
    with TaskGroup("activate", tooltip="What Puente writes into the ERP, the shop and the CRM",
                   default_args=renewing) as activate:
        previous: dict[str, object] = {}
        for activation in declared_activations(DBT_PROJECT, SOURCES):

            @task(task_id=activation.name, doc_md=activation.summary)
            def run_activation(name: str = activation.name, target: str = activation.target,
                               params: dict | None = None) -> dict:
                from puente.activation.run import run_named

                result = run_named(warehouse_url(), name, source_config(target), business_date(),
                                   dry_run=bool((params or {}).get("dry_run")), field_keys=field_keys())
                return result.summary()  # counts only: the rows' content stays in the warehouse

            sent = run_activation()
            # one target's activations in turn (they share its rate limit); targets side by side
            if activation.target in previous:
                previous[activation.target] >> sent
            previous[activation.target] = sent

    # none_failed: sources left out through the "sources" param skip tasks, not the check.
    @task(trigger_rule="none_failed")
    def morning_check(run_id: str | None = None) -> dict:
        """The warnings that are not failures (puente/alerts.py): a gate's warn-level checks, a source
        with no new records for longer than its freshness threshold (dbt source freshness), a volume
        far from the same weekday's, the churn scores' drift, the work list growing, rows refused on
        several nights. Each is sent to the configured alert channels and recorded in ops.alerts;
        this task never fails a good night."""
        from puente.alerts import morning_check as run

        dag_id = get_current_context()["dag"].dag_id
        return run(warehouse_url(), business_date(), alert_channels(), dag_id=dag_id, run_id=run_id,
                   sources=SOURCES, run_url=run_url(dag_id, run_id))

    @task
    def run_report() -> str | None:
        """The night's run report, one HTML page (puente/run_report.py), whatever the night's outcome:
        a failed night is when it is read most. A teardown without a setup: it runs once every other
        task is done (like trigger rule all_done), and as a teardown its own state never decides the
        night's: a failed night stays failed, and a report that cannot be written never fails a good
        night. The page's path is in the log."""
        from puente.run_report import write_report

        record_run_finished()  # how the night ended, for the audit (ops.dag_runs)
        if get_current_context().get("logical_date") is None:
            log.warning("run report: this run has no logical date, so no business day to report on")
            return None
        path = write_report(warehouse_url(), business_date(), task_states=night_task_states())
        log.info("run report of the night: %s", path)
        return str(path)

    prepare = prepare_warehouse()
    release = release_lease().as_teardown(setups=prepare)
    (validate_run() >> check_connections() >> prepare >> extract >> raw_gate() >> staging >> transform >> marts_gate()
     >> ml_group >> activation_models >> gate >> activate >> release)
    # the BI views beside the rest of the night: a failed view does not hold back the scores
    transform >> bi_views >> release
    morning = morning_check()
    activate >> morning
    # last, whatever happened: the report shows the night's alerts too
    [release, morning] >> run_report().as_teardown()


puente_nightly()
