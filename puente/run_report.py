"""The run report: one self-contained HTML page per night, for the people who read it the morning after.

``write_report(url, day)`` reads what the night left in the warehouse (``ops.*``, ``ml.*`` and the
marts; the figures the console summary shows come from ``puente.report.night_summary``, the rest
from the queries below) and writes ``run_folder(day) / "report.html"``. The page opens from a
file, offline: no script, no stylesheet or font from elsewhere; the plots are matplotlib figures
inlined as SVG (vector, small, readable without JavaScript, which altair or plotly would need
inlined at a few megabytes a page). A part of the night that did not run (no gate, no scores
yet, a mart not built) is a section saying what is missing, never an error: a failed night is
exactly when the report is read. Sections for tables another part of Puente may not have built
(``marts.einvoice_issues``, ``marts.customer_required_fields_missing``, ``ops.alerts``) appear
only when the table exists.
"""

from __future__ import annotations

import html
import io
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from puente import drift, report
from puente.config import run_folder
from puente.sources import registry

HISTORY_NIGHTS = 30
TOP_PRODUCTS = 6
ROWS_SHOWN = 50
GATES = ("raw", "marts", "sync")


def report_path(business_date: date) -> Path:
    return run_folder(business_date) / "report.html"


def write_report(url: str, business_date: date, task_states: dict[str, str] | None = None) -> Path:
    """Write the night's report (replacing an earlier one) and return its path. ``task_states`` (task
    id -> state, from the DAG run) names the tasks that failed; without it the report judges the
    night from the warehouse alone."""
    path = report_path(business_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = collect(url, business_date)
    data["task_states"] = task_states or {}
    page = render_report(data, business_date)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


NIGHTLY_DAG = "puente_nightly"

# A night is on record when it left a trace: a load batch (its extract started), a gate run, or its
# nightly DAG run in ops.dag_runs (a night that stopped before its first batch). Each query yields
# the business days it knows of.
_NIGHT_TRACES = (
    "select logical_date as d from ops.load_batches",
    "select logical_date as d from ops.gate_results",
    f"select logical_date as d from ops.dag_runs where dag_id = '{NIGHTLY_DAG}'",
)


def nights_on_record(url: str, limit: int = 5) -> list[date]:
    """The latest ``limit`` business days the warehouse has a trace of (latest first): a load batch,
    a gate run or a nightly DAG run. Empty for a warehouse with none, or without its ``ops`` tables."""
    union = " union ".join(_NIGHT_TRACES)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = report.fetch_all(conn, f"select d from ({union}) nights where d is not null "
                                      f"order by d desc limit {int(limit)}")
    return [row["d"] for row in rows]


def night_on_record(url: str, day: date) -> bool:
    """Whether the warehouse has any trace of the night of ``day`` (see ``nights_on_record``): a night
    that started but stopped early has one; a date no night ran for has none."""
    union = " union all ".join(f"select 1 from ({trace}) t where d = %(day)s" for trace in _NIGHT_TRACES)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        found = report.fetch_one(conn, f"select exists ({union}) as found", {"day": day})
    return bool(found and found["found"])


def latest_night(url: str) -> date | None:
    """The latest business day the warehouse has a load batch, a gate run or a nightly DAG run of."""
    nights = nights_on_record(url, limit=1)
    return nights[0] if nights else None


# --- what the night left in the warehouse --------------------------------------------------------


def collect(url: str, day: date) -> dict:
    summary = report.night_summary(url, day, None)
    first = day - timedelta(days=HISTORY_NIGHTS - 1)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        tables = {row["name"] for row in conn.execute(
            "select table_schema || '.' || table_name as name from information_schema.tables "
            "where table_schema in ('ops', 'ml', 'marts')")}
        data = {
            "summary": summary,
            "tables": tables,
            "loads": report.fetch_all(conn, """
                select logical_date, source, object, sum(rows_received) as received,
                       sum(rows_quarantined) as quarantined, sum(rows_future_stamped) as future_stamped,
                       count(*) filter (where status = 'failed') as failed_batches
                from ops.load_batches where logical_date between %s and %s
                group by 1, 2, 3 order by 1, 2, 3
            """, (first, day)),
            "linked": _linked_customers(conn),
            "review": report.fetch_all(conn, f"""
                select record_key, other_record_key, match_probability, matched_on, explanation
                from marts.customer_review_queue order by match_probability desc nulls last, review_id
                limit {ROWS_SHOWN}
            """),
            "review_count": _count(conn, "marts.customer_review_queue", tables),
            "gap_rows": report.fetch_all(conn, f"""
                select g.gap_type, coalesce(o.order_name, 'invoice ' || g.invoice_id, 'deal ' || g.crm_deal_id)
                           as reference,
                       c.full_name as customer, g.since_date, g.days_open, g.activation_posts as puente_posts_it,
                       g.amount, g.currency_code
                from marts.order_to_cash_gaps g
                left join marts.fct_orders o on o.order_id = g.order_id
                left join marts.dim_customers c on c.customer_id = g.customer_id
                order by g.days_open desc nulls last, g.gap_id limit {ROWS_SHOWN}
            """),
            "score_drift": drift.score_drift(conn, day, HISTORY_NIGHTS),
            "demand": _demand(conn, day),
            "audit": report.fetch_all(conn, """
                select target, target_object, operation, status, count(*) as rows
                from ops.activation_audit where logical_date = %s group by 1, 2, 3, 4 order by 1, 2, 3, 4
            """, (day,)),
            "work_list": report.fetch_all(conn, f"""
                select activation, issue_kind, what, reason, customer_name, attempts, days_waiting
                from marts.activation_work_list order by needs_attention desc, days_waiting desc nulls last,
                         activation, row_key limit {ROWS_SHOWN}
            """),
            "work_list_count": _count(conn, "marts.activation_work_list", tables),
            "issues": report.fetch_all(conn, """
                select source_system, source_object, reason, consequence, count(*) as issues
                from marts.data_issues group by 1, 2, 3, 4 order by count(*) desc, 1, 2, 3 limit 30
            """),
            "einvoice": report.fetch_all(conn, f"""
                select invoice_name, customer_id, invoice_date, dian_state, days_pending, reason,
                       dian_message as "DIAN's answer"
                from marts.einvoice_issues order by days_pending desc nulls last, invoice_id limit {ROWS_SHOWN}
            """),
            "einvoice_states": report.fetch_all(conn, "select dian_state, count(*) as invoices "
                                                 "from marts.einvoice_issues group by 1 order by 2 desc"),
            "required": report.fetch_all(conn, f"""
                select display_name, customer_id, system, field, fix_in
                from marts.customer_required_fields_missing order by system, field, customer_id limit {ROWS_SHOWN}
            """),
            "required_counts": report.fetch_all(conn, "select system, field, count(*) as customers from "
                                                 "marts.customer_required_fields_missing group by 1, 2 order by 1, 2"),
            "alerts": _alerts(conn, day) if "ops.alerts" in tables else None,
        }
    return data


def _count(conn: psycopg.Connection, table: str, tables: set[str]) -> int | None:
    return conn.execute(f"select count(*) as n from {table}").fetchone()["n"] if table in tables else None


def _demand(conn: psycopg.Connection, day: date) -> dict:
    """Daily units sold of the night's top products over the last four weeks (non-cancelled lines of
    goods, UTC days as the demand model reads them), beside what the forecasts said: for each day
    the forecast of the latest night before it, the night's own forecast for the 28 days ahead.
    Warehouses are added up (their p10 and p90 too, which widens the band a little)."""
    start = day - timedelta(days=27)
    top = report.fetch_all(conn, f"""
        select l.product_id, coalesce(max(p.product_name), l.product_id) as product_name, sum(l.quantity) as units
        from marts.fct_order_lines l
        left join marts.fct_orders o using (order_id)
        left join marts.dim_products p using (product_id)
        where l.ordered_at >= %s and l.ordered_at < %s and l.quantity > 0 and not coalesce(o.is_cancelled, false)
          and not coalesce(p.is_shipping, false)
          and l.product_id in (select product_id from ml.demand_forecasts where forecast_date <= %s)
        group by l.product_id order by units desc, l.product_id limit {TOP_PRODUCTS}
    """, (start, day + timedelta(days=1), day))
    ids = [row["product_id"] for row in top]
    if not ids:
        return {"top": [], "actual": [], "forecast": []}
    actual = report.fetch_all(conn, """
        select l.product_id, (l.ordered_at at time zone 'UTC')::date as day, sum(l.quantity)::float8 as units
        from marts.fct_order_lines l left join marts.fct_orders o using (order_id)
        where l.product_id = any(%s) and l.ordered_at >= %s and l.ordered_at < %s and l.quantity > 0
          and not coalesce(o.is_cancelled, false)
        group by 1, 2
    """, (ids, start, day + timedelta(days=1)))
    forecast = report.fetch_all(conn, """
        select distinct on (product_id, horizon_date) product_id, horizon_date as day, forecast_date,
               p10, p50, p90
        from (select product_id, forecast_date, horizon_date, sum(p10) as p10, sum(p50) as p50, sum(p90) as p90
              from ml.demand_forecasts
              where product_id = any(%s) and forecast_date <= %s and horizon_date >= %s and forecast_date < horizon_date
              group by 1, 2, 3) f
        order by product_id, horizon_date, forecast_date desc
    """, (ids, day, start))
    return {"top": top, "actual": actual, "forecast": forecast}


def _alerts(conn: psycopg.Connection, day: date) -> list[dict]:
    """The night's alerts (``puente.alerts``), sent or suppressed, newest first."""
    return report.fetch_all(conn, f"""
        select created_at, kind, category, title, status, array_to_string(channels, ', ') as channels, reason
        from ops.alerts where logical_date = %s order by alert_id desc limit {ROWS_SHOWN}
    """, (day,))


# --- figures ---------------------------------------------------------------------------------------


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    # no RDF metadata block (creator, date): smaller, and the same night gives the same figure
    fig.savefig(buffer, format="svg", bbox_inches="tight",
                metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # the XML prolog and doctype have no place inside HTML


def _figure(width: float = 9, height: float = 3.2, rows: int = 1, cols: int = 1, **kwargs):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "svg.hashsalt": "puente"})
    return plt.subplots(rows, cols, figsize=(width, height), **kwargs)


def _date_axis(ax, first: date, last: date) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlim(first - timedelta(days=0.6), last + timedelta(days=0.6))


def plot_loads(loads: list[dict], day: date) -> str:
    nights = [day - timedelta(days=n) for n in range(HISTORY_NIGHTS - 1, -1, -1)]
    fig, (top, bottom) = _figure(height=5, rows=2, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    series: dict[str, dict[date, int]] = {}
    for row in loads:
        series.setdefault(f"{row['source']} {row['object']}", {})[row["logical_date"]] = row["received"]
    started = min(row["logical_date"] for row in loads)  # before the first night Puente loaded: no line, not zero
    for name, values in sorted(series.items()):
        top.plot(nights, [values.get(n, 0) if n >= started else math.nan for n in nights], marker="o", markersize=2.5,
                 linewidth=1.2, label=name)
    top.set_ylabel("records received")
    top.legend(fontsize=7, ncol=3, frameon=False, loc="upper left")
    quarantined = [sum(r["quarantined"] for r in loads if r["logical_date"] == n) for n in nights]
    future = [sum(r["future_stamped"] for r in loads if r["logical_date"] == n) for n in nights]
    bottom.bar(nights, quarantined, color="#c0392b", label="quarantined")
    bottom.bar(nights, future, bottom=quarantined, color="#e67e22", label="stamped in the future")
    bottom.set_ylabel("records")
    bottom.legend(fontsize=7, frameon=False, loc="upper left")
    _date_axis(bottom, nights[0], day)
    return _svg(fig)


def plot_bars(labels: list[str], values: list[float], xlabel: str, colors: list[str] | None = None) -> str:
    fig, ax = _figure(height=0.35 * len(labels) + 0.8)
    ax.barh(labels[::-1], values[::-1], color=(colors or ["#2c7fb8"] * len(labels))[::-1])
    for y, value in enumerate(values[::-1]):
        ax.text(value, y, f" {value:,.0f}", va="center", fontsize=8)
    ax.set_xlabel(xlabel)
    return _svg(fig)


def plot_scores(score_drift: dict, day: date) -> str:
    fig, (hist, line) = _figure(height=3, cols=2)
    edges = [i / drift.BUCKETS for i in range(drift.BUCKETS)]
    tonight = score_drift["tonight"]
    for night, style in ((tonight["reference"], {"color": "#999999", "label": f"{tonight['reference']} (reference)"}),
                         (day, {"color": "#2c7fb8", "label": f"{day}"})):
        if night is None:
            continue
        counts = score_drift["histograms"][night]
        total = sum(counts)
        hist.step(edges + [1.0], [c / total for c in counts] + [counts[-1] / total], where="post", linewidth=1.6, **style)
    hist.set_xlabel("churn probability")
    hist.set_ylabel("share of customers")
    hist.legend(fontsize=7, frameon=False)
    points = [s for s in score_drift["series"] if s["psi"] is not None]
    if points:
        line.plot([s["night"] for s in points], [s["psi"] for s in points], marker="o", markersize=3)
        line.axhline(drift.MODERATE, color="#e67e22", linewidth=0.8, linestyle="--")
        line.axhline(drift.LARGE, color="#c0392b", linewidth=0.8, linestyle="--")
        line.set_ylabel(f"PSI against {drift.REFERENCE_DAYS} days before")
        _date_axis(line, day - timedelta(days=HISTORY_NIGHTS - 1), day)
    else:
        line.text(0.5, 0.5, "no night with scores a week earlier yet", ha="center", va="center",
                  transform=line.transAxes)
        line.set_axis_off()
    return _svg(fig)


def plot_demand(demand: dict, day: date) -> str:
    top = demand["top"]
    cols = min(3, len(top))
    rows = math.ceil(len(top) / cols)
    fig, axes = _figure(width=3.2 * cols, height=2.4 * rows, rows=rows, cols=cols, squeeze=False, sharex=True)
    days = [day - timedelta(days=n) for n in range(27, -28, -1)]
    for ax, product in zip(axes.ravel(), top, strict=False):
        pid = product["product_id"]
        sold = {r["day"]: r["units"] for r in demand["actual"] if r["product_id"] == pid}
        fc = sorted((r for r in demand["forecast"] if r["product_id"] == pid), key=lambda r: r["day"])
        ax.bar([d for d in days if d <= day], [sold.get(d, 0) for d in days if d <= day], color="#bbbbbb",
               label="sold")
        if fc:
            ax.fill_between([r["day"] for r in fc], [r["p10"] for r in fc], [r["p90"] for r in fc],
                            color="#2c7fb8", alpha=0.2, linewidth=0, label="p10-p90")
            ax.plot([r["day"] for r in fc], [r["p50"] for r in fc], color="#2c7fb8", linewidth=1.2, label="p50")
        ax.axvline(day, color="#555555", linewidth=0.7, linestyle=":")
        ax.set_title(str(product["product_name"])[:32], fontsize=8)
        _date_axis(ax, days[0], days[-1])
    for ax in axes.ravel()[len(top):]:
        ax.set_axis_off()
    axes.ravel()[0].legend(fontsize=6, frameon=False)
    return _svg(fig)


# --- the page ----------------------------------------------------------------------------------------


def _e(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 and not value.is_integer() else f"{value:,.0f}"
    return html.escape(str(value))


def _table(rows: list[dict], columns: list[str] | None = None, total: int | None = None) -> str:
    if not rows:
        return "<p class=muted>none</p>"
    columns = columns or list(rows[0])
    head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows)
    more = (f"<p class=muted>{len(rows)} of {total} rows shown</p>" if total is not None and total > len(rows) else "")
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _missing(what: str) -> str:
    return f"<p class=missing>{what}</p>"


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


def _check_rows(gate: dict, severity: str) -> list[dict]:
    rows = []
    for check in gate.get("details") or []:
        if check.get("success") or (check.get("severity") or "error") != severity:
            continue
        if check.get("error"):
            observed = f"could not be evaluated: {check['error']}"
        elif check.get("unexpected_count") is not None:
            observed = f"{check['unexpected_count']} of {check['element_count']} rows unexpected"
        else:
            observed = f"observed {check.get('observed_value')}"
        rows.append({"gate": gate["gate"], "where": check["table"] + (f".{check['column']}" if check.get("column") else ""),
                     "check": check["expectation"], "observed": observed, "what to look at": check.get("hint")})
    return rows


def _loads_section(data: dict, day: date) -> str:
    tonight = data["summary"]["extract"]
    if not data["loads"]:
        return _missing(f"No records were loaded in the last {HISTORY_NIGHTS} nights (ops.load_batches has no batch "
                        f"up to {day}): the extraction did not run.")
    body = plot_loads(data["loads"], day)
    if tonight:
        body += _table(tonight, ["source", "object", "received", "inserted", "updated", "unchanged", "quarantined",
                                 "future_stamped", "status"])
    else:
        body += _missing(f"No batch for {day}: tonight's extraction did not run or landed nothing.")
    return body


def _gates_section(data: dict, day: date) -> str:
    gates = {g["gate"]: g for g in data["summary"]["gates"]}
    rows = []
    for name in GATES:
        gate = gates.get(name)
        if gate is None:
            rows.append({"gate": name, "outcome": "did not run"})
            continue
        warnings = len(_check_rows(gate, "warn"))
        rows.append({"gate": name, "outcome": "passed" if gate["success"] else "FAILED", "checks": gate["evaluated"],
                     "failed": gate["failed"], "warnings": warnings,
                     "ran at": gate["ran_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                     "data docs": name})
    body = "<table><tr><th>gate</th><th>outcome</th><th>checks</th><th>failed</th><th>warnings</th><th>ran at</th>" \
           "<th>data docs</th></tr>"
    for row in rows:
        docs = run_folder(day) / "data_docs" / row["gate"] / "index.html"
        link = (f'<a href="data_docs/{row["gate"]}/index.html">Great Expectations data docs</a>'
                if "checks" in row and docs.exists() else "—")
        cls = {"passed": "ok", "FAILED": "bad", "did not run": "missing"}[row["outcome"]]
        body += (f"<tr><td>{_e(row['gate'])}</td><td class={cls}>{_e(row['outcome'])}</td><td>{_e(row.get('checks'))}"
                 f"</td><td>{_e(row.get('failed'))}</td><td class={'warn' if row.get('warnings') else ''}>"
                 f"{_e(row.get('warnings'))}</td><td>{_e(row.get('ran at'))}</td><td>{link}</td></tr>")
    body += "</table>"
    if not gates:
        body += _missing(f"No gate ran for {day} (ops.gate_results has none): the night stopped before its first gate.")
    failed = [r for g in gates.values() for r in _check_rows(g, "error")]
    warned = [r for g in gates.values() for r in _check_rows(g, "warn")]
    if failed:
        body += "<h3 class=bad>Failed checks (they stop the night)</h3>" + _table(failed)
    if warned:
        body += "<h3 class=warn>Warnings (the night went on)</h3>" + _table(warned)
    return body


def _linked_customers(conn: psycopg.Connection) -> list[dict]:
    """Customers by the systems that know them (``Odoo + HubSpot + WooCommerce``): one term per
    source whose record ids dim_customers keeps (``report.customer_id_columns``)."""
    titles = {source.name: source.title for source in registry.SOURCES}
    terms = [f"case when cardinality({column}) > 0 then '{titles[name]}' end"
             for name, column in report.customer_id_columns(conn).items()]
    if not terms:
        return []
    return report.fetch_all(conn, f"""
        select concat_ws(' + ', {', '.join(terms)}) as systems, count(*) as customers
        from marts.dim_customers group by 1 order by 2 desc
    """)


def _identity_section(data: dict) -> str:
    ident = data["summary"]["identity"]
    if not ident:
        return _missing("marts.dim_customers is not built: the dbt build has not run on this warehouse.")
    linked = sum(r["customers"] for r in data["linked"] if " + " in r["systems"])
    counted = [(s.title, ident[s.name]) for s in registry.SOURCES if ident.get(s.name)]
    body = (f"<p>{sum(n for _, n in counted)} source records ({', '.join(f'{title} {n}' for title, n in counted)}) "
            f"are <b>{ident['customers']}</b> customers; <b>{linked}</b> of them are linked across systems.</p>")
    if data["linked"]:
        body += plot_bars([r["systems"] or "no system" for r in data["linked"]], [r["customers"] for r in data["linked"]],
                          "customers, by the systems that know them")
    if data["review_count"] is None:
        body += _missing("marts.customer_review_queue is not built.")
    else:
        body += (f"<h3>Identity review queue: {data['review_count']} pair(s) for a person to decide</h3>"
                 + _table(data["review"], total=data["review_count"]))
    return body


def _order_to_cash_section(data: dict) -> str:
    stages = {s["stage"]: s["orders"] for s in data["summary"]["stages"]}
    if not stages:
        return _missing("marts.fct_order_to_cash is not built or holds no order.")
    live = sum(n for stage, n in stages.items() if stage != "cancelled")
    funnel = [("orders (not cancelled)", live),
              ("in the ERP", sum(stages.get(s, 0) for s in ("in_erp", "invoiced", "paid"))),
              ("invoiced", stages.get("invoiced", 0) + stages.get("paid", 0)), ("paid", stages.get("paid", 0))]
    body = plot_bars([f[0] for f in funnel], [f[1] for f in funnel], "orders")
    body += "<p>" + ", ".join(f"{_e(stage)} {n}" for stage, n in stages.items()) + " (marts.fct_order_to_cash)</p>"
    gaps = data["summary"]["gaps"]
    body += "<h3>Gaps (marts.order_to_cash_gaps)</h3>"
    body += _table([{"gap type": g["gap_type"], "gaps": g["gaps"], "Puente posts them (posting window)": g["posts"]}
                    for g in gaps]) if gaps else "<p>none</p>"
    if data["gap_rows"]:
        body += "<h4>Oldest open gaps</h4>" + _table(data["gap_rows"], total=sum(g["gaps"] for g in gaps))
    return body


def _scores_section(data: dict, day: date) -> str:
    scores = data["score_drift"]
    if scores["tonight"] is None:
        return _missing(f"No churn scores for {day} (ml.churn_scores): the ML stage did not run, failed, or this "
                        "warehouse has no scores yet.")
    bands = data["summary"]["scores"]
    body = "<p>" + ", ".join(f"{_e(b['risk_band'])} {b['customers']} (mean p {b['mean_p']})" for b in bands) + "</p>"
    value = scores["tonight"]["psi"]
    if value is None:
        body += _missing(f"Drift: no night was scored {drift.REFERENCE_DAYS} or more days before {day} yet.")
    else:
        verdict = drift.verdict(value) + (": check the inputs before trusting tonight's scores"
                                          if value >= drift.LARGE else "")
        cls = "ok" if value < drift.MODERATE else "warn" if value < drift.LARGE else "bad"
        body += (f"<p>Drift: PSI <b class={cls} id=psi>{value:.3f}</b> against the scores of "
                 f"{scores['tonight']['reference']} ({verdict}; under {drift.MODERATE} is stable, above {drift.LARGE} "
                 f"a large shift), over {drift.BUCKETS} equal buckets of the churn probability.</p>")
    return body + plot_scores(scores, day)


def _demand_section(data: dict, day: date) -> str:
    demand = data["demand"]
    if not demand["top"]:
        return _missing(f"No demand forecast up to {day} for a product sold in the last four weeks (ml.demand_forecasts).")
    rows = []
    for product in demand["top"]:
        pid = product["product_id"]
        sold = {r["day"]: r["units"] for r in demand["actual"] if r["product_id"] == pid}
        past = [r for r in demand["forecast"] if r["product_id"] == pid and r["day"] <= day]
        units = sum(sold.get(r["day"], 0) for r in past)
        error = sum(abs(sold.get(r["day"], 0) - r["p50"]) for r in past)
        rows.append({"product": product["product_name"], "units sold (28 days)": float(product["units"]),
                     "days forecast before": len(past), "units those days": units,
                     "WAPE of p50": f"{error / units:.0%}" if units else None})
    return plot_demand(demand, day) + _table(rows)


def _activations_section(data: dict) -> str:
    runs = data["summary"]["activations"]
    if not runs:
        body = _missing("No activation ran for this night (ops.activation_runs): nothing was written to any system.")
    else:
        dry = any(a["dry_run"] for a in runs)
        body = "<p class=warn>DRY RUN: nothing was sent.</p>" if dry else ""
        body += plot_bars([a["activation"] for a in runs], [(a["sent"] or 0) for a in runs], "rows sent tonight")
        body += _table(runs, ["activation", "target", "target_object", "rows", "pending", "sent", "created", "adopted",
                              "failed", "invalid", "withheld", "requests"])
        if data["audit"]:
            body += "<h4>Rows written, by target and answer (ops.activation_audit)</h4>" + _table(data["audit"])
    count = data["work_list_count"]
    if count is None:
        body += _missing("marts.activation_work_list is not built.")
    else:
        body += f"<h3>Work list: {count} row(s) waiting for a person</h3>" + _table(data["work_list"], total=count)
    return body


def _issues_section(data: dict) -> str:
    issues = data["summary"]["data_issues"]
    if issues is None:
        return _missing("marts.data_issues is not built.")
    undecided = (f" {issues['decisions_naming_no_record']} identity-review decision(s) in force name no customer"
                 " record and do nothing." if issues.get("decisions_naming_no_record") else "")
    return (f"<p>{issues['values_nulled']} values set to null, {issues['records_quarantined']} records or lines "
            f"quarantined (marts.data_issues).{undecided}</p>" + _table(data["issues"]))


def _optional_sections(data: dict) -> list[str]:
    sections = []
    if "marts.einvoice_issues" in data["tables"]:
        states = ", ".join(f"{_e(s['dian_state'])} {s['invoices']}" for s in data["einvoice_states"]) or "none"
        sections.append(_section("einvoice", "DIAN electronic invoices pending or rejected",
                                 f"<p>{states} (marts.einvoice_issues)</p>" + _table(
                                     data["einvoice"], total=sum(s["invoices"] for s in data["einvoice_states"]))))
    if "marts.customer_required_fields_missing" in data["tables"]:
        total = sum(r["customers"] for r in data["required_counts"])
        sections.append(_section("required-fields", "Customers missing required fields",
                                 _table(data["required_counts"]) + "<h4>Where to fix them</h4>"
                                 + _table(data["required"], total=total)))
    if data["alerts"] is not None:
        sections.append(_section("alerts", "Alerts of the night", _table(data["alerts"]) if data["alerts"] else
                                 "<p>No alert tonight (ops.alerts).</p>"))
    return sections


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;
padding:0 1em}h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}th,td{border:1px solid #ddd;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f4f4f4}.ok{color:#1e8449}.bad{color:#c0392b;font-weight:bold}
.warn{color:#b9770e;font-weight:bold}.missing{color:#7d3c98;font-style:italic}.muted{color:#777}
nav a{margin-right:1em}svg{max-width:100%;height:auto}
"""


def render_report(data: dict, day: date) -> str:
    sections = [
        ("loads", "Records per source and object, last 30 nights", _loads_section(data, day)),
        ("gates", "Quality gates", _gates_section(data, day)),
        ("identity", "Customers matched", _identity_section(data)),
        ("order-to-cash", "Order to cash", _order_to_cash_section(data)),
        ("scores", "Churn scores and drift", _scores_section(data, day)),
        ("demand", "Demand forecast against sales, top products", _demand_section(data, day)),
        ("activations", "What Puente wrote to each system, and the work list", _activations_section(data)),
        ("data-issues", "Data issues", _issues_section(data)),
    ]
    body = [_section(anchor, title, content) for anchor, title, content in sections] + _optional_sections(data)
    nav = " ".join(f'<a href="#{anchor}">{html.escape(title.split(",")[0])}</a>' for anchor, title, _ in sections)
    written = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Puente night {day}</title>"
            f"<style>{_STYLE}</style></head><body><h1>Puente: the night of {day}</h1>"
            f"<p class=muted>Written {written} from the warehouse's own records (ops, ml, marts).</p>"
            f"{_outcome(data)}<nav>{nav}</nav>{''.join(body)}</body></html>")


def _outcome(data: dict) -> str:
    """How far the night got: the tasks that failed (from the DAG run, when known) and the gates."""
    states = data.get("task_states") or {}
    failed_tasks = sorted(t for t, state in states.items() if state == "failed")
    not_run = sum(state == "upstream_failed" for state in states.values())
    gates = {g["gate"]: g["success"] for g in data["summary"]["gates"]}
    failed_gates = [g for g, ok in gates.items() if not ok]
    lines = []
    if failed_tasks:
        lines.append(f"<p class=bad>The night FAILED: {', '.join(html.escape(t) for t in failed_tasks)} failed, and "
                     f"{not_run} task(s) after it did not run. What did not run keeps yesterday's data (scores in the "
                     "CRM, stock in the shop) until a run succeeds.</p>")
    elif states:
        lines.append("<p class=ok>Every task of the night succeeded or was skipped.</p>")
    if failed_gates:
        lines.append(f"<p class=bad>The {', '.join(failed_gates)} gate failed: nothing downstream of it ran from "
                     "tonight's data.</p>")
    missing = [g for g in GATES if g not in gates]
    if missing:
        lines.append(f"<p class=missing>Gates that did not run tonight: {', '.join(missing)}.</p>")
    elif not failed_gates:
        lines.append("<p class=ok>Every gate passed.</p>")
    return "".join(lines)
