"""The raw, marts and sync gates: pass on good data, fail with a message that says where to look."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from gate_data import LOGICAL_DATE, execute

from expectations.gates import GateFailed, run_marts_gate, run_raw_gate, run_sync_gate


def failure_message(result) -> str:
    with pytest.raises(GateFailed) as failure:
        result.raise_for_failure()
    return str(failure.value)


def recorded_runs(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select gate, logical_date, success, evaluated, failed, jsonb_array_length(details) "
            "from ops.gate_results order by gate_run_id"
        ).fetchall()


# --- raw gate ---------------------------------------------------------------------------------


def test_raw_gate_passes_on_a_clean_landing_and_records_the_run(raw_db):
    result = run_raw_gate(raw_db, LOGICAL_DATE)
    assert result.raise_for_failure() is result
    # 4 checks on each of the 2 non-empty raw tables (empty ones are skipped) + the quarantine share
    assert (result.gate, result.success, result.evaluated, result.failed) == ("raw", True, 9, 0)
    assert result.summary() == {"gate": "raw", "success": True, "evaluated": 9, "failed": 0,
                                "logical_date": LOGICAL_DATE, "gate_run_id": result.gate_run_id,
                                "failed_checks": [], "warnings": []}
    assert recorded_runs(raw_db) == [("raw", dt.date(2026, 11, 21), True, 9, 0, 9)]


def test_a_failed_warn_check_is_reported_without_failing_the_gate(raw_db):
    import great_expectations as gx

    from expectations.gates import _run_gate
    from expectations.suites import Target

    def target(severity: str) -> Target:
        suite = gx.ExpectationSuite(name=f"orders_{severity}")
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
            column="source_id", min_value=9000, meta={"severity": severity, "hint": "a test threshold"}))
        return Target(table="raw.shopify_orders", key="source_id", suite=suite)

    warned = _run_gate("raw", raw_db, dt.date(2026, 11, 21), [target("warn")])
    assert (warned.success, warned.failed, warned.evaluated) == (True, 0, 1)
    assert warned.raise_for_failure() is warned
    assert [check["severity"] for check in warned.warnings] == ["warn"]
    assert warned.summary()["warnings"][0].startswith("raw.shopify_orders.source_id: expect_column_values_to_be_between")
    assert recorded_runs(raw_db)[-1][2:5] == (True, 1, 0)

    failed = _run_gate("raw", raw_db, dt.date(2026, 11, 21), [target("error")])
    assert (failed.success, failed.failed, failed.warnings) == (False, 1, [])
    assert "raw gate failed 1 of 1 checks" in failure_message(failed)


def test_raw_gate_fails_on_a_record_without_updated_at(raw_db):
    execute(raw_db, "insert into raw.shopify_orders (source_id, record, source_updated_at, _batch_id) "
                    "values ('5009', '{\"id\": 5009}', null, 'shopify-orders-1')")
    message = failure_message(run_raw_gate(raw_db, LOGICAL_DATE))
    assert "raw gate failed 1 of 9 checks" in message
    assert "raw.shopify_orders.source_updated_at: expect_column_values_to_not_be_null" in message
    assert "1 of 2 rows unexpected, e.g. source_id=5009" in message
    assert "could not parse the record's updated-at" in message
    assert recorded_runs(raw_db)[-1][2] is False


def test_raw_gate_fails_when_too_many_records_of_the_night_are_quarantined(raw_db):
    execute(raw_db, "insert into ops.quarantine (batch_id, source, object, source_id, payload, reason) "
                    "select 'odoo-res.partner-1', 'odoo', 'res.partner', 'q' || n, '{}', 'no id' "
                    "from generate_series(1, 8) as n")
    message = failure_message(run_raw_gate(raw_db))  # no date: the latest logical date, 2026-11-21
    assert "ops.quarantine.quarantined_share: expect_column_values_to_be_between(min_value=0.0, max_value=0.05)" in message
    assert ("source_object=odoo.res.partner rows_quarantined=10 rows_received=100 judged_against=100 "
            "quarantined_share=0.1") in message
    assert "Read ops.quarantine.reason" in message
    assert run_raw_gate(raw_db, LOGICAL_DATE, max_quarantine_share=0.2).success


def test_raw_gate_counts_only_the_batches_of_the_logical_date(raw_db):
    # all 10 partners received on 2026-11-20 were quarantined: 10 of at least 100
    assert not run_raw_gate(raw_db, "2026-11-20").success
    assert run_raw_gate(raw_db, dt.date(2026, 11, 21)).success


def _quarantine(url: str, batch_id: str, count: int) -> None:
    source, obj, _ = batch_id.split("-")
    execute(url, "insert into ops.quarantine (batch_id, source, object, source_id, payload, reason) "
                 f"select '{batch_id}', '{source}', '{obj}', 'q' || n, '{{}}', 'no id' "
                 f"from generate_series(1, {count}) as n")


def test_raw_gate_judges_a_quiet_night_against_a_floor_and_the_usual_volume(raw_db):
    # a quiet first night: 1 bad contact of 5 is 1 of the floor's 100, not 20%
    execute(raw_db, "insert into ops.load_batches (batch_id, source, object, logical_date, status, rows_received) "
                    "values ('hubspot-contacts-1', 'hubspot', 'contacts', '2026-11-21', 'succeeded', 5)")
    _quarantine(raw_db, "hubspot-contacts-1", 1)
    assert run_raw_gate(raw_db, LOGICAL_DATE).success
    # 30 of the 40 orders received: too many even against the floor...
    _quarantine(raw_db, "shopify-orders-1", 30)
    message = failure_message(run_raw_gate(raw_db, LOGICAL_DATE))
    assert "source_object=shopify.orders rows_quarantined=30 rows_received=40 judged_against=100" in message
    assert "the object's usual nightly volume (the median of its last 14 nights) and 100 records" in message
    # ...but not for a shop that usually sells 1,000 a night: a quiet night, 3% of its volume
    execute(raw_db, "insert into ops.load_batches (batch_id, source, object, logical_date, status, rows_received) "
                    "select 'shopify-orders-old' || n, 'shopify', 'orders', date '2026-11-21' - n, 'succeeded', 1000 "
                    "from generate_series(1, 3) as n")
    assert run_raw_gate(raw_db, LOGICAL_DATE).success


# --- marts gate -------------------------------------------------------------------------------


def test_marts_gate_passes_on_good_marts(marts_db):
    result = run_marts_gate(marts_db, LOGICAL_DATE).raise_for_failure()
    assert (result.gate, result.evaluated, result.failed) == ("marts", 20, 0)
    assert result.warnings == []  # an invoice pending since yesterday is no warning yet


def test_marts_gate_warns_about_einvoices_and_missing_customer_fields(marts_db):
    execute(marts_db, """
        insert into marts.einvoice_issues values
            (403, 'INV/2026/00044', 'c1', '2026-11-18', 'invoice_rejected', 3, 'rejected by the DIAN');
        insert into marts.customer_required_fields_missing values
            ('c2', 'Lucía Gómez', 'odoo', 'tax_id', 'odoo'), ('c2', 'Lucía Gómez', 'odoo', 'phone', 'hubspot')""")
    result = run_marts_gate(marts_db, LOGICAL_DATE).raise_for_failure()  # warnings only: the night goes on
    assert (result.success, result.failed) == (True, 0)
    assert result.summary()["warnings"] == [
        "marts.einvoice_issues.days_pending: expect_column_values_to_be_between(max_value=1.0): 1 of 2 rows "
        "unexpected, e.g. invoice_name=INV/2026/00044 dian_state=invoice_rejected days_pending=3",
        "marts.customer_required_fields_missing.missing_fields: expect_column_values_to_be_between(max_value=0.0): "
        "1 of 1 rows unexpected, e.g. customer_id=c2 missing=phone in hubspot, tax_id in odoo missing_fields=2",
    ]
    assert "Send & Print" in result.warnings[0]["hint"]


def test_a_gate_writes_its_data_docs_into_the_nights_folder(marts_db, tmp_path, monkeypatch):
    """The night's data docs: an index and one page per validated table, under run_folder; a failed
    check shows on its table's page, and a rerun of the gate replaces them."""
    from expectations.gates import data_docs_index

    monkeypatch.setenv("PUENTE_ARTIFACTS_DIR", str(tmp_path))
    execute(marts_db, "update marts.fct_orders set amount_total = -1 where order_id = 'o1'")
    result = run_marts_gate(marts_db, LOGICAL_DATE)
    index = data_docs_index(dt.date(2026, 11, 21), "marts")
    assert index == tmp_path / "runs" / "2026-11-21" / "data_docs" / "marts" / "index.html"
    pages = sorted(index.parent.glob("validations/**/*.html"))
    tables = {check["table"] for check in result.details}
    assert len(pages) == len(tables) >= 4
    assert all(table in index.read_text() for table in tables)
    (orders,) = [page for page in pages if page.name.endswith("marts.fct_orders.html")]
    assert "Failed" in orders.read_text() and "amount_total" in orders.read_text()
    run_marts_gate(marts_db, LOGICAL_DATE)
    assert len(sorted(index.parent.glob("validations/**/*.html"))) == len(tables)


def test_marts_gate_fails_on_an_over_merged_customer_and_impossible_lines(marts_db, monkeypatch):
    monkeypatch.setenv("PUENTE_MAX_RECORDS_PER_CUSTOMER", "3")
    execute(marts_db, "update marts.fct_order_lines set quantity = 0 where order_line_id = 'l2'; "
                      "insert into marts.fct_order_to_cash values ('o3', -2, 0, 0)")
    result = run_marts_gate(marts_db, LOGICAL_DATE)
    failed = {(check["table"], check["column"]) for check in result.details if not check["success"]}
    assert failed == {("marts.dim_customers", "named_records"), ("marts.fct_order_lines", "quantity"),
                      ("marts.fct_order_to_cash", "days_to_erp")}
    message = failure_message(result)
    assert "customer_id=c1 named_records=4" in message
    assert "int_customer_match_evidence" in message
    assert "order_line_id=l2 quantity=0" in message


def test_marts_gate_fails_on_a_duplicate_order_and_a_negative_amount(marts_db):
    execute(marts_db, "insert into marts.fct_orders values ('o1', 'c1', now(), -10, 'COP')")
    result = run_marts_gate(marts_db, LOGICAL_DATE)
    assert (result.success, result.failed) == (False, 2)
    message = failure_message(result)
    assert "marts.fct_orders.order_id: expect_column_values_to_be_unique(): 2 of 3 rows unexpected" in message
    assert "order_id=o1" in message
    assert "marts.fct_orders.amount_total: expect_column_values_to_be_between(min_value=0.0)" in message
    assert "amount_total=-10" in message
    assert "what to look at: one order is counted twice" in message
    assert f"gate_run_id {result.gate_run_id}" in message


def test_marts_gate_fails_on_no_customers_an_unknown_currency_and_a_future_order(marts_db):
    execute(marts_db, "delete from marts.dim_customers; "
                      "insert into marts.fct_orders values ('o3', 'c1', now() + interval '2 days', 10, 'Pesos')")
    message = failure_message(run_marts_gate(marts_db, LOGICAL_DATE))
    assert "marts.dim_customers: expect_table_row_count_to_be_between(min_value=1): observed 0" in message
    assert "order_id=o3 currency_code=Pesos" in message
    assert "marts.fct_orders.ordered_at: expect_column_values_to_be_between(max_value=" in message


def test_marts_gate_fails_when_the_marts_are_not_built(fresh_db):
    message = failure_message(run_marts_gate(fresh_db))
    assert "marts.dim_customers does not exist" in message
    assert "`dbt build`" in message


# --- sync gate --------------------------------------------------------------------------------


def _scores() -> list:
    """The score activation alone (the fixture builds its model only)."""
    from puente.activation.spec import load_activations

    return [a for a in load_activations() if a.name == "crm_contact_scores"]


def test_sync_gate_checks_every_declared_activation_and_says_which_model_is_missing(marts_db):
    result = run_sync_gate(marts_db, LOGICAL_DATE)
    missing = {d["table"] for d in result.details if not d["success"]}
    from puente.activation.spec import load_activations

    assert missing == {a.relation for a in load_activations()} - {"activations.act_crm_contact_scores"}
    assert "build it first" in failure_message(result)


def test_sync_gate_passes_on_good_properties_cleared_ones_and_on_nothing_to_send(marts_db):
    assert run_sync_gate(marts_db, LOGICAL_DATE, _scores()).raise_for_failure().evaluated == 10
    execute(marts_db, "delete from activations.act_crm_contact_scores")
    assert run_sync_gate(marts_db, LOGICAL_DATE, _scores()).success


def test_sync_gate_fails_on_a_score_that_is_not_a_probability(marts_db):
    execute(marts_db, "update activations.act_crm_contact_scores set payload = payload || "
                      "'{\"puente_churn_score\": \"1.7000\"}' where row_key = '503'")
    result = run_sync_gate(marts_db, LOGICAL_DATE, _scores())
    message = failure_message(result)
    assert "sync gate failed 1 of 10 checks" in message
    assert "activations.act_crm_contact_scores.churn_score_value: expect_column_values_to_be_between(" in message
    assert "crm_contact_id=503 churn_score_value=1.7" in message
    assert "ml.churn_scores" in message
    assert len(result.summary()["failed_checks"]) == 1


def test_sync_gate_fails_on_a_non_numeric_score_an_unknown_risk_and_a_duplicate_row(marts_db):
    execute(marts_db, "insert into activations.act_crm_contact_scores (row_key, target_id, payload) values "
                      "('501', '501', '{\"puente_churn_score\": \"high\", \"puente_churn_risk\": \"severe\", "
                      "\"puente_next_action\": \"call_mom\", \"puente_scored_at\": \"2026-11-22T03:00:00.000Z\"}'), "
                      "(null, null, '{}')")
    result = run_sync_gate(marts_db, LOGICAL_DATE, _scores())
    failed = {(check["column"], check["expectation"]) for check in result.details if not check["success"]}
    assert failed == {
        ("row_key", "expect_column_values_to_not_be_null"),
        ("row_key", "expect_column_values_to_be_unique"),
        ("churn_score", "expect_column_values_to_not_be_null"),
        ("churn_score", "expect_column_values_to_match_regex"),
        ("churn_risk", "expect_column_values_to_not_be_null"),
        ("churn_risk", "expect_column_values_to_be_in_set"),
        ("next_action", "expect_column_values_to_be_in_set"),
        ("scored_at", "expect_column_values_to_not_be_null"),
    }
    assert "churn_risk=severe" in failure_message(result)
