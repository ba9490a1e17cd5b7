"""The morning after: what people are told about a night, in plain words.

Two kinds of alert leave Puente:

- a **failure**: a task of a night (or of the web-orders DAG) failed for good. ``failure_alert``
  says which task, the first lines of its error, what that means for the business at that stage,
  what to do, the link to the run and the path of the night's run report.
- a **warning**: the night went on, but someone should look. ``night_warnings`` (the nightly
  ``morning_check`` task) finds them in the warehouse's own bookkeeping:

  - a gate's failed checks of severity ``warn`` (``ops.gate_results``);
  - a source with no new records for longer than its freshness threshold (``dbt source
    freshness``, thresholds declared in ``dbt_project/models/staging/*/_*__sources.yml``);
  - a night's volume far outside what the same weekday usually brings: new or changed records per
    source and object (``ops.load_batches``);
  - the churn score distribution shifted far from a week before (``puente.drift``, ``ml.churn_scores``);
  - the work list growing night after night (``marts.activation_work_list``, counted each night
    into ``ops.work_list_counts``), and rows refused by their target on several nights.

``deliver`` sends each alert to every configured channel and records it, sent or suppressed, in
``ops.alerts`` (the run report reads it). A channel is a plain callable taking an ``Alert``: the
DAGs wrap Airflow's notifiers (Slack incoming webhook, SMTP e-mail, and Puente's own Microsoft
Teams webhook notifier, which posts ``Alert.teams_message`` through ``post_to_teams``) in them, so
this module never imports Airflow. No channel configured means nothing is sent, and the log says so once.

No secret may reach an alert: error text is passed through ``scrub`` (URL passwords, tokens, keys,
and any secret value the caller knows) before it is put in a message.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from puente import drift
from puente.config import run_folder

log = logging.getLogger(__name__)

FAILURE, WARNING = "failure", "warning"
# How many lines of a failed task's error an alert quotes, and how much of each.
ERROR_LINES, LINE_CHARS = 8, 600
# The robust anomaly test (median and MAD of the same weekday's nights).
SAME_WEEKDAY_NIGHTS = 8      # how far back: the last 8 same weekdays
MIN_HISTORY = 4              # below this many earlier nights the test says nothing
ROBUST_Z = 3.5               # |x - median| / (1.4826 * MAD) above this is an anomaly (Iglewicz and Hoaglin)
WORK_LIST_GROWTH_NIGHTS = 3  # the work list grew on each of the last 3 nights
RETRIED_NIGHTS = 3           # a row refused by its target on 3 nights or more
# The Adaptive Card schema version of Teams messages: 1.4 is what Teams renders on every client
# (desktop, web, mobile) and what a Workflows webhook posts as a card.
TEAMS_CARD_VERSION = "1.4"

Channel = Callable[["Alert"], None]


@dataclass(frozen=True)
class Alert:
    """One message for people: ``what`` happened, what it ``means`` for the business, what to ``do``."""

    kind: str  # FAILURE or WARNING
    category: str  # task_failed, gate_warning, stale_source, volume_anomaly, score_drift, work_list_growth, retried_rows
    subject: str  # what it is about: a task id, a gate, a source, "shopify.orders", an activation
    title: str
    what: list[str]
    means: str
    do: str
    logical_date: date | None = None
    run_url: str | None = None
    # Alerts with the same key are sent once (a rerun of the night does not repeat its warnings).
    key: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def report_path(self) -> str | None:
        return str(run_folder(self.logical_date) / "report.html") if self.logical_date else None

    @property
    def headline(self) -> str:
        night = f"night of {self.logical_date}" if self.logical_date else "run without a business day"
        label = "FAILED" if self.kind == FAILURE else "warning"
        return f"Puente {night} — {label}: {self.title}"

    def text(self) -> str:
        """The message as plain text (what a Slack webhook and the log get)."""
        lines = [self.headline, "", "What happened:"]
        lines += [f"  {line}" for line in self.what]
        lines += ["", f"What it means: {_sentence(self.means)}", f"What to do: {_sentence(self.do)}"]
        if self.run_url:
            lines.append(f"The run in Airflow: {self.run_url}")
        if self.report_path:
            lines.append(f"The night's run report: {self.report_path}")
        return "\n".join(lines)

    def html(self) -> str:
        """The message as a small HTML page (what the e-mail gets)."""
        from html import escape

        parts = [f"<h3>{escape(self.headline)}</h3>", "<p><b>What happened:</b></p>",
                 "<pre>" + escape("\n".join(self.what)) + "</pre>",
                 f"<p><b>What it means:</b> {escape(_sentence(self.means))}</p>",
                 f"<p><b>What to do:</b> {escape(_sentence(self.do))}</p>"]
        if self.run_url:
            parts.append(f'<p>The run in Airflow: <a href="{escape(self.run_url)}">{escape(self.run_url)}</a></p>')
        if self.report_path:
            parts.append(f"<p>The night's run report: <code>{escape(self.report_path)}</code></p>")
        return "\n".join(parts)

    def teams_message(self) -> dict[str, Any]:
        """The message as a Microsoft Teams webhook takes it (a Teams "Workflows" webhook, the
        successor of the retired Office 365 connectors, takes Adaptive Cards only): an activity of
        type ``message`` with one Adaptive Card attachment. One text block per line, so that a
        quoted error keeps its lines; a button to the run in Airflow."""
        def block(text: str, **style: Any) -> dict[str, Any]:
            return {"type": "TextBlock", "text": text, "wrap": True, **style}

        body = [block(self.headline, size="Medium", weight="Bolder",
                      color="Attention" if self.kind == FAILURE else "Warning"),
                block("What happened:", weight="Bolder", spacing="Medium"),
                *(block(line, fontType="Monospace", spacing="None") for line in self.what),
                block(f"**What it means:** {_sentence(self.means)}", spacing="Medium"),
                block(f"**What to do:** {_sentence(self.do)}")]
        if self.report_path:
            body.append(block(f"The night's run report: {self.report_path}", isSubtle=True))
        card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                                "type": "AdaptiveCard", "version": TEAMS_CARD_VERSION, "body": body,
                                "msteams": {"width": "Full"}}
        if self.run_url:
            card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the run in Airflow", "url": self.run_url}]
        return {"type": "message", "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------------------------
# No secret in an alert
# --------------------------------------------------------------------------------------------

_URL_PASSWORD = re.compile(r"(\w+://[^/\s:@]+):[^@\s/]+@")
_KEY_VALUE = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization|x-shopify-access-token)"
    r"(['\"]?\s*[=:]\s*)(bearer\s+|basic\s+)?(['\"]?)[^\s'\",;)}]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without passwords in URLs, ``token=…``/``password: …`` values, bearer tokens, and
    without any of ``secrets`` (values the caller knows to be secret, e.g. the warehouse password)."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(r"\1:***@", text)
    text = _BEARER.sub(r"\1 ***", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{m.group(4)}***", text)


# --------------------------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------------------------

_NOTHING_SENT = ("the CRM scores and tasks are still yesterday's, web orders {since} are not in the ERP yet "
                 "(unless the quarter-hourly web-orders DAG posted them), and the shop's stock is yesterday's")

# What a failure at each stage of the night means for the business, and what to do.
_STAGES: dict[str, tuple[str, str]] = {
    "validate_run": (
        "The night did not start: its run settings were refused. Nothing was extracted or sent: " + _NOTHING_SENT + ".",
        "Correct the run's parameters as the error says and trigger the night again."),
    "check_connections": (
        "A system could not be reached, or refused Puente's credentials or read rights, so nothing was "
        "extracted or sent tonight: " + _NOTHING_SENT + ".",
        "Check the system and its Airflow connection named in the error (Admin → Connections), then clear "
        "the failed task in Airflow to run the night again."),
    "prepare_warehouse": (
        "The warehouse could not be prepared or its writer lease taken, so nothing ran tonight: "
        + _NOTHING_SENT + ".",
        "Check that the warehouse (connection puente_warehouse) is up and reachable, then clear the failed task."),
    "extract": (
        "Extraction from {system} failed: tonight's changes in {system} are not in the warehouse, and the night "
        "stopped before scoring and sending, so " + _NOTHING_SENT + ".",
        "Read the error: a system that was down or slow is retried by clearing the task; a refused record or "
        "credential needs fixing in {system} or in its connection first. Batches are in ops.load_batches."),
    "raw_gate": (
        "The raw gate refused tonight's landed data (the checks above), so nothing was transformed, scored or "
        "sent: " + _NOTHING_SENT + ".",
        "Look at the refused records named above (ops.gate_results, ops.quarantine), fix them at their source or "
        "accept them, then clear raw_gate to continue the night."),
    "staging": (
        "The dbt staging of {model} failed (the failing model or test is named above): tonight's records could not be "
        "parsed and typed, so the marts are yesterday's and nothing was scored or sent: " + _NOTHING_SENT + ".",
        "Read the failing model's or test's message above; fix the data at its source or the model, then clear the "
        "failed task."),
    "transform": (
        "The dbt build of the unified customers and orders failed at {model}: the marts are yesterday's and "
        "nothing was scored or sent, so " + _NOTHING_SENT + ".",
        "Read the failing model's or test's message above; fix the data or the model, then clear the failed task."),
    "bi_views": (
        "The BI views (schema marts_bi) could not be rebuilt: reports and dashboards may fail or miss tonight's new "
        "columns until they are. The rest of the night went on: scores and activations are not affected.",
        "Read the failing view's message above; fix it, then clear bi_views."),
    "marts_gate": (
        "The marts gate refused the unified customers or orders (the checks above), so nothing was scored or "
        "sent: " + _NOTHING_SENT + ".",
        "Look at the refused rows named above (ops.gate_results), fix them, then clear marts_gate."),
    "ml": (
        "Tonight's {model} did not finish: the scores, next-best-actions or demand forecasts are yesterday's, and "
        "nothing was sent to any system tonight, so " + _NOTHING_SENT + ".",
        "Read the error above; clear the failed task to retry."),
    "activation_models": (
        "What each system should show could not be built (the failing model is named above), so nothing was "
        "sent tonight: "
        + _NOTHING_SENT + ".",
        "Read the failing model's message above; fix it, then clear the failed task."),
    "sync_gate": (
        "The sync gate refused what was about to be written into the ERP, the shop and the CRM (the checks "
        "above), so nothing was sent: " + _NOTHING_SENT + ".",
        "Look at the refused rows above (ops.gate_results); fix them, then clear sync_gate to send."),
    "activate": (
        "{target} did not receive all of tonight's {activation}{summary}. Rows sent before the failure are in "
        "ops.activation_audit; the others stay pending and are retried next run. Other activations were not "
        "affected.",
        "Read the error above (the target's own answer); once fixed, clear the failed task to send the rest. "
        "Rows the target refused are on the work list (marts.activation_work_list)."),
    "release_lease": (
        "The night's writer lease was not released, so web orders wait until it expires.",
        "Clear the release_lease task, or wait for the lease to expire (ops.pipeline_lease)."),
}
_WEB_ORDERS = (
    "New web orders are not reaching the ERP through the quarter-hourly run ({task} failed); they wait for the "
    "next successful run or for the night. Further failures of this task today are recorded in ops.alerts but "
    "not sent again.",
    "Read the error above; the next quarter-hour tries again by itself. If it keeps failing, check the shop's and "
    "the ERP's connections, or pause the DAG puente_web_orders until it is fixed.")
# How people name each kind of system (puente.sources.spec.KINDS).
_KIND_WORDS = {"erp": "ERP", "crm": "CRM", "shop": "shop", "marketplace": "marketplace",
               "payments": "payment provider"}


def system_name(system: str) -> str:
    """``the ERP (Odoo)``, ``the shop (WooCommerce)``: a registered source by its kind and title
    (``puente.sources.registry``); any other name (``ml``) as it is."""
    from puente.sources import registry

    try:
        spec = registry.source(system)
    except registry.UnknownSource:
        return system
    return f"the {_KIND_WORDS[spec.kind]} ({spec.title})"


def failure_alert(*, dag_id: str, task_id: str, error: str, logical_date: date | None, run_id: str,
                  run_url: str | None, try_number: int | None = None, target: str | None = None,
                  summary: str | None = None, last_good_night: date | None = None,
                  secrets: Iterable[str] = ()) -> Alert:
    """The alert of a task that failed for good (its retries spent)."""
    lines = [line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + "…"
             for line in scrub(error or "(no error message)", secrets).splitlines() if line.strip()]
    quoted = lines[:ERROR_LINES] + ([f"… ({len(lines) - ERROR_LINES} more lines in the task's log)"]
                                    if len(lines) > ERROR_LINES else [])
    stage, _, rest = task_id.partition(".")
    since = f"since the night of {last_good_night}" if last_good_night else "since the last successful night"
    if dag_id == "puente_web_orders":
        means, do = (text.format(task=task_id) for text in _WEB_ORDERS)
        key = f"{logical_date}:{task_id}"  # one alert per task and day, not one every quarter-hour
    else:
        means, do = _STAGES.get(stage, ("The night stopped at this task: " + _NOTHING_SENT + ".",
                                        "Read the error above; clear the failed task once fixed."))
        values = {"since": since, "system": system_name(rest), "model": rest or stage, "activation": rest,
                  "target": system_name(target) if target else "The target system",
                  "summary": f" ({summary.strip().rstrip('.')})" if summary else ""}
        means, do = means.format(**values), do.format(**values)
        key = f"{run_id}:{task_id}:{try_number}"
    tries = f" after {try_number} tries" if try_number and try_number > 1 else ""
    return Alert(kind=FAILURE, category="task_failed", subject=task_id,
                 title=f"{task_id} failed{tries} ({dag_id})",
                 what=[f"Task {task_id} of {dag_id} (run {run_id}) failed{tries}. Its error:", *quoted],
                 means=means, do=do, logical_date=logical_date, run_url=run_url, key=f"{dag_id}:{key}")


def last_good_night(url: str, before: date | None) -> date | None:
    """The last business day before ``before`` whose sync gate passed (what the systems last received)."""
    if before is None:
        return None
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("select max(logical_date) from ops.gate_results where gate = 'sync' and success "
                                "and logical_date < %s", (before,)).fetchone()[0]
    except psycopg.Error:
        return None


# --------------------------------------------------------------------------------------------
# Warnings that are not failures
# --------------------------------------------------------------------------------------------


def robust_outlier(value: float, history: list[float], *, floor: float, relative: float = 0.1,
                   threshold: float = ROBUST_Z, min_history: int = MIN_HISTORY) -> float | None:
    """The robust z-score of ``value`` against ``history`` when it is an anomaly, else None.

    z = (value - median) / scale with scale = 1.4826 · MAD (the normal-consistent median absolute
    deviation), but never below ``floor`` nor ``relative`` × |median|: a history that hardly varies
    would otherwise call any small change an anomaly. Says nothing (None) with fewer than
    ``min_history`` earlier values."""
    if len(history) < min_history:
        return None
    middle = statistics.median(history)
    mad = statistics.median(abs(h - middle) for h in history)
    scale = max(1.4826 * mad, floor, relative * abs(middle))
    z = (value - middle) / scale
    return z if abs(z) > threshold else None


def gate_warnings(conn: psycopg.Connection, day: date) -> list[Alert]:
    """The failed checks of severity warn of the night's latest run of each gate: one alert per gate."""
    from expectations.gates import WARN, describe_check

    rows = conn.execute("select distinct on (gate) gate, gate_run_id, details from ops.gate_results "
                        "where logical_date = %s order by gate, ran_at desc", (day,)).fetchall()
    alerts = []
    for row in rows:
        warned = [c for c in row["details"] if not c.get("success") and c.get("severity") == WARN]
        if not warned:
            continue
        tables = sorted({c["table"] for c in warned})
        what = [f"The {row['gate']} gate passed, but {len(warned)} check(s) of warn level failed "
                f"(ops.gate_results, gate_run_id {row['gate_run_id']}):"]
        for check in warned:
            what.append(f"- {describe_check(check)}")
            if check.get("hint"):
                what.append(f"  what to look at: {check['hint']}")
        alerts.append(Alert(
            kind=WARNING, category="gate_warning", subject=f"{row['gate']} gate", logical_date=day,
            title=f"the {row['gate']} gate warns about {', '.join(tables)}", what=what,
            means="The night went on and everything was sent, but the rows named here are incomplete or doubtful: "
                  "they may be missing from what reached the ERP, the shop or the CRM, or be wrong there.",
            do="Fix the rows named above in the system they come from (the hint says where); the next night "
               "picks the corrections up.",
            details={"gate_run_id": row["gate_run_id"], "checks": len(warned)}))
    return alerts


def stale_sources(freshness: Iterable[Mapping[str, Any]], day: date) -> list[Alert]:
    """``dbt source freshness`` results of status warn or error: one alert per source system."""
    by_source: dict[str, list[Mapping[str, Any]]] = {}
    for result in freshness:
        if result["status"] in ("warn", "error"):
            by_source.setdefault(result["source"], []).append(result)
    alerts = []
    for source, results in sorted(by_source.items()):
        what = [f"No new records from {system_name(source)} for longer than its freshness threshold "
                "(dbt source freshness):"]
        for r in sorted(results, key=lambda r: r["table"]):
            what.append(f"- {source}.{r['table']}: last record landed {_age(r['age_seconds'])} ago "
                        f"(at {r['max_loaded_at']}); {r['status']} after {r['threshold']}")
        if source == "ml":
            means = ("The churn scores or next-best-actions have not been refreshed: what salespeople see in the "
                     "CRM is older than it should be.")
        else:
            means = (f"{system_name(source)} has sent nothing new lately. Either it really is quiet, or Puente is not "
                     f"seeing its changes (a revoked permission, a changed API, a system no longer used): the "
                     f"unified customers, orders, scores and what is sent are built on old {source} data.")
        alerts.append(Alert(
            kind=WARNING, category="stale_source", subject=source, logical_date=day,
            title=f"no new records from {system_name(source)} ({', '.join(sorted(r['table'] for r in results))})",
            what=what, means=means,
            do=f"Check in {system_name(source)} itself whether records changed since then; if they did, check its "
               f"connection's rights and the extract task's log (ops.load_batches).",
            details={"tables": sorted(r["table"] for r in results),
                     "status": max((r["status"] for r in results), key=("warn", "error").index)}))
    return alerts


def _age(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"


def volume_anomalies(conn: psycopg.Connection, day: date) -> list[Alert]:
    """New or changed records per source and object tonight against the same weekday's last nights.

    Counted as inserted + updated over the night's finished batches (``ops.load_batches``), so a rerun
    of the night (which lands nothing new) and the web-orders runs of the same day add nothing twice.
    An object not extracted tonight says nothing (its failure has its own alert)."""
    rows = conn.execute(
        """
        select source, object, logical_date, sum(rows_inserted + rows_updated)::bigint as records
        from ops.load_batches
        where status = 'ok' and logical_date between %s and %s
          and extract(isodow from logical_date) = extract(isodow from %s::date)
        group by source, object, logical_date
        """, (day - timedelta(weeks=SAME_WEEKDAY_NIGHTS), day, day)).fetchall()
    series: dict[tuple[str, str], dict[date, int]] = {}
    for row in rows:
        series.setdefault((row["source"], row["object"]), {})[row["logical_date"]] = row["records"]
    alerts = []
    weekday = day.strftime("%A")
    for (source, obj), nights in sorted(series.items()):
        if day not in nights:
            continue
        history = [float(v) for d, v in sorted(nights.items()) if d < day]
        tonight = nights[day]
        z = robust_outlier(float(tonight), history, floor=3.0)
        if z is None:
            continue
        usual = statistics.median(history)
        low, high = min(history), max(history)
        direction = "far fewer" if z < 0 else "far more"
        if z < 0:
            means = (f"{system_name(source)} sent far fewer {obj} than usual: it may have stopped sending some of "
                     "them (a filter, a revoked permission, an outage at the source), so tonight's customers, orders, "
                     "scores and what was sent may be incomplete.")
        else:
            means = (f"{system_name(source)} sent far more {obj} than usual: a bulk edit or import in the system, a "
                     "resynchronisation, or duplicates. Tonight's figures and what was sent may reflect it.")
        alerts.append(Alert(
            kind=WARNING, category="volume_anomaly", subject=f"{source}.{obj}", logical_date=day,
            title=f"{direction} {source} {obj} than on a usual {weekday} ({tonight} against {usual:g})",
            what=[f"{source} {obj}: {tonight} new or changed records tonight; the last {len(history)} {weekday}s "
                  f"brought {usual:g} (median), between {low:g} and {high:g} (robust z-score {z:+.1f}, "
                  f"threshold ±{ROBUST_Z})."],
            means=means,
            do=f"Compare with {system_name(source)} itself for the day; the night's batches are in ops.load_batches "
               "(rows received, inserted, updated, quarantined).",
            details={"tonight": tonight, "median": usual, "history": history, "z": round(z, 2)}))
    return alerts


def score_drift(conn: psycopg.Connection, day: date) -> list[Alert]:
    """A large shift of the night's churn scores: their PSI against the scores of a week before at
    ``drift.LARGE`` or more (the measure the run report draws)."""
    tonight = drift.score_drift(conn, day)["tonight"]
    if tonight is None or tonight["psi"] is None or tonight["psi"] < drift.LARGE:
        return []
    value, reference = tonight["psi"], tonight["reference"]
    return [Alert(
        kind=WARNING, category="score_drift", subject="ml.churn_scores", logical_date=day,
        title="the churn scores moved far from last week's",
        what=[f"Tonight's churn scores (ml.churn_scores) against those of {reference}: PSI {value:.3f}, "
              f"{drift.verdict(value)} (under {drift.MODERATE} is stable, above {drift.LARGE} a large shift), "
              f"over {drift.BUCKETS} equal buckets of the churn probability."],
        means="The scores salespeople see in the CRM changed a lot: either the customers' behaviour really changed, "
              "or the data feeding the model did (a source missing orders, a new model). The churn tasks and "
              "next-best-actions follow the scores.",
        do="Compare both nights' histograms in the run report's churn section, check tonight's volume warnings and "
           "which model scored (the report's model line); if the data is at fault, fix it and rerun the night.",
        details={"psi": round(value, 4), "reference": reference.isoformat()})]


def record_work_list(conn: psycopg.Connection, day: date) -> bool:
    """Count the work list per activation and kind for the night (``ops.work_list_counts``; a rerun
    overwrites the night's count). False when the work list view is not built yet."""
    try:
        with conn.transaction():
            conn.execute("delete from ops.work_list_counts where logical_date = %s", (day,))
            conn.execute(
                """
                insert into ops.work_list_counts (logical_date, activation, issue_kind, rows, needs_attention)
                select %s, activation, issue_kind, count(*), count(*) filter (where needs_attention)
                from marts.activation_work_list group by activation, issue_kind
                """, (day,))
    except psycopg.errors.UndefinedTable:
        return False
    return True


def work_list_growth(conn: psycopg.Connection, day: date) -> list[Alert]:
    """An activation whose work list grew on each of the last nights it was counted."""
    rows = conn.execute(
        """
        with nights as (
            select distinct logical_date from ops.work_list_counts where logical_date <= %s
            order by logical_date desc limit %s
        ), activations as (select distinct activation from ops.work_list_counts)
        select a.activation, n.logical_date, coalesce(sum(w.rows), 0)::int as rows
        from nights n cross join activations a
        left join ops.work_list_counts w on w.logical_date = n.logical_date and w.activation = a.activation
        group by a.activation, n.logical_date order by a.activation, n.logical_date
        """, (day, WORK_LIST_GROWTH_NIGHTS + 1)).fetchall()
    series: dict[str, list[tuple[date, int]]] = {}
    for row in rows:
        series.setdefault(row["activation"], []).append((row["logical_date"], row["rows"]))
    alerts = []
    for activation, points in sorted(series.items()):
        counts = [rows for _, rows in points]
        if len(points) <= WORK_LIST_GROWTH_NIGHTS or points[-1][0] != day:
            continue
        if not all(later > earlier for earlier, later in zip(counts, counts[1:], strict=False)):
            continue
        alerts.append(Alert(
            kind=WARNING, category="work_list_growth", subject=activation, logical_date=day,
            title=f"the work list of {activation} grew on each of the last {WORK_LIST_GROWTH_NIGHTS} nights",
            what=[f"Rows of {activation} waiting for a person (marts.activation_work_list): "
                  + " → ".join(f"{rows} ({night})" for night, rows in points) + "."],
            means=f"More and more of what {activation} should write cannot be written without a person: those "
                  "records are missing from their target system, and the backlog is not clearing by itself.",
            do="Open marts.activation_work_list for this activation: each row says why it waits and where to fix "
               "it; rows that will never go can be dropped (puente activations drop …).",
            details={"counts": counts}))
    return alerts


def retried_rows(conn: psycopg.Connection, day: date) -> list[Alert]:
    """Rows still refused by their target after being retried on several nights: one alert per activation."""
    rows = conn.execute(
        """
        with refused as (
            select i.activation, i.row_key, i.reason, i.target_error,
                   (select count(distinct a.logical_date) from ops.activation_audit a
                    where a.activation = i.activation and a.row_key = i.row_key and a.status = 'failed') as nights
            from ops.activation_issues i where i.kind = 'failed'
        )
        select activation, count(*) as rows, max(nights) as most_nights,
               (array_agg(row_key || ': ' || coalesce(target_error, reason) order by nights desc, row_key))[1:3]
                   as examples
        from refused where nights >= %s group by activation order by activation
        """, (RETRIED_NIGHTS,)).fetchall()
    return [Alert(
        kind=WARNING, category="retried_rows", subject=row["activation"], logical_date=day,
        title=f"{row['rows']} row(s) of {row['activation']} refused on {RETRIED_NIGHTS} nights or more",
        what=[f"{row['rows']} row(s) of {row['activation']} were refused by their target on at least "
              f"{RETRIED_NIGHTS} nights (up to {row['most_nights']}); e.g.:",
              *(f"- {scrub(example)[:300]}" for example in row["examples"])],
        means="Retrying alone will not get these rows into their target system: they stay missing there until a "
              "person fixes the cause the target gives.",
        do="Fix what the target's error says (in the target or in the source record), or drop the row "
           "(puente activations drop …); marts.activation_work_list lists every one (needs_attention).",
        details={"rows": row["rows"]}) for row in rows]


def night_warnings(url: str, day: date, freshness: Iterable[Mapping[str, Any]] = ()) -> list[Alert]:
    """Every warning of the night ``day``: gate warnings, stale sources (from ``freshness``, the
    results of ``puente.dbt.source_freshness``), volume anomalies, score drift, work list growth and
    retried rows. One detector that cannot run is logged and reported as a warning of its own; it
    never stops the others."""
    alerts = stale_sources(freshness, day)
    detectors: list[Callable[[psycopg.Connection, date], list[Alert]]] = [
        gate_warnings, volume_anomalies, score_drift, work_list_growth, retried_rows]
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
        try:
            record_work_list(conn, day)
        except Exception as error:
            log.exception("the work list could not be counted")
            alerts.append(check_error("record_work_list", error, day))
        for detector in detectors:
            try:
                alerts.extend(detector(conn, day))
            except Exception as error:  # a broken check must not hide the others, nor fail a good night
                log.exception("the %s check could not run", detector.__name__)
                alerts.append(check_error(detector.__name__, error, day))
    return alerts


def check_error(check: str, error: BaseException, day: date) -> Alert:
    return Alert(kind=WARNING, category="check_error", subject=check, logical_date=day,
                 title=f"the morning check {check} could not run",
                 what=[scrub(f"{type(error).__name__}: {error}").splitlines()[0]],
                 means="One of the morning's checks did not run: a warning it would have given is missing.",
                 do="Read the morning_check task's log for the full error.")


# --------------------------------------------------------------------------------------------
# Sending and recording
# --------------------------------------------------------------------------------------------


def deliver(url: str | None, alerts: list[Alert], channels: Mapping[str, Channel], *, dag_id: str,
            run_id: str | None, run_url: str | None = None) -> list[dict[str, Any]]:
    """Send each alert to every channel and record it in ``ops.alerts``: ``sent`` (to at least one
    channel), ``failed`` (every channel refused it; the error, scrubbed, is kept), or ``suppressed``
    (no channel configured, or an alert with the same key was already sent). Never raises: an
    alert that cannot be sent or recorded is logged, and the night goes on."""
    if alerts and not channels:
        log.warning("No alert channel is configured (Airflow connections puente_alerts_slack, puente_alerts_teams, "
                    "puente_alerts_email): "
                    "%d alert(s) recorded in ops.alerts, none sent.", len(alerts))
    outcomes = []
    for alert in alerts:
        if run_url and not alert.run_url:
            alert = _with(alert, run_url=run_url)
        key = alert.key or f"{dag_id}:{alert.logical_date}:{alert.category}:{alert.subject}"
        log.warning("%s", alert.text())
        outcome = {"category": alert.category, "subject": alert.subject, "kind": alert.kind, "key": key,
                   "status": "suppressed", "channels": [], "reason": None}
        if not channels:
            outcome["reason"] = "no alert channel configured"
        elif _already_sent(url, dag_id, key):
            outcome["reason"] = "already sent for this night"
        else:
            errors = []
            for name, send in channels.items():
                try:
                    send(alert)
                    outcome["channels"].append(name)
                except Exception as error:  # one channel down must not stop the others
                    errors.append(f"{name}: {scrub(f'{type(error).__name__}: {error}')}")
                    log.error("alert to %s not sent: %s", name, errors[-1])
            outcome["status"] = "sent" if outcome["channels"] else "failed"
            outcome["reason"] = "; ".join(errors) or None
        _record(url, alert, outcome, dag_id, run_id)
        outcomes.append(outcome)
    return outcomes


class TeamsRefused(RuntimeError):
    """A Microsoft Teams webhook did not take the message."""


def post_to_teams(webhook_url: str, alert: Alert, *, timeout: float = 30.0) -> None:
    """Post ``alert`` as an Adaptive Card to a Microsoft Teams incoming webhook (a Teams
    "Workflows" webhook, or an Office 365 connector's while they last). The URL carries its own
    secret (the ``sig`` of a Workflows URL), so no error names it: only its host. Plain http:// is
    refused for a host that is not this machine (``puente.sources.http.check_scheme``)."""
    import httpx

    from puente.sources.http import SourceError, check_scheme

    host = httpx.URL(webhook_url).host or "(no host)"
    try:
        check_scheme("Microsoft Teams", webhook_url)
    except SourceError as error:
        raise TeamsRefused(str(error)) from None
    try:
        response = httpx.post(webhook_url, json=alert.teams_message(), timeout=timeout)
    except httpx.HTTPError as error:
        raise TeamsRefused(f"the Teams webhook at {host} could not be reached: {type(error).__name__}") from None
    if not response.is_success:  # a Workflows webhook answers 202 Accepted, a connector's 200 "1"
        raise TeamsRefused(f"the Teams webhook at {host} answered HTTP {response.status_code}: "
                           f"{scrub(response.text)[:300]}")


def _with(alert: Alert, **changes: Any) -> Alert:
    from dataclasses import replace

    return replace(alert, **changes)


def _already_sent(url: str | None, dag_id: str, key: str) -> bool:
    if not url:
        return False
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("select exists (select from ops.alerts where dag_id = %s and alert_key = %s "
                                "and status = 'sent')", (dag_id, key)).fetchone()[0]
    except psycopg.Error as error:
        log.warning("could not read ops.alerts (%s); sending anyway", scrub(str(error)).splitlines()[0])
        return False


def _record(url: str | None, alert: Alert, outcome: dict[str, Any], dag_id: str, run_id: str | None) -> None:
    if not url:
        return
    from psycopg.types.json import Jsonb

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute(
                "insert into ops.alerts (logical_date, dag_id, run_id, kind, category, subject, alert_key, title, "
                "message, status, channels, reason, details) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (alert.logical_date, dag_id, run_id, alert.kind, alert.category, alert.subject, outcome["key"],
                 alert.title, alert.text(), outcome["status"], outcome["channels"], outcome["reason"],
                 Jsonb(alert.details)))
    except psycopg.Error as error:
        log.warning("could not record the alert in ops.alerts: %s", scrub(str(error)).splitlines()[0])


def morning_check(url: str, day: date, channels: Mapping[str, Channel], *, dag_id: str, run_id: str | None,
                  sources: Iterable[str], run_url: str | None = None) -> dict[str, Any]:
    """The night's last look (the nightly ``morning_check`` task): run dbt source freshness over
    ``sources`` and the ML outputs, find every warning (``night_warnings``) and deliver them. Never
    raises: whatever goes wrong here is logged and reported, and a good night stays good."""
    from puente.dbt import source_freshness

    alerts: list[Alert] = []
    try:
        freshness = source_freshness(url, [*sources, "ml"])
    except Exception as error:
        log.exception("dbt source freshness could not run")
        freshness = []
        alerts.append(check_error("source_freshness", error, day))
    try:
        alerts.extend(night_warnings(url, day, freshness))
    except Exception as error:
        log.exception("the night's warnings could not be read")
        alerts.append(check_error("night_warnings", error, day))
    outcomes = deliver(url, alerts, channels, dag_id=dag_id, run_id=run_id, run_url=run_url)
    if not alerts:
        log.info("morning check: no warning tonight (%d source tables fresh)", len(freshness))
    return {"warnings": [f"{o['category']} {o['subject']}: {o['status']}" for o in outcomes],
            "sent": sum(o["status"] == "sent" for o in outcomes),
            "suppressed": sum(o["status"] == "suppressed" for o in outcomes),
            "failed": sum(o["status"] == "failed" for o in outcomes)}
