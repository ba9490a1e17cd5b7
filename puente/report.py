"""What a night did, read back from the warehouse's own bookkeeping.

Every figure printed here comes from a table the night wrote (``ops.*``, ``ml.*``, the marts),
so the report shows what really landed, not what the code meant to do.
"""

from __future__ import annotations

from datetime import date, datetime

import psycopg
from psycopg.rows import dict_row


def night_summary(url: str, business_date: date, since: datetime) -> dict:
    """Figures of one night, by stage; ``since`` is when the night's run started."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        extract = conn.execute(
            """
            select source, object,
                   sum(rows_received) as received, sum(rows_inserted) as inserted,
                   sum(rows_updated) as updated, sum(rows_unchanged) as unchanged,
                   sum(rows_quarantined) as quarantined,
                   string_agg(distinct status, ',') as status
            from ops.load_batches where logical_date = %s
            group by source, object order by source, object
            """,
            (business_date,),
        ).fetchall()
        gates = conn.execute(
            """
            select distinct on (gate) gate, success, evaluated, failed
            from ops.gate_results where logical_date = %s order by gate, ran_at desc
            """,
            (business_date,),
        ).fetchall()
        identity = _one(conn, """
            select (select count(*) from marts.dim_customers) as customers,
                   (select coalesce(sum(cardinality(odoo_partner_ids)), 0) from marts.dim_customers) as odoo,
                   (select coalesce(sum(cardinality(hubspot_contact_ids)), 0) from marts.dim_customers) as hubspot,
                   (select coalesce(sum(cardinality(shopify_customer_ids)), 0) from marts.dim_customers) as shopify,
                   (select count(*) from marts.fct_orders) as orders
        """)
        models = _all(conn, """
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
        writeback = conn.execute(
            """
            select status, count(*) as contacts from ops.crm_writeback
            where sent_at >= %s
            group by status order by status
            """,
            (since,),
        ).fetchall()
        stages = _all(conn, "select stage, count(*) as orders from marts.fct_order_to_cash "
                            "group by stage order by count(*) desc")
        demand = _one(conn, """
            select count(distinct product_id) as products, count(distinct warehouse_id) as warehouses,
                   count(*) filter (where reorder_qty > 0) as to_reorder,
                   count(*) filter (where days_of_cover < 14) as under_two_weeks
            from ml.demand_forecasts where forecast_date = %s and horizon_days = 1
        """, (business_date,))
        actions = _all(conn, """
            select action, count(*) as customers from ml.next_best_actions
            where scored_for_date = %s group by action order by count(*) desc
        """, (business_date,))
    return {"extract": extract, "gates": gates, "identity": identity, "model": model, "models": models,
            "scores": scores, "writeback": writeback, "stages": stages, "demand": demand, "actions": actions}


def _one(conn: psycopg.Connection, sql: str, params: tuple = ()) -> dict | None:
    try:
        with conn.transaction():
            return conn.execute(sql, params).fetchone()
    except psycopg.errors.UndefinedTable:
        return None


def _all(conn: psycopg.Connection, sql: str, params: tuple = ()) -> list[dict]:
    try:
        with conn.transaction():
            return conn.execute(sql, params).fetchall()
    except psycopg.errors.UndefinedTable:
        return []


def render_night(console, business_date: date, summary: dict, crm_examples: list[dict]) -> None:
    """Print one night's summary as rich tables on ``console``."""
    from rich.table import Table

    table = Table(title=f"Extract — {business_date}", title_justify="left")
    for col in ("source", "object", "received", "inserted", "updated", "unchanged", "quarantined", "status"):
        table.add_column(col, justify="right" if col not in ("source", "object", "status") else "left")
    for row in summary["extract"]:
        table.add_row(*(str(row[c]) for c in ("source", "object", "received", "inserted", "updated",
                                               "unchanged", "quarantined", "status")))
    console.print(table)

    gates = ", ".join(f"{g['gate']}: {'passed' if g['success'] else 'FAILED'} "
                      f"({g['evaluated'] - g['failed']}/{g['evaluated']} expectations)"
                      for g in summary["gates"]) or "no gate ran"
    console.print(f"[bold]Quality gates[/] {gates}")

    ident = summary["identity"]
    if ident:
        records = ident["odoo"] + ident["hubspot"] + ident["shopify"]
        console.print(
            f"[bold]Identity[/] {records} source records (ERP {ident['odoo']}, CRM {ident['hubspot']}, "
            f"shop {ident['shopify']}) became {ident['customers']} customers; {ident['orders']} orders"
        )

    if summary["stages"]:
        console.print("[bold]Order-to-cash[/] " + ", ".join(f"{s['stage']} {s['orders']}" for s in summary["stages"]))

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
    sent = {w["status"]: w["contacts"] for w in summary["writeback"]}
    console.print(f"[bold]CRM write-back[/] contacts updated: {sent.get('sent', 0)}, failed: {sent.get('failed', 0)}")
    for example in crm_examples:
        action = example.get("action") or "none"
        if example.get("product"):
            action += f" {example['product']}"
        console.print(f"   CRM contact {example['id']} {example['name']}: churn score "
                      f"{example['score']} ({example['risk']}); next action: {action}"
                      + (f" ({example['reason']})" if example.get("reason") else ""))


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
    return f"{head}: the baseline {run.get('scored_by')} scores, the model did not beat it clearly — {figures}"


def _fmt(value, *, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):+.3f}" if signed else f"{float(value):.3f}"
