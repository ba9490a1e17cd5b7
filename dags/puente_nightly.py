"""puente_nightly — one night of Puente for one business day.

extract (Odoo, HubSpot, Shopify in parallel) → raw gate → dbt build (staging, intermediate,
marts; cosmos, one task per model) → marts gate → ML (churn and demand: train weekly, score
nightly; next-best-action) → dbt crm_sync model → sync gate → write-back to the CRM.

Wiring only: each task calls one function of ``puente``, ``expectations`` or ``ml``, imported
inside the task so that parsing this file stays cheap. Every task is idempotent for its
logical date: loads upsert by source key, scores upsert by (customer, date), and the sync model
sends only what differs from the last values the CRM accepted, so a rerun changes nothing.

The extract group has one task per system the business runs (``puente.sources.registry``:
``PUENTE_SYSTEMS`` or ``puente.yml``, by default Odoo, HubSpot and Shopify). Credentials come from
Airflow connections (``puente_warehouse``, ``puente_<system>``); when a connection is missing, the
``PUENTE_*`` environment variables of the same name are used, which is how the local runtime
points the night at the simulators (see README, "Configuration").
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Param, TaskGroup, dag, get_current_context, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior, TestIndirectSelection
from cosmos.profiles import BaseProfileMapping

from puente.sources import registry

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = Path(os.environ.get("PUENTE_DBT_PROJECT_DIR", REPO / "dbt_project"))
WAREHOUSE_CONN_ID = "puente_warehouse"
SOURCES = tuple(s.name for s in registry.configured())
CRM_SYNC_TAG = "tag:crm_sync"
# A transient fault (a source's 5xx, a lock) deserves a retry a little later; tests shorten the wait.
RETRY_DELAY = timedelta(seconds=float(os.environ.get("PUENTE_RETRY_DELAY_SECONDS", 120)))


def _warehouse_url() -> str:
    """The one warehouse configuration, as a URL: the Airflow connection with the libpq options of
    its extra (``sslmode``…), else ``PUENTE_WAREHOUSE_URL``. dbt gets the same (``WarehouseProfile``)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from puente import warehouse

    try:
        conn = Connection.get(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        return warehouse.warehouse_url()
    return warehouse.warehouse_url_from_connection(conn)


class WarehouseProfile(BaseProfileMapping):
    """dbt's profile for cosmos: the project's own (``dbt_project/profiles.yml``, templates over
    ``PUENTE_DBT_*``), with those variables set from ``_warehouse_url()`` when a dbt task runs. So
    dbt and every Python task connect with the same host, password and libpq options (``sslmode``,
    ``sslrootcert``, …); cosmos writes only the templates to disk and logs, never a secret."""

    airflow_connection_type = "postgres"
    dbt_profile_type = "postgres"

    @property
    def profile(self) -> dict:
        from puente.dbt import profile_target

        return profile_target()

    @property
    def mock_profile(self) -> dict:
        return self.profile

    @property
    def env_vars(self) -> dict[str, str]:
        from puente.dbt import dbt_env

        return {**super().env_vars, **dbt_env(_warehouse_url())}


def _source_config(source: str):
    """The source's settings from its Airflow connection, else from ``PUENTE_<SOURCE>_*``.

    A connection made in the UI (or by ``AIRFLOW_CONN_PUENTE_<SOURCE>``) always wins; the
    environment, where the local runtime puts the simulators, is the fallback. The config's
    ``origin`` says which, and the extraction logs it.
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    spec = registry.source(source)
    try:
        conn = Connection.get(spec.conn_id)
    except AirflowNotFoundException:
        return spec.config.from_env()
    return spec.config.from_connection(conn)


def _business_date():
    """The business day this run closes: the run's logical date (UTC)."""
    context = get_current_context()
    return context["logical_date"].in_timezone("UTC").date()


def _dbt_group(group_id: str, *, select: list[str] | None = None, exclude: list[str] | None = None):
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT,
            manifest_path=DBT_PROJECT / "target" / "manifest.json",
        ),
        profile_config=ProfileConfig(profile_name="puente", target_name="warehouse",
                                     profile_mapping=WarehouseProfile(conn_id=WAREHOUSE_CONN_ID)),
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
        # `rebuild_marts` rebuilds every incremental model from scratch: the facts
        # (fct_orders, fct_order_lines) and the staging tables of orders, lines and invoices,
        # re-parsed from raw; int_customer_ids opts out of full refreshes, so customer ids survive it.
        operator_args={"install_deps": False, "full_refresh": "{{ params.rebuild_marts }}"},
    )


@dag(
    dag_id="puente_nightly",
    description="Extract ERP, CRM and shop; unify; gate; score churn; write scores back to the CRM.",
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": RETRY_DELAY, "retry_exponential_backoff": True},
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
                               description="Rebuild the incremental dbt models (facts, and staging of orders, lines "
                                           "and invoices re-parsed from raw) from scratch (dbt --full-refresh); "
                                           "customer ids are kept."),
        "retrain": Param(False, type="boolean",
                         description="Train the churn and demand models tonight even if this week's are recent."),
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
    def prepare_warehouse() -> None:
        """Create the raw, ops and ml schemas if missing (idempotent)."""
        from puente.warehouse import ensure_schema

        ensure_schema(_warehouse_url())

    with TaskGroup("extract", tooltip="Incremental extraction of every source into raw.*") as extract:
        for source in SOURCES:

            @task(task_id=source)
            def extract_source(source: str = source, params: dict | None = None) -> dict:
                from airflow.sdk.exceptions import AirflowSkipException

                from puente.extract import extract_source as run

                params = params or {}
                if source not in (params.get("sources") or SOURCES):
                    raise AirflowSkipException(f"{source} is not among this run's sources")
                return run(_warehouse_url(), source, _source_config(source), _business_date(),
                           full_refresh=bool(params.get("full_refresh")),
                           since=params.get("backfill_from") or None, until=params.get("backfill_to") or None)

            extract_source()

    # none_failed: a source left out through the "sources" param must not skip the whole night.
    @task(trigger_rule="none_failed")
    def raw_gate() -> dict:
        """Great Expectations on raw.*: a failure stops the night before dbt."""
        from expectations.gates import run_raw_gate
        from puente.config import max_quarantine_share

        result = run_raw_gate(_warehouse_url(), _business_date(), max_quarantine_share=max_quarantine_share())
        result.raise_for_failure()
        return result.summary()

    transform = _dbt_group("transform", exclude=[CRM_SYNC_TAG])

    @task
    def marts_gate() -> dict:
        from expectations.gates import run_marts_gate

        result = run_marts_gate(_warehouse_url(), _business_date())
        result.raise_for_failure()
        return result.summary()

    with TaskGroup("ml", tooltip="Weekly training (champion/challenger), nightly scoring") as ml_group:

        @task
        def train_churn(params: dict | None = None) -> dict:
            from ml.churn.jobs import train_churn_if_due

            return train_churn_if_due(_warehouse_url(), _business_date(),
                                      force=bool((params or {}).get("retrain")))

        @task
        def score_churn() -> dict:
            from ml.churn.jobs import score_churn as run

            return run(_warehouse_url(), _business_date())

        @task
        def next_best_action() -> dict:
            """One action per customer; never out of stock, below the margin floor or without consent."""
            from ml.nba.jobs import score_next_best_actions

            return score_next_best_actions(_warehouse_url(), _business_date())

        @task
        def train_demand(params: dict | None = None) -> dict:
            from ml.demand.jobs import train_demand_if_due

            return train_demand_if_due(_warehouse_url(), _business_date(),
                                       force=bool((params or {}).get("retrain")))

        @task
        def forecast_demand() -> dict:
            from ml.demand.jobs import score_demand

            return score_demand(_warehouse_url(), _business_date())

        train_churn() >> score_churn() >> next_best_action()
        train_demand() >> forecast_demand()

    crm_sync = _dbt_group("crm_sync", select=[CRM_SYNC_TAG])

    @task
    def sync_gate() -> dict:
        from expectations.gates import run_sync_gate

        result = run_sync_gate(_warehouse_url(), _business_date())
        result.raise_for_failure()
        return result.summary()

    @task
    def write_back() -> dict:
        """Send changed scores to the CRM in batches; every contact's outcome lands in ops.crm_writeback."""
        from puente.writeback import write_back_scores

        return write_back_scores(_warehouse_url(), _source_config("hubspot"))

    (validate_run() >> prepare_warehouse() >> extract >> raw_gate() >> transform >> marts_gate() >> ml_group
     >> crm_sync >> sync_gate() >> write_back())


puente_nightly()
