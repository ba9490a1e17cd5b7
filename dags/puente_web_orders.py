"""puente_web_orders — new web orders into the ERP every 15 minutes, between the nights.

A web order should not wait for 03:00 to reach the ERP: this DAG (paused until an operator
turns it on) extracts only the new and changed orders and customers of every web shop the
business runs (Shopify, WooCommerce: ``web_order_objects`` of the configured systems in
``puente.sources.registry``) and the ERP's sale orders and partners, rebuilds what the
web-orders activation reads (``dbt build --select +act_web_orders_to_erp``, its models and
seeds), gates it, and posts with the same activation the night uses.

It starts once a night has built the warehouse (until then a run skips itself, saying so): it
lands only what changes by the minute, the night the rest (the ERP's products, the CRM).
It never clashes with the night: both take turns on one lease (``puente/leases.py``); a run
that finds the night working skips itself (the night posts those orders), and the night waits
for a run in progress to finish. The activation's own lock and its lookup by the shop order's
name mean an order is never posted twice, whoever gets to it first.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from _puente import (
    FailureAlert,
    business_date,
    declared_activations,
    field_keys,
    record_run_finished,
    record_run_started,
    source_config,
    warehouse_url,
)
from airflow.sdk import Param, dag, task

from puente.sources import registry

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = Path(os.environ.get("PUENTE_DBT_PROJECT_DIR", REPO / "dbt_project"))
ACTIVATION = "web_orders_to_erp"
# What the activation reads, per system: each configured shop's new orders and customers; the
# ERP's sale orders (an order a person typed in minutes ago is not posted again) and partners
# (new ERP customers).
OBJECTS = {**{s.name: list(s.web_order_objects) for s in registry.configured() if s.web_order_objects},
           "odoo": ["res.partner", "sale.order"]}


HOLDER = "puente_web_orders "  # this DAG's holder of the writer lease: HOLDER + the run's id


def _keep_turn(context) -> None:
    """Before each task after the turn: renew the run's lease (puente/leases.py). A run that lost it
    (held past its TTL, then taken by the night) stops here instead of building or posting beside the
    night: the night posts these orders."""
    from airflow.sdk.exceptions import AirflowSkipException

    from puente import leases

    other = leases.acquire(warehouse_url(), f"{HOLDER}{context['run_id']}", leases.FREQUENT_TTL)
    if other is not None:
        raise AirflowSkipException(f"{other} took the writer lease over from this run (held longer than "
                                   f"{leases.FREQUENT_TTL}); it posts these orders, and this run stops here")


@dag(
    dag_id="puente_web_orders",
    description="New web orders into the ERP every 15 minutes (paused until enabled).",
    schedule=os.environ.get("PUENTE_WEB_ORDERS_SCHEDULE", "*/15 * * * *"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,
    dagrun_timeout=timedelta(minutes=30),
    # A failed task tells people (once per task and day: this DAG runs every quarter-hour).
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30), "on_failure_callback": FailureAlert()},
    params={"dry_run": Param(False, type="boolean",
                             description="Report what would be posted (ops.activation_runs) without posting.")},
    tags=["puente", "activation"],
    doc_md=__doc__,
)
def puente_web_orders():
    @task
    def take_turn(run_id: str | None = None) -> None:
        """Take the writer lease, or skip this run while the night (or another run) works, or
        before the first night built the warehouse."""
        import psycopg
        from airflow.sdk.exceptions import AirflowSkipException

        from puente import leases
        from puente.warehouse import ensure_schema

        url = warehouse_url()
        ensure_schema(url)
        record_run_started()  # the audit (ops.dag_runs)
        with psycopg.connect(url) as conn:
            built = conn.execute("select to_regclass('marts.dim_products') is not null").fetchone()[0]
        if not built:  # this run lands only the orders, customers and partners: the rest is the night's
            record_run_finished("skipped")
            raise AirflowSkipException("no night has built the warehouse yet (marts.dim_products does not exist): "
                                       "web orders wait for the first night, which lands the ERP's products and "
                                       "the customers' other records they are posted with")
        other = leases.acquire(url, f"{HOLDER}{run_id}", leases.FREQUENT_TTL)
        if other is not None:
            record_run_finished("skipped")
            raise AirflowSkipException(f"{other} is transforming the warehouse now; its web orders are posted "
                                       "by it, and the next quarter-hour tries again")

    @task(pre_execute=_keep_turn)
    def extract() -> dict:
        from puente.extract import extract_source

        url, day, keys = warehouse_url(), business_date(), field_keys()
        return {source: extract_source(url, source, source_config(source), day, objects=objects,
                                       detect_deletes=False, reconcile_counts=False, field_keys=keys)
                for source, objects in OBJECTS.items()}

    @task(pre_execute=_keep_turn)
    def transform() -> None:
        """Rebuild what the activation reads (its seeds too: one a new version of Puente adds would be
        missing until the next night), apart from the nightly build's target folder. Not the data
        tests: the gate next checks what is sent, and the night tests the rest."""
        import json

        from puente.dbt import run_dbt, side_target

        run_dbt(["build", "--select", f"+act_{ACTIVATION}", "--exclude-resource-type", "test", "unit_test",
                 "--target-path", str(side_target("web-orders")),
                 "--vars", json.dumps({"as_of_date": business_date().isoformat()})], warehouse_url())

    @task(pre_execute=_keep_turn)
    def gate() -> dict:
        from expectations.gates import run_sync_gate

        activations = [a for a in declared_activations(DBT_PROJECT, ("odoo",)) if a.name == ACTIVATION]
        result = run_sync_gate(warehouse_url(), business_date(), activations=activations)
        result.raise_for_failure()
        return result.summary()

    @task(pre_execute=_keep_turn)
    def post(params: dict | None = None) -> dict:
        from puente.activation.run import run_named

        return run_named(warehouse_url(), ACTIVATION, source_config("odoo"), business_date(),
                         dry_run=bool((params or {}).get("dry_run")), field_keys=field_keys()).summary()  # counts, no personal data

    @task  # a teardown of the turn (below): runs when the lease was taken, never hides a failure
    def release(run_id: str | None = None) -> None:
        from puente import leases

        leases.release(warehouse_url(), f"{HOLDER}{run_id}")
        record_run_finished()  # how the run ended, for the audit (ops.dag_runs)

    turn = take_turn()
    turn >> extract() >> transform() >> gate() >> post() >> release().as_teardown(setups=turn)


puente_web_orders()
