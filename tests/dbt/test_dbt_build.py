"""The dbt project built over the scenario of conftest.py: identity resolution, orders, the
CRM sync diff, and the gates on the real output."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row
from scenario import load_raw

from expectations.gates import run_marts_gate, run_sync_gate
from puente.activation.engine import pending_rows
from puente.activation.spec import activation_named
from puente.dbt import ACTIVATION_BUILD_ARGS, DbtFailed, run_dbt


def rows(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def customer_with(url: str, column: str, source_id: str) -> dict:
    (customer,) = rows(url, f"select * from marts.dim_customers where %s = any({column})", source_id)
    return customer


def test_main_build_passes_every_model_and_test_and_leaves_out_the_activations(main_build, built_db):
    statuses = {str(node.status) for node in main_build.result.results}
    assert statuses <= {"success", "pass"}  # no warning either: no customer holds two tax ids
    built = {node.node.name for node in main_build.result.results}
    assert {"dim_customers", "fct_orders", "assert_every_order_counted_once"} <= built
    assert rows(built_db, "select to_regclass('activations.act_crm_contact_scores') as t")[0]["t"] is None


def test_same_person_across_three_systems_is_one_customer(built_db):
    juan = customer_with(built_db, "odoo_partner_ids", "101")
    assert juan["odoo_partner_ids"] == ["101"]
    assert juan["hubspot_contact_ids"] == ["501", "502"]  # 504 is archived: not a customer record
    assert juan["shopify_customer_ids"] == ["7001"]


def test_golden_record_takes_each_field_from_its_system_of_record(built_db):
    juan = customer_with(built_db, "odoo_partner_ids", "101")
    assert (juan["full_name"], juan["full_name_source"]) == ("Juan Pérez", "odoo_partner:101")
    assert (juan["tax_id"], juan["tax_id_source"]) == ("900123456", "odoo_partner:101")
    # the CRM owns contact details and consent; its most recently updated contact wins the
    # details, but for consent an opt-out on any of the person's CRM contacts wins (502 says no)
    assert (juan["email"], juan["email_source"]) == ("juan.perez@example.com", "hubspot_contact:501")
    assert (juan["phone"], juan["phone_source"]) == ("+573001234567", "hubspot_contact:501")
    assert (juan["has_marketing_consent"], juan["has_marketing_consent_source"]) == (False, "hubspot_contact:502")
    assert (juan["city"], juan["country_code"]) == ("Bogotá D.C.", "CO")
    maria = customer_with(built_db, "shopify_customer_ids", "7002")
    assert (maria["has_marketing_consent"], maria["tax_id"]) == (True, "52123456")  # shop consent, note tax id


def test_family_sharing_an_email_stays_two_customers(built_db):
    carlos = customer_with(built_db, "odoo_partner_ids", "102")
    lucia = customer_with(built_db, "odoo_partner_ids", "103")
    assert carlos["customer_id"] != lucia["customer_id"]
    assert carlos["hubspot_contact_ids"] == []
    assert lucia["hubspot_contact_ids"] == ["503"]  # linked by her mobile, not by the family email


def test_suppliers_and_archived_contacts_are_not_customers(built_db):
    assert rows(built_db, "select * from marts.dim_customers where '105' = any(odoo_partner_ids)") == []
    assert rows(built_db, "select * from marts.dim_customers where '504' = any(hubspot_contact_ids)") == []
    assert rows(built_db, "select count(*) as n from marts.dim_customers")[0]["n"] == 6


def test_shop_order_and_its_erp_sale_order_are_one_order(built_db):
    (order,) = rows(built_db, "select * from marts.fct_orders where order_name = '#1042'")
    juan = customer_with(built_db, "odoo_partner_ids", "101")
    assert order["channel"] == "web"
    assert (order["shopify_order_id"], order["odoo_sale_order_id"]) == (5001, 201)
    assert order["customer_id"] == juan["customer_id"]
    assert (order["invoice_status"], order["payment_status"]) == ("invoiced", "paid")
    assert (order["amount_total"], order["currency_code"]) == (129900, "COP")
    assert rows(built_db, "select count(*) as n from marts.fct_orders where odoo_sale_order_id = 201")[0]["n"] == 1


def test_erp_orders_guest_orders_and_quotations(built_db):
    orders = {o["order_name"]: o for o in rows(built_db, "select * from marts.fct_orders")}
    assert set(orders) == {"#1042", "#1043", "#1044", "S00043", "S00045"}  # S00044 is a quotation
    assert orders["S00043"]["channel"] == "erp"
    assert (orders["S00043"]["invoice_status"], orders["S00043"]["payment_status"]) == ("invoiced", "not_paid")
    assert (orders["S00045"]["status"], orders["S00045"]["invoice_status"]) == ("done", "not_invoiced")
    assert str(orders["S00045"]["order_date"]) == "2026-11-01"  # 03:30 UTC is still Nov 1st in Bogotá
    assert (orders["#1043"]["status"], orders["#1043"]["is_cancelled"]) == ("cancelled", True)
    guest = rows(built_db, "select * from marts.dim_customers where customer_id = %s", orders["#1044"]["customer_id"])
    assert guest[0]["email"] == "invitado@example.com"


def test_customer_order_history(built_db):
    juan = customer_with(built_db, "odoo_partner_ids", "101")
    assert (juan["lifetime_orders"], juan["lifetime_revenue"], juan["currency_code"]) == (1, 129900, "COP")
    maria = customer_with(built_db, "shopify_customer_ids", "7002")
    assert (maria["lifetime_orders"], maria["lifetime_revenue"], maria["first_order_at"]) == (0, 0, None)


def test_rebuild_is_idempotent(built_db):
    before = rows(built_db, "select * from marts.dim_customers order by customer_id")
    orders = "select * from marts.fct_orders order by order_id"
    orders_before = rows(built_db, orders)
    run_dbt(["run", "--exclude", "tag:activation"], built_db)
    assert rows(built_db, "select * from marts.dim_customers order by customer_id") == before
    # the rerun re-reads what landed within the look-back hour: the same orders, a later refreshed_at
    assert [{**row, "refreshed_at": None} for row in rows(built_db, orders)] == \
        [{**row, "refreshed_at": None} for row in orders_before]


def test_marts_gate_passes_on_the_build(built_db):
    assert run_marts_gate(built_db, "2026-11-21").raise_for_failure().evaluated > 0


def _score(url: str, customer_id: str, probability: float, band: str, day: str = "2026-11-21",
           reasons: str | None = None) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into ml.model_runs (model_run_id, model_name, as_of_date, features, metrics, baselines, "
            "artifact_path, library_versions) values ('run-1', 'churn', '2026-11-21', '[]', '{}', '{}', "
            "'artifacts/churn/run-1', '{}') on conflict do nothing"
        )
        conn.execute(
            "insert into ml.churn_scores (customer_id, scored_for_date, churn_probability, risk_band, "
            "model_run_id, scored_at, reasons) "
            "values (%s, %s, %s, %s, 'run-1', (%s::date + interval '1 day 3 hours') at time zone 'utc', %s) "
            "on conflict (customer_id, scored_for_date) do update set churn_probability = excluded.churn_probability, "
            "risk_band = excluded.risk_band, reasons = excluded.reasons",
            (customer_id, day, probability, band, day, reasons),
        )


CRM_SCORES = "activations.act_crm_contact_scores"


def _pending(url: str) -> dict[str, dict]:
    """Build the CRM scores' activation model (it reads the scores and what the CRM accepted through
    views), then what the engine would send to the CRM now."""
    run_dbt(["build", "--select", "act_crm_contact_scores"], url)
    return {row["row_key"]: row for row in pending_rows(url, activation_named("crm_contact_scores"))}


def _accept(url: str, *contacts: str) -> None:
    """Book ``contacts`` as accepted by the CRM, as the engine does after HubSpot's 200."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into ops.activation_state (activation, row_key, target_id, payload, compare_hash, run_id) "
            f"select 'crm_contact_scores', row_key, target_id, payload, md5(coalesce(compare, payload)::text), 'test' "
            f"from {CRM_SCORES} where row_key = any(%s) on conflict (activation, row_key) do update set "
            "payload = excluded.payload, compare_hash = excluded.compare_hash, accepted_at = now()",
            (list(contacts),))


def test_crm_scores_are_sent_only_when_a_salesperson_would_notice(built_db):
    juan = customer_with(built_db, "odoo_partner_ids", "101")
    lucia = customer_with(built_db, "odoo_partner_ids", "103")
    _score(built_db, juan["customer_id"], 0.1, "low", day="2026-11-20")
    _score(built_db, juan["customer_id"], 0.73456, "high",
           reasons="no order in 178 days; spent 1,100,000 in the last year")
    _score(built_db, lucia["customer_id"], 0.2, "low")

    run_dbt(list(ACTIVATION_BUILD_ARGS), built_db)  # every activation model, as a night builds them (the sync gate reads them all)
    first = _pending(built_db)
    assert set(first) == {"501", "502", "503"}
    assert first["501"]["payload"] == {
        "puente_churn_score": "0.7346", "puente_churn_risk": "high",
        "puente_churn_reasons": "no order in 178 days; spent 1,100,000 in the last year",
        "puente_scored_at": "2026-11-22T03:00:00.000Z",
    }
    run_sync_gate(built_db, "2026-11-21").raise_for_failure()

    _accept(built_db, "501", "502")  # 503 was refused: it stays pending
    assert set(_pending(built_db)) == {"503"}
    _accept(built_db, "503")
    assert _pending(built_db) == {}  # the same night, second run: nothing to send

    # the next night: the score drifts a little, the day counter moves on, the reasons swap
    # places: nothing a salesperson would notice, nothing to send
    _score(built_db, juan["customer_id"], 0.71, "high", day="2026-11-22",
           reasons="spent 1,200,000 in the last year; no order in 179 days")
    _score(built_db, lucia["customer_id"], 0.23, "low", day="2026-11-22")
    assert _pending(built_db) == {}
    # a move of the score by the threshold (0.05) or more, or a new band, is sent
    _score(built_db, juan["customer_id"], 0.6846, "high", day="2026-11-22", reasons="no order in 179 days")
    _score(built_db, lucia["customer_id"], 0.81, "high", day="2026-11-22")
    changed = _pending(built_db)
    assert set(changed) == {"501", "502", "503"}
    assert changed["501"]["payload"]["puente_churn_score"] == "0.6846"
    _accept(built_db, "501", "502", "503")

    # a band flip by a hair (the score moved less than the margin, 0.02) waits; past it, it goes
    _score(built_db, lucia["customer_id"], 0.61, "high", day="2026-11-22")
    _accept(built_db, *_pending(built_db))
    _score(built_db, lucia["customer_id"], 0.595, "medium", day="2026-11-22")
    assert _pending(built_db) == {}
    _score(built_db, lucia["customer_id"], 0.585, "medium", day="2026-11-22")
    assert set(_pending(built_db)) == {"503"}
    _accept(built_db, "503")

    # a customer no longer scored has the CRM's score fields cleared, once
    with psycopg.connect(built_db) as conn:
        conn.execute("delete from ml.churn_scores where customer_id = %s and scored_for_date = '2026-11-22'",
                     (juan["customer_id"],))
    cleared = _pending(built_db)
    assert set(cleared) == {"501", "502"}
    assert cleared["501"]["payload"]["puente_churn_risk"] == "" and cleared["501"]["payload"]["puente_churn_score"] == ""
    run_sync_gate(built_db, "2026-11-22").raise_for_failure()
    _accept(built_db, "501", "502")
    assert _pending(built_db) == {}


def _column_checks(url: str, rows: str, arguments: str) -> set[tuple]:
    """The failing rows of `column_checks` (macros/column_checks.sql) over ``rows`` with ``arguments``."""
    result = run_dbt(["show", "--inline", "{{ test_column_checks(" + repr(rows) + ", " + arguments + ") }}",
                      "--limit", "-1", "--quiet"], url)
    return {(row["failure"], row["column_name"], row["value"], row["n_records"])
            for row in result.result.results[0].agate_table.rows}


def test_column_checks_name_each_failure_with_its_column_and_count(built_db):
    """`column_checks`: a model's unique, not_null and accepted_values tests in one query, a failing row per
    repeated value, per column with empty values and per value outside a column's list."""
    rows = ("(select * from (values ('a', 1, 'x', 'web'), ('b', 2, null, 'erp'), ('b', null, null, 'fax'),"
            " (null, 3, 'y', null), ('c', 3, 'y', 'fax')) as t (id, n, label, channel)) as t")
    failing = _column_checks(built_db, rows, "key='id', unique=[\"n || '|' || label\"], not_null=['label'],"
                                            " accepted_values={'channel': ['web', 'erp']}")
    assert failing == {
        ("duplicate", "id", "b", 2),             # a key held twice
        ("empty", "id", None, 1),                # and empty once
        ("duplicate", "n || '|' || label", "3|y", 2),  # an expression, its quotes kept in the name
        ("empty", "label", None, 2),
        ("not accepted", "channel", "fax", 2),   # an empty channel is not checked, as with accepted_values
    }
    clean = ("(select * from (values ('a', 1, 'x', 'web'), ('b', null, 'x', 'erp')) as t (id, n, label, channel))"
             " as t")
    assert _column_checks(built_db, clean, "key='id', unique=['n'], not_null=['label'],"
                                          " accepted_values={'channel': ['web', 'erp']}") == set()


def test_a_failing_dbt_test_names_the_node(built_db):
    order = {"id": 999, "name": "#999", "line_items": [{"id": 9991, "quantity": 1, "price": "1.00"}] * 2}
    load_raw(built_db, {"shopify": {"orders": [order]}}, batch_id="test-batch-bad")
    try:
        with pytest.raises(DbtFailed, match=r"column_checks_stg_shopify__order_lines\S* \[fail\]"):
            run_dbt(["build", "--select", "+stg_shopify__order_lines"], built_db)
    finally:
        with psycopg.connect(built_db) as conn:
            conn.execute("delete from raw.shopify_orders where source_id = '999'")
            conn.execute("delete from staging.base_shopify__order_lines where order_id = 999")


def test_every_order_counted_once_names_an_order_lost_and_one_counted_twice(built_db):
    """assert_every_order_counted_once against fct_orders made wrong on purpose: an ERP sale order
    carried by a second row, and a shop order whose row is gone."""
    (erp,) = rows(built_db, "select * from marts.fct_orders where channel = 'erp' order by order_id limit 1")
    (web,) = rows(built_db, "select * from marts.fct_orders where channel = 'web' and odoo_sale_order_id is null "
                            "order by order_id limit 1")
    with psycopg.connect(built_db) as conn:
        conn.execute("insert into marts.fct_orders select * from marts.fct_orders where order_id = %s", (erp["order_id"],))
        conn.execute("update marts.fct_orders set order_id = 'counted twice' where ctid = "
                     "(select max(ctid) from marts.fct_orders where order_id = %s)", (erp["order_id"],))
        conn.execute("create table public.lost_order as select * from marts.fct_orders where order_id = %s",
                     (web["order_id"],))
        conn.execute("delete from marts.fct_orders where order_id = %s", (web["order_id"],))
    try:
        result = run_dbt(["show", "--select", "assert_every_order_counted_once", "--limit", "-1", "--quiet"], built_db)
        failing = {(row["record_type"], str(row["source_id"]), row["order_rows"])
                   for row in result.result.results[0].agate_table.rows}
        assert failing == {("odoo_sale_order", str(erp["odoo_sale_order_id"]), 2),
                           ("shopify_order", str(web["shopify_order_id"]), 0)}
    finally:
        with psycopg.connect(built_db) as conn:
            conn.execute("delete from marts.fct_orders where order_id = 'counted twice'")
            conn.execute("insert into marts.fct_orders select * from public.lost_order")
            conn.execute("drop table public.lost_order")
