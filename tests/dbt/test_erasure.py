"""Erasure of a data subject (puente.erasure): no trace of the person's e-mail, phone or tax id
anywhere in the warehouse afterwards (every table and view of every schema), nor after the same
old records are landed again by the loader and the models rebuilt; a record the source changed
after the erasure lands again."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb
from scenario import SOURCES, _updated_at, load_raw

from puente.activation.writers import Outcome
from puente.dbt import MAIN_BUILD_ARGS, run_dbt
from puente.erasure import SubjectNotFound, erase, was_erased
from puente.load import load_page
from puente.sources.base import Record
from puente.warehouse import raw_object

# Juan Pérez as the systems typed him (scenario.py): e-mail, phones and tax id in every form
TRACES = ["juan.perez@example.com", "3001234567", "300) 123-4567", "300 123 4567", "9001234568", "900.123.456",
          "900123456"]


class RecordingCRM:
    """Stands in for the HubSpot writer (the scenario's contacts live in no simulator): records
    what the erasure asks the CRM."""

    system = "hubspot"
    requests_made = 0

    def __init__(self) -> None:
        self.prepared: list[str] = []
        self.written: list = []
        self.erased_tasks: list[str] = []

    def prepare(self, obj: str) -> None:
        self.prepared.append(obj)

    def write(self, obj, mode, rows):
        self.written += [(obj, mode, row) for row in rows]
        return [Outcome(row.row_key, True, row.target_id) for row in rows]

    def erase_tasks(self, task_ids):
        self.erased_tasks += task_ids
        return [Outcome(task_id, True, task_id, "erase") for task_id in task_ids]


def book_task(url: str, row_key: str, contact_id: str, task_id: str, subject: str, body: str) -> None:
    """What the activation engine books when it creates a CRM task (puente/activation/engine.py):
    the audit row and its memory of what the target accepted."""
    payload = {"contact_id": contact_id, "properties": {"hs_task_subject": subject, "hs_task_body": body}}
    with psycopg.connect(url) as conn:
        conn.execute("insert into ops.activation_audit (run_id, activation, row_key, target, target_object, "
                     "target_id, operation, fields_old, fields_new, status, logical_date) values "
                     "('churn_risk_tasks.2026-11-16.a1', 'churn_risk_tasks', %s, 'hubspot', 'tasks', %s, 'create', "
                     "'{}', %s, 'sent', '2026-11-16')", (row_key, task_id, Jsonb(payload)))
        conn.execute("insert into ops.activation_state (activation, row_key, target_id, payload, compare_hash, run_id) "
                     "values ('churn_risk_tasks', %s, %s, %s, md5(%s), 'churn_risk_tasks.2026-11-16.a1')",
                     (row_key, task_id, Jsonb(payload), row_key))


def traces(url: str, needles: list[str] = TRACES) -> dict[str, int]:
    """Rows of every table and view (schemas other than PostgreSQL's own) whose text holds a trace."""
    found = {}
    with psycopg.connect(url) as conn:
        relations = conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_schema not in ('pg_catalog', 'information_schema') and table_schema not like 'pg\\_%%'
            """).fetchall()
        for schema, table in relations:
            n = conn.execute(sql.SQL("select count(*) from {} as t where t::text ilike any(%s)").format(
                sql.Identifier(schema, table)), ([f"%{t}%" for t in needles],)).fetchone()[0]
            if n:
                found[f"{schema}.{table}"] = n
    return found


# María López as the shop holds her (scenario.py)
MARIA = ["maria.lopez@example.com", "52.123.456", "52123456", "(316) 555-0101", "3165550101", "María López"]


def xcoms(run_id: str) -> list[str]:
    """Every XCom value of the DAG run ``run_id``, as the text Airflow stores."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel.value).filter(XComModel.run_id == run_id).all()
    return [value if isinstance(value, str) else json.dumps(value, ensure_ascii=False) for (value,) in rows]


@pytest.fixture(scope="module")
def erased(module_db):
    load_raw(module_db)
    run_dbt(list(MAIN_BUILD_ARGS), module_db)
    assert len(traces(module_db)) > 10  # he is everywhere before
    # Puente made a churn task for Juan in the CRM (his contact 501), and one for Lucía (503)
    book_task(module_db, "churn:juan:2026-11-16", "501", "9001", "Churn risk: call Juan Pérez",
              "Churn score 0.81 (high). Write to juan.perez@example.com or call 3001234567.")
    book_task(module_db, "churn:lucia:2026-11-16", "503", "9002", "Churn risk: call Lucía Gómez", "Churn score 0.77.")
    crm = RecordingCRM()
    result = erase(module_db, requested_by="dpo@casaandina.com.co", reason="Habeas Data request 2026-117",
                   email="Juan.Perez@example.com", crm_writer=crm)
    return module_db, result, crm


def test_no_trace_of_the_person_remains_anywhere(erased):
    url, result, _ = erased
    assert traces(url) == {}
    assert result.customers == 1 and result.source_records >= 4  # partner 101, contacts 501 and 502, customer 7001
    assert result.removed["raw.shopify_orders"] >= 1  # his order embeds his e-mail
    with psycopg.connect(url) as conn:
        # the others stay as they were (Carlos and Lucía share the family's e-mail)
        assert conn.execute("select count(*) from marts.dim_customers where email = 'familia.gomez@example.com'"
                            ).fetchone()[0] == 2
        # his orders stay, without him: the revenue is the business's
        assert conn.execute("select count(*) from raw.shopify_orders where source_id = '5001'").fetchone()[0] == 1


def test_the_tombstone_keeps_the_fact_without_the_data(erased):
    url, result, _ = erased
    with psycopg.connect(url) as conn:
        (row,) = conn.execute("select requested_by, reason, identified_by, customers, source_records, finished_at, "
                              "removed from ops.erasures").fetchall()
    assert row[:5] == ("dpo@casaandina.com.co", "Habeas Data request 2026-117", ["email"], 1, result.source_records)
    assert row[5] is not None and row[6] == result.removed
    assert row[6]["hubspot.tasks"] == 1  # the CRM task Puente made for him, deleted
    assert was_erased(url, " juan.perez@EXAMPLE.com") and not was_erased(url, "familia.gomez@example.com")
    with psycopg.connect(url) as conn:  # and the audit log shows it, with who asked
        assert conn.execute("select actor, outcome, detail ->> 'erasure_id' from marts.audit_log "
                            "where action = 'erasure'").fetchall() == [("dpo@casaandina.com.co", "done",
                                                                        result.erasure_id)]


def test_the_crm_fields_puente_wrote_are_cleared(erased):
    _, result, crm = erased
    assert crm.prepared == ["contacts"]
    assert sorted(row.row_key for _, _, row in crm.written) == ["501", "502"]
    assert all(mode == "update" and set(row.payload.values()) == {""} and "puente_churn_score" in row.payload
               for _, mode, row in crm.written)
    assert result.crm_contacts_cleared == 2


def test_the_crm_tasks_puente_made_for_him_are_deleted_and_forgotten(erased):
    url, result, crm = erased
    assert crm.erased_tasks == ["9001"] and result.crm_tasks_erased == 1  # Lucía's task is hers to keep
    with psycopg.connect(url) as conn:
        assert conn.execute("select row_key from ops.activation_state where activation = 'churn_risk_tasks'"
                            ).fetchall() == [("churn:lucia:2026-11-16",)]
        assert conn.execute("select crm_tasks_erased from ops.erasures").fetchone() == (1,)
        # the audit keeps that a task was made, without what it said about him
        (audited,) = conn.execute("select fields_new::text from ops.activation_audit where target_id = '9001'"
                                  ).fetchone()
    assert "juan.perez" not in audited and "3001234567" not in audited and "Juan Pérez" not in audited
    assert "Churn risk: call [erased]" in audited


def test_the_next_night_does_not_bring_him_back_unless_the_source_changed(erased):
    url, _, _ = erased
    sources = copy.deepcopy(SOURCES)
    changed = next(c for c in sources["hubspot"]["contacts"] if c["id"] == "501")
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    with psycopg.connect(url) as conn:
        # the old records, served again (a full refresh): skipped
        skipped = 0
        for source, objects in sources.items():
            for obj, records in objects.items():
                counts = load_page(conn, raw_object(source, obj), [
                    Record(r, str(r["id"]), _updated_at(source, r), bool(r.get("archived", False))) for r in records],
                    "erasure-test-night-2")
                skipped += counts.erased_skipped
        conn.commit()
    assert skipped >= 4
    run_dbt(list(MAIN_BUILD_ARGS), url)
    assert traces(url) == {}
    # nor his name, once the models are rebuilt from the scrubbed records (the ERP's orders named
    # him in their partner many2one)
    assert traces(url, ["Juan Pérez", "Juan Perez"]) == {}

    # the CRM contact changed after the erasure (the person wrote in again): it lands
    changed["updatedAt"] = later
    with psycopg.connect(url) as conn:
        counts = load_page(conn, raw_object("hubspot", "contacts"), [Record(changed, "501", later)], "night-3")
        conn.commit()
    assert (counts.erased_skipped, counts.updated) == (0, 1)
    assert "raw.hubspot_contacts" in traces(url)


def test_an_unknown_person_is_a_clear_error(erased):
    url, _, _ = erased
    with pytest.raises(SubjectNotFound):
        erase(url, requested_by="dpo", email="nobody@example.com")
    with pytest.raises(ValueError, match="exactly one"):
        erase(url, requested_by="dpo", email="a@example.com", phone="3001234567")


def test_the_erasure_dag_erases_from_its_trigger_form(erased, monkeypatch):
    """The operator's other way: the puente_erasure DAG's form (here María, by the tax id in her
    shop note; a business without a CRM, so nothing to clear there)."""
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    from puente import runtime

    url, _, _ = erased
    dags = Path(__file__).resolve().parents[2] / "dags"
    monkeypatch.syspath_prepend(str(dags))
    monkeypatch.setenv("AIRFLOW_CONN_PUENTE_WAREHOUSE", runtime.warehouse_connection(url))
    monkeypatch.setenv("PUENTE_SYSTEMS", "odoo,shopify")
    bag = DagBag(dag_folder=str(dags / "puente_erasure.py"))
    assert bag.import_errors == {}
    with psycopg.connect(url) as conn:
        (customer,) = conn.execute("select customer_id from marts.dim_customers "
                                   "where email = 'maria.lopez@example.com'").fetchone()
    run = bag.get_dag("puente_erasure").test(run_conf={"identified_by": "customer_id", "identifier": customer,
                                                       "requested_by": "dpo", "reason": "ticket 9"})
    assert run.state == "success"
    # Nothing of her stays in Airflow either: what the run's tasks handed to Airflow (its XComs, in
    # Airflow's own database, out of the warehouse's erasure) holds counts, not her data.
    values = xcoms(run.run_id)
    assert values and all(not any(t.lower() in value.lower() for t in MARIA) for value in values), values
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw.shopify_customers where record::text ilike "
                            "'%maria.lopez@example.com%'").fetchone()[0] == 0
        assert conn.execute("select identified_by, requested_by from ops.erasures where reason = 'ticket 9'"
                            ).fetchone() == (["customer_id"], "dpo")
        # the run itself is audited with who triggered it in Airflow (dag.test() triggers as "dag_test")
        assert conn.execute("select actor, split_part(subject, ' ', 1), outcome, detail ->> 'run_id' "
                            "from marts.audit_log where action = 'run'").fetchall() == [
            ("dag_test", "puente_erasure", "success", run.run_id)]
