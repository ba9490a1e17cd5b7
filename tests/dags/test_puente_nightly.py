"""The nightly DAG: integrity (imports, shape, retries) and real end-to-end nights.

The end-to-end tests run the DAG with ``dag.test()`` — real Airflow, real dbt through cosmos,
real Great Expectations, real LightGBM — against a fresh PostgreSQL database and the
simulators over HTTP, then check the warehouse and the CRM simulator.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import psycopg
import pytest

START = date(2026, 11, 16)


def test_dag_shape(nightly_dag):
    groups = {t.task_id.split(".")[0] for t in nightly_dag.tasks}
    assert {"prepare_warehouse", "extract", "raw_gate", "transform", "marts_gate", "ml", "crm_sync",
            "sync_gate", "write_back"} <= groups
    extract = {t.task_id for t in nightly_dag.tasks if t.task_id.startswith("extract.")}
    assert extract == {"extract.odoo", "extract.hubspot", "extract.shopify"}
    # The three extractions run side by side: none depends on another.
    for task_id in extract:
        assert not (nightly_dag.get_task(task_id).upstream_task_ids & extract)
    assert all(t.retries >= 1 for t in nightly_dag.tasks)
    # Nothing reaches the CRM unless every gate upstream of it passed.
    upstream_of_write_back = nightly_dag.get_task("write_back").get_flat_relative_ids(upstream=True)
    assert {"raw_gate", "marts_gate", "sync_gate", "ml.score_churn", "ml.next_best_action",
            "ml.forecast_demand"} <= upstream_of_write_back
    # `rebuild_marts` reaches dbt as --full-refresh on the incremental facts' tasks.
    assert nightly_dag.params["rebuild_marts"] is False
    facts = [t for t in nightly_dag.tasks if t.task_id.startswith("transform.fct_order")]
    assert facts and all(t.full_refresh == "{{ params.rebuild_marts }}" for t in facts)


def _counts(url: str) -> dict[str, int]:
    from puente.warehouse import RAW_OBJECTS

    with psycopg.connect(url) as conn:
        counts = {o.qualified_table: conn.execute(f"select count(*) from {o.qualified_table}").fetchone()[0]
                  for o in RAW_OBJECTS}
        for table in ("ops.crm_writeback", "ml.churn_scores", "ml.next_best_actions", "ml.demand_forecasts",
                      "marts.dim_customers", "marts.fct_orders"):
            counts[table] = conn.execute(f"select count(*) from {table}").fetchone()[0]
    return counts


def _resent(url: str) -> dict[str, list]:
    """For contacts sent more than once, the properties that changed between sends (for a
    failure's message)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select hubspot_contact_id, properties - 'puente_scored_at' from ops.crm_writeback "
            "order by hubspot_contact_id, sent_at, writeback_id"
        ).fetchall()
    sends: dict[str, list[dict]] = {}
    for contact_id, properties in rows:
        sends.setdefault(contact_id, []).append(properties)
    return {
        contact_id: [{k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
                      if before.get(k) != after.get(k)} for before, after in zip(seq, seq[1:], strict=False)]
        for contact_id, seq in sends.items() if len(seq) > 1
    }


def _loads_since(url: str, since: datetime) -> dict[str, tuple[int, int]]:
    """(inserted, updated) per source object for the batches started after ``since``."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select source || '.' || object, sum(rows_inserted), sum(rows_updated) from ops.load_batches "
            "where started_at >= %s group by 1",
            (since,),
        ).fetchall()
    return {name: (int(inserted), int(updated)) for name, inserted, updated in rows}


@pytest.mark.e2e
def test_nights_end_to_end(nightly_dag, fresh_db, monkeypatch):
    from rich.console import Console

    from puente import report, runtime
    from puente.simulators.app import Credentials, create_app
    from puente.simulators.business import Business
    from puente.simulators.server import SimulatorServer

    business = Business(seed=13, customers=300, start=START)  # its second day brings new shop orders
    credentials = Credentials()
    app = create_app(business, credentials)
    with SimulatorServer(app) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_PUENTE_WAREHOUSE", runtime.warehouse_connection(fresh_db))
        for key, value in runtime.simulated_sources_env(credentials, sim.base_url).items():
            monkeypatch.setenv(key, value)

        night_started = datetime.now(UTC)
        run = nightly_dag.test(logical_date=datetime(2026, 11, 16, tzinfo=UTC))
        assert run.state == "success"
        first = _counts(fresh_db)

        # What the demo prints is what landed.
        summary = report.night_summary(fresh_db, START, night_started)
        received = {f"raw.{r['source']}_{r['object'].replace('.', '_')}": r["inserted"] for r in summary["extract"]}
        assert received["raw.shopify_orders"] == first["raw.shopify_orders"]
        assert summary["identity"]["customers"] == first["marts.dim_customers"]
        assert {g["gate"]: g["success"] for g in summary["gates"]} == {"raw": True, "marts": True, "sync": True}
        assert dict((w["status"], w["contacts"]) for w in summary["writeback"]) == {"sent": first["ops.crm_writeback"]}
        assert summary["model"]["metrics"]["roc_auc"] > 0.5
        assert sum(stage["orders"] for stage in summary["stages"]) == first["marts.fct_orders"]
        assert sum(a["customers"] for a in summary["actions"]) == first["ml.next_best_actions"]
        with psycopg.connect(fresh_db) as conn:
            forecast_products = conn.execute(
                "select count(distinct product_id) from ml.demand_forecasts where forecast_date = %s", (START,)
            ).fetchone()[0]
        assert summary["demand"]["products"] == forecast_products > 0
        console = Console(record=True, width=200)
        report.render_night(console, START, summary, [
            {"id": "7", "name": "Ana Ruiz", "score": "0.91", "risk": "high", "action": "retention_call",
             "product": None, "reason": "no order in 120 days"}])
        shown = console.export_text()
        assert f"Demand 28-day forecasts for {forecast_products} products" in shown
        assert "next action: retention_call (no order in 120 days)" in shown

        # Next-best-actions and forecasts exist, and no action breaks stock, margin or consent.
        assert first["ml.next_best_actions"] > 0 and first["ml.demand_forecasts"] > 0
        with psycopg.connect(fresh_db) as conn:
            violations = conn.execute(
                """
                select count(*) from ml.next_best_actions a
                join marts.dim_customers c using (customer_id)
                left join marts.dim_products p using (product_id)
                where a.action <> 'none' and (
                    not coalesce(c.has_marketing_consent, false)
                    or (a.action = 'offer_product' and (coalesce(p.stock_on_hand, 0) <= 0
                        or p.unit_cost is null or p.list_price <= 0 or 1 - p.unit_cost / p.list_price < 0.15)))
                """
            ).fetchone()[0]
        assert violations == 0

        # Raw holds exactly what the sources hold.
        state = httpx.get(f"{sim.base_url}/_sim/state").json()
        assert first["raw.hubspot_contacts"] == state["counts"]["hubspot"]["contacts"]
        assert first["raw.shopify_orders"] == state["counts"]["shopify"]["orders"]
        assert first["raw.odoo_res_partner"] == state["counts"]["odoo"]["res.partner"]
        assert first["marts.dim_customers"] > 0 and first["marts.fct_orders"] > 0

        # Scores are on the right CRM contacts: each sent value equals the customer's score.
        with psycopg.connect(fresh_db) as conn:
            sent = conn.execute(
                """
                select w.hubspot_contact_id, w.properties ->> 'puente_churn_score',
                       w.properties ->> 'puente_churn_risk', s.churn_probability, s.risk_band,
                       a.action, w.properties ->> 'puente_next_action'
                from ops.crm_writeback w
                join marts.dim_customers d on w.hubspot_contact_id = any(d.hubspot_contact_ids)
                join ml.churn_scores s on s.customer_id = d.customer_id and s.scored_for_date = %s
                left join ml.next_best_actions a on a.customer_id = d.customer_id
                    and a.scored_for_date = s.scored_for_date
                where w.status = 'sent'
                """,
                (START,),
            ).fetchall()
        assert len(sent) == first["ops.crm_writeback"] > 0
        headers = {"Authorization": f"Bearer {credentials.hubspot_token}"}
        for contact_id, score, risk, probability, band, action, sent_action in sent[:25]:
            assert abs(float(score) - probability) < 1e-4 and risk == band and sent_action == action
            contact = httpx.get(
                f"{sim.base_url}/hubspot/crm/v3/objects/contacts/{contact_id}",
                params={"properties": "puente_churn_score,puente_churn_risk,puente_next_action"}, headers=headers,
            ).json()
            assert contact["properties"]["puente_churn_score"] == score
            assert contact["properties"]["puente_churn_risk"] == risk
            # The salesperson sees the next-best-action beside the churn score.
            assert action is not None and contact["properties"]["puente_next_action"] == action

        # A rerun of the same night changes nothing: no new rows, nothing re-sent. What it does
        # see is the echo of the first run's write-back: HubSpot stamps a new lastmodifieddate on
        # every contact it updated, so those contacts land again, now carrying the sent scores.
        rerun_started = datetime.now(UTC)
        run = nightly_dag.test(logical_date=datetime(2026, 11, 16, tzinfo=UTC))
        assert run.state == "success"
        assert _counts(fresh_db) == first, _resent(fresh_db)
        loads = _loads_since(fresh_db, rerun_started)
        assert sum(inserted for inserted, _ in loads.values()) == 0
        assert loads.pop("hubspot.contacts")[1] >= first["ops.crm_writeback"]
        assert all(updated == 0 for _, updated in loads.values()), loads
        with psycopg.connect(fresh_db) as conn:
            not_echoed = conn.execute(
                """
                select count(*) from ops.crm_writeback w
                join raw.hubspot_contacts c on c.source_id = w.hubspot_contact_id
                where w.status = 'sent'
                  and c.record -> 'properties' ->> 'puente_churn_score' is distinct from w.properties ->> 'puente_churn_score'
                """
            ).fetchone()[0]
        assert not_echoed == 0

        # The next business day brings new and changed records, and only changes are sent.
        httpx.post(f"{sim.base_url}/_sim/advance", json={"days": 1}).raise_for_status()
        run = nightly_dag.test(logical_date=datetime(2026, 11, 17, tzinfo=UTC))
        assert run.state == "success"
        second = _counts(fresh_db)
        assert second["raw.shopify_orders"] > first["raw.shopify_orders"]
        assert second["ml.churn_scores"] > first["ml.churn_scores"]
        # Contacts are sent again only when something they show changed (a new score, reason or
        # action): no two consecutive sends to a contact carry the same properties.
        resends = _resent(fresh_db)
        assert resends, "the second night sent nothing new"
        assert all(all(changes) for changes in resends.values()), resends
