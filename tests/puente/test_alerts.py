"""Alerts: each warning of a night reaches a webhook once, in plain words, and nothing is sent when
all is well. A real PostgreSQL, real dbt source freshness, real Great Expectations for the gate, and
Airflow's own Slack webhook notifier posting to a receiver on this machine (``alert_receiver``).
The failure alert of a real failed night is tested with the night (tests/puente/test_run_conf.py)."""

from __future__ import annotations

import re
import sys
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from puente import alerts, drift

MONDAY = date(2026, 11, 16)
RUN_URL = "http://airflow.example.com/dags/puente_nightly/runs/scheduled__2026-11-16T03%3A00%3A00%2B00%3A00"


def _channels() -> dict:
    """The channels the DAGs use (dags/_puente.py), from the Airflow connections in the environment."""
    dags = str(Path(__file__).resolve().parents[2] / "dags")
    if dags not in sys.path:
        sys.path.insert(0, dags)
    from _puente import alert_channels

    return alert_channels()


def _deliver(url: str, found: list[alerts.Alert]) -> list[dict]:
    return alerts.deliver(url, found, _channels(), dag_id="puente_nightly", run_id="scheduled__2026-11-16",
                          run_url=RUN_URL)


def _recorded(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("select kind, category, subject, status, channels, reason from ops.alerts "
                            "order by alert_id").fetchall()


def _load_batch(conn, source: str, obj: str, night: date, records: int, status: str = "ok") -> None:
    conn.execute(
        "insert into ops.load_batches (batch_id, source, object, logical_date, status, rows_received, rows_inserted, "
        "rows_updated) values (%s, %s, %s, %s, %s, %s, %s, 0)",
        (f"{source}-{obj}-{night}-{records}", source, obj, night, status, records, records))


def _usual_mondays(conn, nights: int = 6) -> None:
    """Six earlier Mondays of ordinary volume (and the Sundays between, which must not count)."""
    for week in range(1, nights + 1):
        night = MONDAY - timedelta(weeks=week)
        _load_batch(conn, "shopify", "orders", night, 100 + (week * 7) % 11)
        _load_batch(conn, "odoo", "res.partner", night, 40 + week % 3)
        _load_batch(conn, "shopify", "orders", night - timedelta(days=1), 5)  # a quiet Sunday


def _fresh_raw_rows(conn) -> None:
    for table in ("raw.shopify_orders", "raw.odoo_res_partner", "raw.hubspot_contacts"):
        conn.execute(f"insert into {table} (source_id, record, source_updated_at, _batch_id) "
                     "values ('1', '{}', now(), 'b1')")


# --- each warning, once ------------------------------------------------------------------------


def test_a_warn_level_gate_check_is_one_alert(fresh_db, alert_receiver):
    import great_expectations as gx

    from expectations.gates import _run_gate
    from expectations.suites import Target

    with psycopg.connect(fresh_db) as conn:
        for order_id in (1001, 1002, 9001):
            conn.execute("insert into raw.shopify_orders (source_id, record, source_updated_at, _batch_id) "
                         "values (%s, '{}', now(), 'b1')", (str(order_id),))
    suite = gx.ExpectationSuite(name="orders_warn", expectations=[gx.expectations.ExpectColumnValuesToMatchRegex(
        column="source_id", regex="^9", meta={"severity": "warn", "hint": "orders numbered outside the 9000s"})])
    gate = _run_gate("raw", fresh_db, MONDAY, [Target(table="raw.shopify_orders", key="source_id", suite=suite)])
    assert gate.success and len(gate.warnings) == 1

    outcomes = _deliver(fresh_db, alerts.night_warnings(fresh_db, MONDAY))
    assert [o["status"] for o in outcomes] == ["sent"]
    (text,) = alert_receiver.texts
    assert text.startswith("Puente night of 2026-11-16 — warning: the raw gate warns about raw.shopify_orders")
    assert "raw.shopify_orders.source_id: expect_column_values_to_match_regex(regex=^9): 2 of 3 rows unexpected" in text
    assert "what to look at: orders numbered outside the 9000s" in text
    assert "What it means: The night went on and everything was sent" in text
    assert f"The run in Airflow: {RUN_URL}" in text
    assert text.endswith("/runs/2026-11-16/report.html")
    assert alert_receiver.messages[0]["path"] == "/" + alert_receiver.token

    # A rerun of the night finds the same warning: recorded, not sent again.
    assert [o["status"] for o in _deliver(fresh_db, alerts.night_warnings(fresh_db, MONDAY))] == ["suppressed"]
    assert len(alert_receiver.texts) == 1
    assert _recorded(fresh_db) == [
        ("warning", "gate_warning", "raw gate", "sent", ["slack"], None),
        ("warning", "gate_warning", "raw gate", "suppressed", [], "already sent for this night")]


def test_a_stale_source_is_one_alert(fresh_db, alert_receiver):
    with psycopg.connect(fresh_db) as conn:
        _fresh_raw_rows(conn)
        conn.execute("update raw.shopify_orders set _loaded_at = now() - interval '5 days'")

    summary = alerts.morning_check(fresh_db, MONDAY, _channels(), dag_id="puente_nightly", run_id="r1",
                                   sources=["odoo", "hubspot", "shopify"], run_url=RUN_URL)
    assert summary["sent"] == 1, summary
    (text,) = alert_receiver.texts
    assert "warning: no new records from the shop (Shopify) (orders)" in text
    assert "- shopify.orders: last record landed 5.0 days ago" in text
    assert "error after 96 hours" in text
    assert "What it means: The shop (Shopify) has sent nothing new lately" in text
    assert "Odoo" not in text and "HubSpot" not in text
    assert _recorded(fresh_db) == [("warning", "stale_source", "shopify", "sent", ["slack"], None)]


def test_a_volume_anomaly_is_one_alert(fresh_db, alert_receiver):
    with psycopg.connect(fresh_db) as conn:
        _usual_mondays(conn)
        _load_batch(conn, "shopify", "orders", MONDAY, 4)      # the shop went nearly silent
        _load_batch(conn, "odoo", "res.partner", MONDAY, 41)   # the ERP as usual
        _load_batch(conn, "odoo", "res.partner", MONDAY, 900, status="failed")  # a failed batch lands nothing

    _deliver(fresh_db, alerts.night_warnings(fresh_db, MONDAY))
    (text,) = alert_receiver.texts
    assert "warning: far fewer shopify orders than on a usual Monday (4 against 106.5)" in text
    assert "the last 6 Mondays brought 106.5 (median), between 102 and 110" in text
    assert "may have stopped sending some of them" in text
    assert "res.partner" not in text


def test_the_volume_test_waits_for_enough_history(fresh_db, alert_receiver):
    with psycopg.connect(fresh_db) as conn:
        _usual_mondays(conn, nights=alerts.MIN_HISTORY - 1)
        _load_batch(conn, "shopify", "orders", MONDAY, 4)
    assert alerts.night_warnings(fresh_db, MONDAY) == []


def test_nothing_is_sent_when_all_is_well(fresh_db, alert_receiver):
    import great_expectations as gx

    from expectations.gates import _run_gate
    from expectations.suites import Target

    with psycopg.connect(fresh_db) as conn:
        _fresh_raw_rows(conn)
        _usual_mondays(conn)
        _load_batch(conn, "shopify", "orders", MONDAY, 107)
        _load_batch(conn, "odoo", "res.partner", MONDAY, 40)
    suite = gx.ExpectationSuite(name="orders_warn", expectations=[
        gx.expectations.ExpectColumnValuesToNotBeNull(column="source_id", meta={"severity": "warn"})])
    assert _run_gate("raw", fresh_db, MONDAY, [Target(table="raw.shopify_orders", key="source_id", suite=suite)]).success

    summary = alerts.morning_check(fresh_db, MONDAY, _channels(), dag_id="puente_nightly", run_id="r1",
                                   sources=["odoo", "hubspot", "shopify"], run_url=RUN_URL)
    assert summary == {"warnings": [], "sent": 0, "suppressed": 0, "failed": 0}
    assert alert_receiver.texts == [] and _recorded(fresh_db) == []


def test_without_a_channel_nothing_is_sent_and_the_log_says_so_once(fresh_db, monkeypatch, caplog, capsys):
    monkeypatch.delenv("AIRFLOW_CONN_PUENTE_ALERTS_SLACK", raising=False)
    with psycopg.connect(fresh_db) as conn:
        _usual_mondays(conn)
        _load_batch(conn, "shopify", "orders", MONDAY, 900)
        _load_batch(conn, "odoo", "res.partner", MONDAY, 0)
    found = alerts.night_warnings(fresh_db, MONDAY)
    assert {a.subject for a in found} == {"shopify.orders", "odoo.res.partner"}
    assert _channels() == {}
    _deliver(fresh_db, found)
    # (Airflow, once imported, sends the log to stdout rather than to pytest's handler)
    logged = caplog.text + capsys.readouterr().out
    assert logged.count("No alert channel is configured") == 1
    assert [row[3:] for row in _recorded(fresh_db)] == [("suppressed", [], "no alert channel configured")] * 2

    # What `make demo` prints of the night lists them.
    from datetime import UTC, datetime

    from rich.console import Console

    from puente import report

    console = Console(record=True, width=200)
    report.render_alerts(console, report.night_summary(fresh_db, MONDAY, datetime(2026, 1, 1, tzinfo=UTC))["alerts"])
    shown = console.export_text()
    assert "Alerts 2 (ops.alerts)" in shown
    assert "warning: far more shopify orders than on a usual Monday (900 against 106.5) (suppressed: no alert " \
           "channel configured)" in shown


# --- the work list and retried rows ---------------------------------------------------------------


def test_a_growing_work_list_and_rows_refused_for_nights_are_alerts(fresh_db, alert_receiver):
    with psycopg.connect(fresh_db) as conn:
        for offset, rows in enumerate((3, 5, 9, 14)):  # four nights, growing every night
            night = MONDAY - timedelta(days=3 - offset)
            conn.execute("insert into ops.work_list_counts values (%s, 'web_orders_to_erp', 'invalid', %s, 0)",
                         (night, rows))
            conn.execute("insert into ops.work_list_counts values (%s, 'stock_to_shop', 'failed', 2, 0)", (night,))
        conn.execute("insert into ops.activation_issues (activation, row_key, kind, reason, target_error, attempts) "
                     "values ('stock_to_shop', 'sku:A1', 'failed', 'refused', 'HTTP 422: inventory item not found', 4)")
        for night in (MONDAY - timedelta(days=2), MONDAY - timedelta(days=1), MONDAY, MONDAY):
            conn.execute("insert into ops.activation_audit (run_id, activation, row_key, target, target_object, "
                         "operation, status, logical_date) values ('r', 'stock_to_shop', 'sku:A1', 'shopify', "
                         "'inventory_level', 'update', 'failed', %s)", (night,))

    _deliver(fresh_db, alerts.night_warnings(fresh_db, MONDAY))
    growth, retried = sorted(alert_receiver.texts, key=lambda t: "work list" not in t)
    assert "the work list of web_orders_to_erp grew on each of the last 3 nights" in growth
    assert "3 (2026-11-13) → 5 (2026-11-14) → 9 (2026-11-15) → 14 (2026-11-16)" in growth
    assert "1 row(s) of stock_to_shop refused on 3 nights or more" in retried
    assert "sku:A1: HTTP 422: inventory item not found" in retried


def test_churn_scores_far_from_last_weeks_are_an_alert(fresh_db, alert_receiver):
    with psycopg.connect(fresh_db) as conn:
        conn.execute("insert into ml.model_runs (model_run_id, model_name, as_of_date, features, metrics, baselines, "
                     "artifact_path, library_versions) values ('m1', 'churn', %s, '[]', '{}', '{}', 'x', '{}')",
                     (MONDAY,))

        def score(night, shift):
            for customer in range(20):
                p = min(0.99, 0.1 + 0.02 * customer + shift)
                conn.execute("insert into ml.churn_scores (customer_id, scored_for_date, churn_probability, risk_band, "
                             "model_run_id) values (%s, %s, %s, %s, 'm1')",
                             (f"c{customer}", night, p, "high" if p >= 0.6 else "low"))

        score(MONDAY - timedelta(days=7), 0.0)
        score(MONDAY - timedelta(days=1), 0.02)  # a small move: yesterday is no alert
        score(MONDAY, 0.45)  # tonight everybody looks about to leave

    with psycopg.connect(fresh_db, row_factory=dict_row) as conn:
        assert alerts.score_drift(conn, MONDAY - timedelta(days=1)) == []
    _deliver(fresh_db, alerts.night_warnings(fresh_db, MONDAY))
    (text,) = alert_receiver.texts
    assert "warning: the churn scores moved far from last week's" in text
    assert re.search(r"against those of 2026-11-09: PSI (\d+\.\d{3}), a large shift", text)
    assert float(re.search(r"PSI (\d+\.\d{3})", text).group(1)) >= drift.LARGE


# --- the pieces ----------------------------------------------------------------------------------


def test_the_robust_test_needs_history_and_ignores_ordinary_noise():
    history = [100.0, 104.0, 98.0, 110.0, 101.0]
    assert alerts.robust_outlier(4, history[:3], floor=3) is None  # too little history to speak
    assert alerts.robust_outlier(112, history, floor=3) is None
    assert alerts.robust_outlier(4, history, floor=3) < -3.5
    assert alerts.robust_outlier(400, history, floor=3) > 3.5
    # a flat history does not make every small change an anomaly
    assert alerts.robust_outlier(9, [7.0, 7.0, 7.0, 7.0], floor=3) is None


@pytest.mark.parametrize("error", [
    "could not connect to postgresql://postgres:s3cr3t-pw@db.example.com:5432/puente",
    "HTTP 401 for https://api.hubapi.com: Authorization: Bearer pat-na1-s3cr3t-pw-0000",
    "odoo refused login api_key=s3cr3t-pw",
    "shopify said: {'X-Shopify-Access-Token': 's3cr3t-pw'}",
    "hubspot: token=s3cr3t-pw expired",
    "the password s3cr3t-pw was refused",
])
def test_no_secret_reaches_an_alert(error):
    alert = alerts.failure_alert(dag_id="puente_nightly", task_id="extract.hubspot", error=error,
                                 logical_date=MONDAY, run_id="r1", run_url=RUN_URL, secrets=["s3cr3t-pw"])
    assert "s3cr3t-pw" not in alert.text() and "s3cr3t-pw" not in alert.html()
    assert "***" in alert.text()


def test_prose_about_a_token_is_not_mistaken_for_one():
    error = "Shopify scopes: the token lacks read_all_orders; the password of the ERP user is fine"
    assert alerts.scrub(error) == error


def test_a_failure_says_what_it_means_for_each_stage():
    def means(task_id: str, **kwargs) -> str:
        return alerts.failure_alert(dag_id="puente_nightly", task_id=task_id, error="RuntimeError: boom",
                                    logical_date=MONDAY, run_id="r1", run_url=RUN_URL, **kwargs).means

    assert means("extract.shopify", last_good_night=date(2026, 11, 15)).startswith(
        "Extraction from the shop (Shopify) failed")
    assert "web orders since the night of 2026-11-15 are not in the ERP yet" in means(
        "extract.shopify", last_good_night=date(2026, 11, 15))
    assert "the CRM scores and tasks are still yesterday's" in means("raw_gate")
    assert means("staging.odoo").startswith("The dbt staging of odoo failed")
    assert "nothing was scored or sent" in means("staging.odoo")
    assert "scores and activations are not affected" in means("bi_views")
    assert means("activate.stock_to_shop", target="shopify", summary="ERP free stock to shop inventory.").startswith(
        "the shop (Shopify) did not receive all of tonight's stock_to_shop (ERP free stock to shop inventory)")
    web = alerts.failure_alert(dag_id="puente_web_orders", task_id="post", error="x", logical_date=MONDAY,
                               run_id="scheduled__1", run_url=None)
    assert "New web orders are not reaching the ERP" in web.means
    assert web.key == "puente_web_orders:2026-11-16:post"  # one alert per task and day


def test_the_email_channel_sends_through_an_smtp_connection(monkeypatch):
    """The SMTP provider's notifier, over the connection puente_alerts_email, to a mail server on this machine."""
    import asyncore
    import email
    import email.policy
    import json
    import smtpd
    import threading

    received = []

    class Server(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            received.append((mailfrom, rcpttos, data.decode() if isinstance(data, bytes) else data))

    server = Server(("127.0.0.1", 0), None)
    port = server.socket.getsockname()[1]
    loop = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1, "count": 100}, daemon=True)
    loop.start()
    monkeypatch.delenv("AIRFLOW_CONN_PUENTE_ALERTS_SLACK", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_PUENTE_ALERTS_EMAIL", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"from_email": "puente@example.com", "to": "ops@example.com, owner@example.com",
                  "disable_tls": True, "disable_ssl": True, "timeout": 10}}))
    try:
        channels = _channels()
        assert set(channels) == {"email"}
        alert = alerts.failure_alert(dag_id="puente_nightly", task_id="raw_gate", error="GateFailed: 3 of 9 checks",
                                     logical_date=MONDAY, run_id="r1", run_url=RUN_URL)
        channels["email"](alert)
    finally:
        server.close()
    ((sender, recipients, message),) = received
    assert (sender, recipients) == ("puente@example.com", ["ops@example.com", "owner@example.com"])
    mail = email.message_from_string(message, policy=email.policy.default)
    assert mail["Subject"] == "Puente night of 2026-11-16 — FAILED: raw_gate failed (puente_nightly)"
    html = next(part.get_content() for part in mail.walk() if part.get_content_type() == "text/html")
    assert "<b>What it means:</b> The raw gate refused tonight&#x27;s landed data" in html
    assert f'<a href="{RUN_URL}">' in html and "/runs/2026-11-16/report.html" in html


def test_the_teams_channel_posts_an_adaptive_card(fresh_db, alert_receiver, monkeypatch):
    """Puente's Teams notifier over the connection puente_alerts_teams (the webhook's whole URL as its
    password), beside Slack: the message a Teams Workflows webhook takes, one Adaptive Card."""
    monkeypatch.setenv("AIRFLOW_CONN_PUENTE_ALERTS_TEAMS", alert_receiver.teams_connection())
    assert set(_channels()) == {"slack", "teams"}
    alert = alerts.failure_alert(dag_id="puente_nightly", task_id="extract.shopify", logical_date=MONDAY,
                                 run_id="r1", run_url=RUN_URL,
                                 error="SourceError: shopify orders: GET /orders.json -> HTTP 503\nretried 5 times")
    outcomes = _deliver(fresh_db, [alert])
    assert [(o["status"], o["channels"]) for o in outcomes] == [("sent", ["slack", "teams"])]

    (message,) = alert_receiver.teams_messages
    assert message["path"].startswith(f"/workflows/{alert_receiver.token}/triggers/manual/paths/invoke?")
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    texts = [block["text"] for block in card["body"]]
    assert all(block["type"] == "TextBlock" and block["wrap"] for block in card["body"])
    assert texts[0] == "Puente night of 2026-11-16 — FAILED: extract.shopify failed (puente_nightly)"
    # the quoted error keeps its lines, one block each
    assert "SourceError: shopify orders: GET /orders.json -> HTTP 503" in texts and "retried 5 times" in texts
    assert any(t.startswith("**What it means:** Extraction from the shop (Shopify) failed") for t in texts)
    assert texts[-1].startswith("The night's run report: ") and texts[-1].endswith("/runs/2026-11-16/report.html")
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open the run in Airflow", "url": RUN_URL}]
    assert _recorded(fresh_db) == [("failure", "task_failed", "extract.shopify", "sent", ["slack", "teams"], None)]


def test_a_teams_webhook_that_refuses_is_a_failed_channel_without_its_secret(fresh_db, monkeypatch):
    """No Slack, a Teams webhook answering 400: the alert is recorded as failed with Teams' answer,
    and neither the error nor the log carries the webhook's secret (its URL)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"error":{"code":"InvalidRequestContent","message":"The card is not valid"}}')

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("AIRFLOW_CONN_PUENTE_ALERTS_SLACK", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_PUENTE_ALERTS_TEAMS", json.dumps(
        {"conn_type": "http", "host": f"http://127.0.0.1:{server.server_port}", "password": "workflows/abc?sig=s3cr3t"}))
    try:
        (outcome,) = _deliver(fresh_db, [alerts.failure_alert(
            dag_id="puente_nightly", task_id="raw_gate", error="GateFailed", logical_date=MONDAY, run_id="r1",
            run_url=RUN_URL)])
    finally:
        server.shutdown()
        server.server_close()
    assert outcome["status"] == "failed" and "HTTP 400" in outcome["reason"] and "InvalidRequestContent" in \
        outcome["reason"]
    assert "s3cr3t" not in outcome["reason"] and "workflows/abc" not in outcome["reason"]


def test_without_a_teams_connection_nothing_goes_to_teams(fresh_db, alert_receiver, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_PUENTE_ALERTS_TEAMS", raising=False)
    assert set(_channels()) == {"slack"}
    _deliver(fresh_db, [alerts.failure_alert(dag_id="puente_nightly", task_id="raw_gate", error="GateFailed",
                                             logical_date=MONDAY, run_id="r1", run_url=RUN_URL)])
    assert len(alert_receiver.texts) == 1 and alert_receiver.teams_messages == []
