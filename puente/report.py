"""What a night did, read back from the warehouse's own bookkeeping.

Every figure printed here comes from a table the night wrote (``ops.*``, ``ml.*``, the marts),
so the report shows what really landed, not what the code meant to do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
from psycopg.rows import dict_row

from puente.sources import registry


def night_summary(url: str, business_date: date, since: datetime | None) -> dict:
    """Figures of one night, by stage; ``since`` is when the night's run started. Without it (a
    report written later) the night's activations are those of its logical date, and the data
    issues landed that night are not told apart."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        extract = conn.execute(
            """
            select source, object,
                   sum(rows_received) as received, sum(rows_inserted) as inserted,
                   sum(rows_updated) as updated, sum(rows_unchanged) as unchanged,
                   sum(rows_quarantined) as quarantined,
                   sum(rows_future_stamped) as future_stamped,
                   string_agg(distinct status, ',') as status
            from ops.load_batches where logical_date = %s
            group by source, object order by source, object
            """,
            (business_date,),
        ).fetchall()
        gates = conn.execute(
            """
            select distinct on (gate) gate, success, evaluated, failed, details, ran_at, gate_run_id
            from ops.gate_results where logical_date = %s order by gate, ran_at desc
            """,
            (business_date,),
        ).fetchall()
        columns = customer_id_columns(conn)
        identity = fetch_one(conn, f"""
            select (select count(*) from marts.dim_customers) as customers,
                   {"".join(f"(select coalesce(sum(cardinality({column})), 0) from marts.dim_customers) as {source}, "
                            for source, column in columns.items())}
                   (select count(*) from marts.fct_orders) as orders
        """) if columns else None
        issues = fetch_one(conn, """
            select count(*) filter (where consequence = 'value set to null') as values_nulled,
                   count(distinct (staging_model, record_id,
                                   case when strpos(field, '[') > 0 then split_part(field, ']', 1) end))
                       filter (where consequence = 'record quarantined: kept out of the marts')
                       as records_quarantined,
                   count(*) filter (where loaded_at >= %s) as landed_tonight,
                   count(distinct record_id) filter (where source_object = 'ops.customer_match_overrides')
                       as decisions_naming_no_record
            from marts.data_issues
        """, (since or datetime.max,))
        models = fetch_all(conn, """
            select model_name, model_run_id, as_of_date, metrics, baselines, trained_at, scored_by, gate
            from ml.model_runs where is_champion order by model_name
        """)
        model = next((run for run in models if run["model_name"] == "churn"), None)
        scores = conn.execute(
            """
            select risk_band, count(*) as customers, round(avg(churn_probability)::numeric, 3) as mean_p
            from ml.churn_scores where scored_for_date = %s group by risk_band
            order by array_position(array['high', 'medium', 'low'], risk_band)
            """,
            (business_date,),
        ).fetchall()
        tonight = "finished_at >= %s" if since else "logical_date = %s"
        activations = fetch_all(conn, f"""
            select activation, target, target_object, bool_or(dry_run) as dry_run,
                   max(rows_total) as rows, sum(rows_pending) as pending, sum(rows_sent) as sent,
                   sum(rows_created) as created, sum(rows_adopted) as adopted, sum(rows_failed) as failed,
                   sum(rows_invalid) as invalid, sum(rows_withheld) as withheld, sum(requests) as requests
            from ops.activation_runs where {tonight}
            group by activation, target, target_object order by target, activation
        """, (since or business_date,))
        gaps = fetch_all(conn, "select gap_type, count(*) as gaps, count(*) filter (where activation_posts) as posts "
                          "from marts.order_to_cash_gaps group by gap_type order by gap_type")
        experiment = fetch_all(conn, """
            select arm, count(*) as customers from intermediate.int_churn_task_assignments group by arm order by arm
        """)
        effects = fetch_all(conn, """
            select metric, treated_customers, control_customers, difference, ci95_low, ci95_high
            from marts.churn_task_experiment where followup_window = 'complete' order by metric
        """)
        work_list = fetch_all(conn, """
            select activation, kind, count(*) as rows, max(attempts) as most_attempts,
                   (array_agg(reason order by first_seen_at, row_key))[1] as example
            from ops.activation_issues group by activation, kind order by activation, kind
        """)
        alerts = fetch_all(conn, """
            select kind, title, status, channels, reason from ops.alerts
            where logical_date = %s and created_at >= %s order by alert_id
        """, (business_date, since or datetime.min.replace(tzinfo=UTC)))
        stages = fetch_all(conn, "select stage, count(*) as orders from marts.fct_order_to_cash "
                            "group by stage order by count(*) desc")
        payments = payment_issues(conn)
        demand = fetch_one(conn, """
            select count(distinct product_id) as products, count(distinct warehouse_id) as warehouses,
                   count(*) filter (where reorder_qty > 0) as to_reorder,
                   count(*) filter (where days_of_cover < 14) as under_two_weeks
            from ml.demand_forecasts where forecast_date = %s and horizon_days = 1
        """, (business_date,))
        actions = fetch_all(conn, """
            select action, count(*) as customers from ml.next_best_actions
            where scored_for_date = %s group by action order by count(*) desc
        """, (business_date,))
    return {"extract": extract, "gates": gates, "identity": identity, "data_issues": issues, "model": model, "models": models,
            "scores": scores, "activations": activations, "work_list": work_list, "gaps": gaps,
            "experiment": experiment, "effects": effects, "stages": stages, "payments": payments,
            "demand": demand, "actions": actions, "alerts": alerts}


def payment_issues(conn: psycopg.Connection) -> list[dict]:
    """References paid through each payment provider per reconciliation issue, with their fees."""
    return fetch_all(conn, """
        select provider, issue, count(*) as refs, sum(fee_amount) as fees, min(provider_currency_code) as currency
        from marts.payment_reconciliation group by provider, issue
        order by provider, issue = 'matched' desc, count(*) desc, issue
    """)


def payments_line(payments: list[dict]) -> str:
    """The payment providers against the ERP, from marts.payment_reconciliation's issue counts:
    one clause per provider when the business has more than one."""
    by_provider: dict[str, list[dict]] = {}
    for row in payments:
        by_provider.setdefault(row["provider"], []).append(row)
    clauses = []
    for provider, rows in by_provider.items():
        refs = sum(p["refs"] for p in rows)
        fees = sum(p["fees"] or 0 for p in rows)
        currency = next((p["currency"] for p in rows if p["currency"]), "")
        shown = ", ".join(f"{p['issue']} {p['refs']}" for p in rows)
        named = (f"{registry.source(provider).title} {refs} references" if len(by_provider) > 1
                 else f"{refs} references paid through the provider")
        clauses.append(f"{named}: {shown}; fees {fees:,.0f} {currency}")
    return f"[bold]Payments[/] {'. '.join(clauses)} (marts.payment_reconciliation)"


def fetch_one(conn: psycopg.Connection, sql: str, params: tuple = ()) -> dict | None:
    """The query's first row, or None while a table it reads is not built (a night that stopped early)."""
    try:
        with conn.transaction():
            return conn.execute(sql, params).fetchone()
    except psycopg.errors.UndefinedTable:
        return None


def customer_id_columns(conn: psycopg.Connection) -> dict[str, str]:
    """The id array dim_customers keeps for each source of the registry that has customer records
    (``{"odoo": "odoo_partner_ids", …}``; dbt's macro ``customer_record_types`` makes them), in the
    registry's order; empty while dim_customers is not built."""
    rows = fetch_all(conn, "select column_name from information_schema.columns "
                           "where table_schema = 'marts' and table_name = 'dim_customers'")
    columns = [row["column_name"] if isinstance(row, dict) else row[0] for row in rows]
    return {source.name: column for source in registry.SOURCES for column in columns
            if column.startswith(f"{source.name}_") and column.endswith("_ids")}


def fetch_all(conn: psycopg.Connection, sql: str, params: tuple = ()) -> list[dict]:
    """The query's rows, or none while a table it reads is not built."""
    try:
        with conn.transaction():
            return conn.execute(sql, params).fetchall()
    except psycopg.errors.UndefinedTable:
        return []


def render_night(console, business_date: date, summary: dict, crm_examples: list[dict]) -> None:
    """Print one night's summary as rich tables on ``console``."""
    from rich.table import Table

    table = Table(title=f"Extract — {business_date}", title_justify="left")
    columns = ("source", "object", "received", "inserted", "updated", "unchanged", "quarantined",
               "future_stamped", "status")
    for col in columns:
        table.add_column(col.replace("_", " "), justify="right" if col not in ("source", "object", "status")
                         else "left")
    for row in summary["extract"]:
        table.add_row(*(str(row[c]) for c in columns))
    console.print(table)
    if any(row["future_stamped"] for row in summary["extract"]):
        console.print("[bold]Stamped in the future[/] records landed with an updated-at after the source's "
                      "clock: ops.record_flags")

    gates = ", ".join(f"{g['gate']}: {'passed' if g['success'] else 'FAILED'} "
                      f"({g['evaluated'] - g['failed']}/{g['evaluated']} expectations)"
                      for g in summary["gates"]) or "no gate ran"
    console.print(f"[bold]Quality gates[/] {gates}")

    if summary.get("data_issues"):
        console.print("[bold]Data issues[/] {values_nulled} values set to null, {records_quarantined} records or lines "
                      "quarantined ({landed_tonight} landed tonight): marts.data_issues".format(**summary["data_issues"]))
        if summary["data_issues"].get("decisions_naming_no_record"):
            console.print("[bold]Identity review[/] {decisions_naming_no_record} decision(s) in force name no customer "
                          "record and do nothing: marts.data_issues".format(**summary["data_issues"]))

    ident = summary["identity"]
    if ident:
        counted = [(source.title, ident[source.name]) for source in registry.SOURCES if ident.get(source.name)]
        console.print(
            f"[bold]Identity[/] {sum(n for _, n in counted)} source records "
            f"({', '.join(f'{title} {n}' for title, n in counted)}) became {ident['customers']} customers; "
            f"{ident['orders']} orders"
        )

    if summary["stages"]:
        console.print("[bold]Order-to-cash[/] " + ", ".join(f"{s['stage']} {s['orders']}" for s in summary["stages"]))

    if summary.get("payments"):
        console.print(payments_line(summary["payments"]))

    for run in summary.get("models", []):
        console.print(model_line(run))
    bands = ", ".join(f"{s['risk_band']} {s['customers']} (mean p {s['mean_p']})" for s in summary["scores"])
    console.print(f"[bold]Scores[/] {bands or 'none'}")
    demand = summary.get("demand")
    if demand and demand["products"]:
        console.print(
            f"[bold]Demand[/] 28-day forecasts for {demand['products']} products in {demand['warehouses']} "
            f"warehouse(s); {demand['to_reorder']} to reorder, {demand['under_two_weeks']} with under 14 days of cover"
        )
    if summary.get("actions"):
        console.print("[bold]Next best action[/] " + ", ".join(f"{a['action']} {a['customers']}"
                                                               for a in summary["actions"]))
    render_activations(console, summary["activations"], summary["work_list"])
    if summary.get("gaps") is not None:
        shown = [f"{g['gap_type']} {g['gaps']}" + (f" ({g['posts']} for Puente to post, {g['gaps'] - g['posts']} "
                                                    "older than its posting window)" if g.get("posts") else "")
                 for g in summary["gaps"]]
        console.print("[bold]Order-to-cash gaps[/] " + (", ".join(shown) or "none")
                      + " (marts.order_to_cash_gaps, before tonight's activations)")
    render_experiment(console, summary.get("experiment") or [], summary.get("effects") or [])
    render_alerts(console, summary.get("alerts") or [])
    for example in crm_examples:
        action = example.get("action") or "none"
        if example.get("product"):
            action += f" {example['product']}"
        console.print(f"   CRM contact {example['id']} {example['name']}: churn score "
                      f"{example['score']} ({example['risk']}); next action: {action}"
                      + (f" ({example['reason']})" if example.get("reason") else ""))


# What a person takes to retype one order from one system into another (what users report).
MANUAL_ENTRY_MINUTES = (15, 20)


def render_activations(console, activations: list[dict], work_list: list[dict]) -> None:
    """What Puente wrote into each system tonight, the time that saved, and the work list."""
    from rich.table import Table

    if not activations:
        console.print("[bold]Activations[/] none ran")
        return
    dry = any(a["dry_run"] for a in activations)
    table = Table(title="Activations" + (" — DRY RUN: nothing was sent" if dry else ""), title_justify="left")
    for col in ("activation", "target", "rows", "changed", "sent", "created", "adopted", "failed", "invalid",
                "not authorised"):
        table.add_column(col, justify="left" if col in ("activation", "target") else "right")
    for a in activations:
        table.add_row(a["activation"], f"{a['target']} {a['target_object']}", *(str(a[c] or 0) for c in (
            "rows", "pending", "sent", "created", "adopted", "failed", "invalid", "withheld")))
    console.print(table)
    orders = sum(a["created"] or 0 for a in activations if a["target_object"] == "sale.order" and not a["dry_run"])
    if orders:
        low, high = (orders * minutes / 60 for minutes in MANUAL_ENTRY_MINUTES)
        console.print(f"[bold]Manual entry avoided[/] {orders} orders ≈ {low:.1f}–{high:.1f} hours at "
                      f"{MANUAL_ENTRY_MINUTES[0]}–{MANUAL_ENTRY_MINUTES[1]} minutes each")
    waiting = ", ".join(f"{w['activation']} {w['rows']} {w['kind']}" for w in work_list)
    console.print(f"[bold]Work list[/] {waiting or 'empty'} (marts.activation_work_list)")
    for w in work_list[:4]:
        console.print(f"   e.g. {w['activation']}: {w['example']}")


def render_alerts(console, alerts: list[dict]) -> None:
    """The night's alerts (ops.alerts): what people were told, or would have been with a channel."""
    if not alerts:
        console.print("[bold]Alerts[/] none")
        return
    console.print(f"[bold]Alerts[/] {len(alerts)} (ops.alerts)")
    for alert in alerts:
        where = (f"sent to {', '.join(alert['channels'])}" if alert["status"] == "sent"
                 else f"{alert['status']}: {alert['reason']}")
        console.print(f"   {alert['kind']}: {alert['title']} ({where})")


def render_experiment(console, arms: list[dict], effects: list[dict]) -> None:
    """The churn-task holdout: who is in which group, and what the tasks changed once measurable."""
    if not arms:
        return
    groups = ", ".join(f"{a['arm']} {a['customers']}" for a in arms)
    if not effects:
        console.print(f"[bold]Churn-task experiment[/] {groups} customers assigned; effects measurable once the "
                      "first assignments have 90 days of follow-up (marts.churn_task_experiment)")
        return
    shown = "; ".join(f"{e['metric']} {e['difference']:+.3f} (95% CI {e['ci95_low']:+.3f} to {e['ci95_high']:+.3f})"
                      for e in effects if e["difference"] is not None)
    console.print(f"[bold]Churn-task experiment[/] {groups}; treated − control over 90 days: {shown}")


_MODEL_TITLES = {"churn": "Churn model", "demand": "Demand model", "nba": "Next-best-action ranker"}


def model_line(run: dict) -> str:
    """What scores tonight for one model, and by how much it won its promotion gate (ml.model_runs)."""
    title = _MODEL_TITLES.get(run["model_name"], run["model_name"])
    head = f"[bold]{title}[/] champion {run['model_run_id']} (as of {run['as_of_date']})"
    gate = run.get("gate")
    if not gate:
        return f"{head}: trained before promotion gates were recorded"
    metric = gate["metric"]
    figures = (f"{metric} {_fmt(gate['model'])} for the model against {gate['best_baseline']} "
               f"{_fmt(gate['baseline'])}, margin {_fmt(gate['margin'], signed=True)} "
               f"(uncertainty ±{_fmt(gate['uncertainty'])})")
    if run.get("scored_by") == "model":
        return f"{head}: the model scores — {figures}"
    return (f"{head}: the baseline {run.get('scored_by')} scores, the model did not beat the best baseline "
            f"clearly — {figures}")


def _fmt(value, *, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):+.3f}" if signed else f"{float(value):.3f}"
