"""The night's HTML run report, built from a real warehouse: the messy night's dbt build (messy_db,
left as found for its other readers), the real raw and marts gates run on it, and
the bookkeeping of the stages dbt does not build (load batches, scores, forecasts, activations)
written as those stages write it. Each section's figures are checked against the warehouse."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import psycopg
import pytest

DAY = date(2026, 11, 21)
WEEK_BEFORE = DAY - timedelta(days=7)


@pytest.fixture
def report_db(messy_db: str):
    """messy_db with the night's bookkeeping of ``_night_bookkeeping`` and its gate runs, removed
    afterwards so that its other readers see it as it was."""
    yield messy_db
    with psycopg.connect(messy_db) as conn:
        conn.execute("delete from ops.gate_results where logical_date = %s", (DAY,))
        conn.execute("delete from ops.load_batches where batch_id like any(array['odoo-%%', 'shopify-%%'])")
        conn.execute("delete from ops.activation_runs where run_id = 'r1'")
        conn.execute("delete from ops.activation_issues where row_key in ('503', 'shopify_order:5003')")
        conn.execute("delete from ml.churn_scores where model_run_id = 'churn-1'")
        conn.execute("delete from ml.demand_forecasts where model_run_id = 'demand-1'")
        conn.execute("delete from ml.model_runs where model_run_id in ('churn-1', 'demand-1')")


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("PUENTE_ARTIFACTS_DIR", str(tmp_path))
    return tmp_path


class _Page(HTMLParser):
    """The page's sections (text by id), and every src/href it refers to."""

    def __init__(self, text: str):
        super().__init__()
        self.sections: dict[str, str] = {}
        self.refs: list[str] = []
        self._section: str | None = None
        self.feed(text)
        self.sections = {name: " ".join(words.split()) + " " for name, words in self.sections.items()}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._section = attrs["id"]
            self.sections[self._section] = ""
        self.refs += [value for key, value in attrs.items() if key in ("src", "href") and value]

    def handle_data(self, data):
        if self._section:
            self.sections[self._section] += data + " "


def _night_bookkeeping(url: str) -> None:
    """What the extract, ML and activation stages of three nights leave behind."""
    with psycopg.connect(url) as conn:
        for night, received, quarantined, future in ((WEEK_BEFORE, 40, 1, 0), (DAY - timedelta(days=1), 12, 0, 2),
                                                     (DAY, 25, 2, 1)):
            for source, obj in (("odoo", "res.partner"), ("shopify", "orders")):
                conn.execute(
                    "insert into ops.load_batches (batch_id, source, object, logical_date, status, rows_received, "
                    "rows_inserted, rows_quarantined, rows_future_stamped) values (%s, %s, %s, %s, 'succeeded', %s, "
                    "%s, %s, %s)",
                    (f"{source}-{obj}-{night}", source, obj, night, received, received - quarantined, quarantined,
                     future))
        conn.execute("insert into ml.model_runs (model_run_id, model_name, as_of_date, features, metrics, baselines, "
                     "artifact_path, library_versions, is_champion) values "
                     "('churn-1', 'churn', %s, '[]', '{}', '{}', '/x', '{}', true), "
                     "('demand-1', 'demand', %s, '[]', '{}', '{}', '/x', '{}', true)", (WEEK_BEFORE, WEEK_BEFORE))
        customers = [r[0] for r in conn.execute("select customer_id from marts.dim_customers order by 1")]
        for i, customer in enumerate(customers):  # a week ago low scores, tonight higher ones
            for night, p in ((WEEK_BEFORE, 0.05 + 0.02 * i), (DAY, min(0.95, 0.33 + 0.1 * i))):
                conn.execute("insert into ml.churn_scores (customer_id, scored_for_date, churn_probability, risk_band, "
                             "model_run_id) values (%s, %s, %s, %s, 'churn-1')",
                             (customer, night, p, "high" if p > 0.6 else "low"))
        product = conn.execute("select product_id from marts.fct_order_lines where quantity > 0 "
                               "group by 1 order by sum(quantity) desc limit 1").fetchone()[0]
        for forecast_date in (DAY - timedelta(days=3), DAY):
            for step in range(1, 29):
                conn.execute("insert into ml.demand_forecasts (product_id, forecast_date, horizon_date, horizon_days, "
                             "p10, p50, p90, model_run_id) values (%s, %s, %s, %s, 0.5, 1, 2, 'demand-1')",
                             (product, forecast_date, forecast_date + timedelta(days=step), step))
        conn.execute("insert into ops.activation_runs (run_id, activation, target, target_object, logical_date, dry_run, "
                     "rows_total, rows_pending, rows_invalid, rows_withheld, rows_sent, rows_created, rows_adopted, "
                     "rows_failed, requests, seconds, reasons) values "
                     "('r1', 'crm_contact_scores', 'hubspot', 'contacts', %s, false, 9, 4, 1, 0, 3, 0, 0, 1, 2, 0.5, '{}')",
                     (DAY,))
        conn.execute("insert into ops.activation_issues (activation, row_key, kind, reason, attempts) values "
                     "('crm_contact_scores', '503', 'failed', 'HubSpot refused the property', 2), "
                     "('web_orders_to_erp', 'shopify_order:5003', 'invalid', 'no customer', 1)")


def _figures(section: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\b\d[\d,]*\b", section)]


def test_the_report_shows_what_the_warehouse_holds(report_db, artifacts):
    import great_expectations as gx

    from expectations.gates import _run_gate, run_marts_gate, run_raw_gate
    from expectations.suites import Target
    from puente.config import run_folder
    from puente.drift import BUCKETS as PSI_BUCKETS
    from puente.run_report import write_report

    _night_bookkeeping(report_db)
    run_raw_gate(report_db, DAY)
    run_marts_gate(report_db, DAY)
    # a sync gate whose one check is a failed warning: the gate passes, the warning is shown apart
    suite = gx.ExpectationSuite(name="customers_warn")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
        column="email", meta={"severity": "warn", "hint": "customers without an email cannot get the newsletter"}))
    _run_gate("sync", report_db, DAY, [Target(table="marts.dim_customers", key="customer_id", suite=suite)])
    path = write_report(report_db, DAY)
    assert path == run_folder(DAY) / "report.html" == artifacts / "runs" / "2026-11-21" / "report.html"
    text = path.read_text()
    page = _Page(text)

    # Self-contained: no script at all, and every src/href is an anchor or a file of the night's folder.
    assert "<script" not in text
    assert all(ref.startswith("#") or not re.match(r"^[a-z]+:|//", ref) for ref in page.refs), page.refs
    assert text.count("<svg") >= 6
    # the only URLs are the SVG and XLink namespace names, which nothing fetches
    assert set(re.findall(r"https?://[^\"' <)]+", text)) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}

    with psycopg.connect(report_db) as conn:
        tonight = dict(((s, o), r) for s, o, r in conn.execute(
            "select source, object, sum(rows_received) from ops.load_batches where logical_date = %s group by 1, 2",
            (DAY,)))
        gates = conn.execute("select gate, evaluated, failed from ops.gate_results where logical_date = %s "
                             "order by gate", (DAY,)).fetchall()
        linked = conn.execute("select count(*) from marts.dim_customers where (cardinality(odoo_partner_ids) > 0)::int "
                              "+ (cardinality(hubspot_contact_ids) > 0)::int + (cardinality(shopify_customer_ids) > 0)::int "
                              "+ (cardinality(woocommerce_customer_ids) > 0)::int > 1").fetchone()[0]
        customers = conn.execute("select count(*) from marts.dim_customers").fetchone()[0]
        review = conn.execute("select count(*) from marts.customer_review_queue").fetchone()[0]
        gaps = dict(conn.execute("select gap_type, count(*) from marts.order_to_cash_gaps group by 1").fetchall())
        work_list = conn.execute("select activation, reason from marts.activation_work_list order by 1").fetchall()
        buckets = {night: [0] * PSI_BUCKETS for night in (WEEK_BEFORE, DAY)}
        for night, p in conn.execute("select scored_for_date, churn_probability from ml.churn_scores"):
            buckets[night][min(int(p * PSI_BUCKETS), PSI_BUCKETS - 1)] += 1

    loads = page.sections["loads"]
    assert tonight[("shopify", "orders")] == 25
    for (source, obj), received in tonight.items():
        assert re.search(rf"{source} {re.escape(obj)} {received} ", loads), loads

    gates_text = page.sections["gates"]
    for gate, evaluated, failed in gates:
        assert re.search(rf"{gate} (passed|FAILED) {evaluated} {failed} ", gates_text), gates_text
    assert re.search(r"sync passed 1 0 1 ", gates_text), gates_text
    warnings = gates_text.split("Warnings (the night went on)")[1]
    assert "marts.dim_customers.email expect_column_values_to_not_be_null" in warnings
    assert "customers without an email cannot get the newsletter" in warnings
    for gate in ("raw", "marts", "sync"):
        assert (run_folder(DAY) / "data_docs" / gate / "index.html").exists()
        assert f'href="data_docs/{gate}/index.html"' in text

    identity = page.sections["identity"]
    assert f"are {customers} customers; {linked} of them are linked" in identity
    assert f"review queue: {review} pair(s)" in identity

    o2c = page.sections["order-to-cash"]
    for gap_type, count in gaps.items():
        assert re.search(rf"{gap_type} {count} ", o2c)

    scores = page.sections["scores"]
    # PSI = sum over buckets of (tonight's share - reference share) * ln(tonight's / reference share),
    # an empty bucket counted as a share of 0.0001
    shares = {night: [max(n / sum(counts), 1e-4) for n in counts] for night, counts in buckets.items()}
    expected_psi = sum((a - e) * math.log(a / e) for e, a in zip(shares[WEEK_BEFORE], shares[DAY], strict=True))
    assert f"PSI {expected_psi:.3f} against the scores of {WEEK_BEFORE}" in scores
    assert expected_psi > 0.25 and "a large shift" in scores

    demand = page.sections["demand"]
    assert "WAPE of p50" in demand and "No demand forecast" not in demand

    activations = page.sections["activations"]
    assert re.search(r"crm_contact_scores hubspot contacts 9 4 3 0 0 1 1 0 2 ", activations), activations
    assert f"Work list: {len(work_list)} row(s)" in activations
    for _, reason in work_list:
        assert reason in activations

    assert "values set to null" in page.sections["data-issues"]
    # No alert was recorded tonight; the country's marts are built (their rows, if any, are shown).
    assert "No alert tonight" in page.sections["alerts"]
    with psycopg.connect(report_db) as conn:
        required = conn.execute("select system, field, count(*) from marts.customer_required_fields_missing "
                                "group by 1, 2").fetchall()
        einvoices = conn.execute("select count(*) from marts.einvoice_issues").fetchone()[0]
    for system, field, count in required:
        assert f"{system} {field} {count}" in page.sections["required-fields"]
    assert einvoices > 0 or "none (marts.einvoice_issues)" in page.sections["einvoice"]


def test_a_night_with_missing_parts_says_what_is_missing(fresh_db, artifacts):
    """A night that stopped early: nothing but one failed extraction; no gate, no dbt build, no scores."""
    from puente.run_report import write_report

    with psycopg.connect(fresh_db) as conn:
        conn.execute("insert into ops.load_batches (batch_id, source, object, logical_date, status, rows_received) "
                     "values ('b1', 'odoo', 'res.partner', %s, 'failed', 0)", (DAY,))
    states = {"validate_run": "success", "check_connections": "success", "prepare_warehouse": "success",
              "extract.odoo": "failed", "raw_gate": "upstream_failed", "transform.stg_x": "upstream_failed"}
    text = write_report(fresh_db, DAY, task_states=states).read_text()
    page = _Page(text)
    assert "The night FAILED: extract.odoo failed, and 2 task(s) after it did not run" in " ".join(text.split())
    assert "No gate ran for 2026-11-21" in page.sections["gates"]
    assert "raw did not run" in page.sections["gates"]
    assert "marts.dim_customers is not built" in page.sections["identity"]
    assert "No churn scores for 2026-11-21" in page.sections["scores"]
    assert "No demand forecast" in page.sections["demand"]
    assert "No activation ran" in page.sections["activations"]
    assert "marts.activation_work_list is not built" in page.sections["activations"]
    assert "odoo res.partner 0" in page.sections["loads"] and "failed" in page.sections["loads"]


def test_the_country_sections_and_alerts_appear_when_their_tables_exist(fresh_db, artifacts):
    from puente.run_report import write_report

    with psycopg.connect(fresh_db) as conn:
        conn.execute("""
            create schema marts;
            create table marts.einvoice_issues (invoice_id text, invoice_name text, customer_id text,
                invoice_date date, dian_state text, days_pending integer, reason text, dian_message text);
            insert into marts.einvoice_issues values
                ('402', 'FE-402', 'c1', '2026-11-18', 'invoice_rejected', 3, 'rejected by the DIAN: fix it',
                 'Documento con errores en campos mandatorios.: Regla: FAK24, Rechazo: NIT <inválido>'),
                ('405', 'FE-405', 'c2', '2026-11-19', 'invoice_pending', 2, 'still being validated', null),
                ('406', 'FE-406', 'c2', '2026-11-19', 'invoice_pending', 2, 'still being validated', null);
            create table marts.customer_required_fields_missing (customer_id text, display_name text, system text,
                field text, fix_in text);
            insert into marts.customer_required_fields_missing values
                ('c1', 'Juan Pérez', 'odoo', 'vat', 'Odoo: Contactos > Juan Pérez > NIT'),
                ('c2', 'Lucía <Gómez>', 'odoo', 'city', 'Odoo: Contactos > Lucía > Ciudad');
            insert into ops.alerts (logical_date, dag_id, kind, category, subject, alert_key, title, message,
                                    status, channels) values
                ('2026-11-21', 'puente_nightly', 'warning', 'stale_source', 'hubspot', 'k1',
                 'HubSpot sent nothing for 3 days', 'm', 'sent', '{slack}'),
                ('2026-11-20', 'puente_nightly', 'failure', 'task_failed', 'extract.odoo', 'k2',
                 'yesterday''s alert', 'm', 'sent', '{slack}');
        """)
    text = write_report(fresh_db, DAY).read_text()
    page = _Page(text)
    einvoice = page.sections["einvoice"]
    assert "invoice_rejected 1" in einvoice and "invoice_pending 2" in einvoice
    # each invoice with the DIAN's own answer (escaped), beside what to do
    assert re.search(r"FE-402 c1 2026-11-18 invoice_rejected 3 rejected by the DIAN: fix it Documento con errores "
                     r"en campos mandatorios\.: Regla: FAK24, Rechazo: NIT <inválido>", einvoice), einvoice
    assert "DIAN's answer" in einvoice and "NIT &lt;inválido&gt;" in text
    required = page.sections["required-fields"]
    assert "odoo vat 1" in required and "odoo city 1" in required and "Odoo: Contactos > Juan Pérez > NIT" in required
    assert "Lucía &lt;Gómez&gt;" in text  # names are escaped, never markup
    assert "HubSpot sent nothing for 3 days" in page.sections["alerts"]
    assert "yesterday's alert" not in page.sections["alerts"]
