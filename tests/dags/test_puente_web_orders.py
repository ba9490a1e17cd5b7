"""The web-orders DAG end to end: between the nights, new web orders reach the ERP.

``dag.test()`` runs it as the scheduler would every quarter-hour — real Airflow, real dbt, real
Great Expectations, the real activation — against a fresh PostgreSQL database and the simulators
over HTTP: before any night (it waits), after the night's extraction and build of the products
(it posts), a quarter-hour later (nothing again), and while the night holds the warehouse (it
skips itself).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

START = date(2026, 11, 16)


def _states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def _erp_orders_by_puente(business) -> list[dict]:
    return [o for o in business.odoo["sale.order"].values() if (o.get("origin") or "").startswith("Shopify #")]


def test_new_web_orders_reach_the_erp_once_after_the_first_night_and_never_beside_it(dag_bag, fresh_db, monkeypatch):
    from puente import leases, runtime
    from puente.dbt import run_dbt
    from puente.extract import extract_source
    from puente.simulators.app import Credentials, create_app
    from puente.simulators.business import Business
    from puente.simulators.server import SimulatorServer
    from puente.sources import registry

    dag = dag_bag.get_dag("puente_web_orders")
    business = Business(seed=13, customers=300, start=START)
    credentials = Credentials()
    waiting = {o["name"] for o in business.integration_truth()["web_orders"]
               if o["shop"] == "shopify" and o["state"] == "sale" and not o["entered"]
               and o["ordered_on"] >= (START - timedelta(days=14)).isoformat()}
    assert waiting, "the simulated business has no recent web order left for Puente (test set-up)"
    with SimulatorServer(create_app(business, credentials)) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_PUENTE_WAREHOUSE", runtime.warehouse_connection(fresh_db))
        for key, value in runtime.simulated_sources_env(credentials, sim.base_url).items():
            monkeypatch.setenv(key, value)

        # before the first night: the run waits for it, and lands nothing
        first = dag.test(logical_date=datetime(2026, 11, 16, 14, 45, tzinfo=UTC))
        assert _states(first)["take_turn"] == "skipped" and _states(first)["post"] == "skipped"
        with psycopg.connect(fresh_db) as conn:
            assert conn.execute("select count(*) from ops.load_batches").fetchone()[0] == 0

        # the night (its extraction of every source, and its build of the ERP's products)
        for name, config in registry.simulator_configs(sim.base_url, credentials).items():
            extract_source(fresh_db, name, config, START)
        run_dbt(["build", "--select", "+dim_products", "--exclude-resource-type", "test", "unit_test"], fresh_db)

        run = dag.test(logical_date=datetime(2026, 11, 16, 15, tzinfo=UTC))
        assert _states(run) == dict.fromkeys(("take_turn", "extract", "transform", "gate", "post", "release"),
                                             "success")
        posted = _erp_orders_by_puente(business)
        with psycopg.connect(fresh_db) as conn:
            listed = {r[0] for r in conn.execute(
                "select context ->> 'what' from ops.activation_issues where activation = 'web_orders_to_erp'")}
            lease = conn.execute("select count(*) from ops.pipeline_lease").fetchone()[0]
        # every recent web order nobody retyped is in the ERP once, confirmed, or on the work list
        assert posted and all(o["state"] == "sale" for o in posted)
        assert Counter(o["client_order_ref"] for o in posted).most_common(1)[0][1] == 1
        assert waiting <= {o["client_order_ref"] for o in posted} | {w.removeprefix("web order ") for w in listed}
        assert lease == 0  # the run gave the warehouse back

        # a quarter of an hour later: nothing posted again
        again = dag.test(logical_date=datetime(2026, 11, 16, 15, 15, tzinfo=UTC))
        assert again.state == "success" and len(_erp_orders_by_puente(business)) == len(posted)

        # the night holds the warehouse: the run skips itself and lands nothing
        assert leases.acquire(fresh_db, "puente_nightly scheduled__2026-11-17", leases.NIGHT_TTL) is None
        with psycopg.connect(fresh_db) as conn:
            batches = conn.execute("select count(*) from ops.load_batches").fetchone()[0]
        skipped = dag.test(logical_date=datetime(2026, 11, 16, 15, 30, tzinfo=UTC))
        assert _states(skipped)["take_turn"] == "skipped" and _states(skipped)["post"] == "skipped"
        with psycopg.connect(fresh_db) as conn:
            assert conn.execute("select count(*) from ops.load_batches").fetchone()[0] == batches
            assert conn.execute("select holder from ops.pipeline_lease").fetchone()[0] == (
                "puente_nightly scheduled__2026-11-17")


def test_a_run_that_lost_the_lease_stops_before_it_writes(dag_bag, fresh_db, monkeypatch):
    """Each task after ``take_turn`` renews the run's lease first. A run whose lease ran out and was
    taken by the night stops there (skipped): it never extracts, builds or posts beside the night."""
    from airflow.sdk.exceptions import AirflowSkipException

    from puente import leases, runtime

    monkeypatch.setenv("AIRFLOW_CONN_PUENTE_WAREHOUSE", runtime.warehouse_connection(fresh_db))
    dag = dag_bag.get_dag("puente_web_orders")
    run_id = "scheduled__2026-11-16T15:00:00+00:00"
    holder = f"puente_web_orders {run_id}"
    for task_id in ("extract", "transform", "gate", "post"):
        hook = dag.get_task(task_id)._pre_execute_hook
        assert leases.acquire(fresh_db, holder, timedelta(seconds=1)) is None  # about to run out
        hook({"run_id": run_id})
        with psycopg.connect(fresh_db) as conn:
            minutes_left = conn.execute("select extract(epoch from expires_at - now()) / 60 from ops.pipeline_lease "
                                        "where holder = %s", (holder,)).fetchone()[0]
        assert minutes_left > 29, task_id  # renewed for another FREQUENT_TTL

        assert leases.acquire(fresh_db, holder, timedelta(seconds=-1)) is None  # ran out...
        assert leases.acquire(fresh_db, "puente_nightly night", leases.NIGHT_TTL) is None  # ...and the night took it
        with pytest.raises(AirflowSkipException, match="puente_nightly night took the writer lease over"):
            hook({"run_id": run_id})
        assert leases.release(fresh_db, "puente_nightly night")
