"""Warehouse entry point of the next-best-action job, called nightly after churn scoring.

`score_next_best_actions` reads the day's churn scores (`ml.churn_scores`), the customers
with their marketing consent and analytics authorisation (`marts.dim_customers`) and open complaints
(`marts.customer_service_summary`), orders and order lines, and the
products with price, cost and ERP stock (`marts.dim_products`); it writes one action per
customer into `ml.next_best_actions`. A rerun for the same day changes no row.

The product ranker is trained once a week (`ml.nba.train`: learnt at monthly windows of the
past year, measured on the last 8 weeks against personal frequency and TIFU-KNN, shipped only
if it beats them by more than its uncertainty), saved as an artifact and recorded in
`ml.model_runs` as model `nba` with what it ships (`scored_by`) and its `gate`; the newest run
is the champion, and every night ranks with it (`recommender_run_id` on each action). While
the history is too short to learn and measure a ranker, personal purchase frequency orders
the products. Cost and memory are bounded by the number of customers the ranker learns from
and by chunks of customers (`ml.nba.recommend`); bench/RESULTS.md records the weekly fit and
the nightly ranking from 2,000 to 100,000 customers (section "ML: nightly cost and memory").
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    MetaData,
    Table,
    Text,
    func,
    inspect,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import Insert, insert

from ml import registry
from ml.artifacts import load_champion, save_model
from ml.churn.jobs import marks_shipping, read_order_lines, read_orders
from ml.nba.actions import ACTIONS, FALLBACK, day_number, decide_actions, margin_floor
from ml.nba.recommend import Purchases
from ml.nba.train import NotEnoughData, Recommender, train_recommender
from ml.schema import ensure_ml_schema

MODEL_NAME = "nba"

log = logging.getLogger(__name__)

_CUSTOMERS = """
    select c.customer_id::text as customer_id, coalesce(c.has_marketing_consent, false) as has_marketing_consent,
           coalesce('analytics' = any(c.authorised_purposes), false) as has_analytics_authorisation,
           {complaints} as open_complaints
    from marts.dim_customers as c
    {service}
"""
# Open complaints per customer (a sales offer is withheld while there is one), when the service
# tickets are modelled.
_SERVICE = "left join marts.customer_service_summary as s on s.customer_id = c.customer_id"
# The catalogue an action may offer from: never the shipping charge (dim_products.is_shipping).
_PRODUCTS = """
    select product_id::text as product_id, product_name, list_price::float8 as list_price,
           unit_cost::float8 as unit_cost, stock_on_hand::float8 as stock_on_hand, is_active
    from marts.dim_products
    {goods}
"""
_CHURN = text(
    """
    select customer_id, churn_probability, risk_band, reasons, model_run_id
    from ml.churn_scores where scored_for_date = :day
    """
)

_ACTIONS = Table(
    "next_best_actions",
    MetaData(schema="ml"),
    Column("customer_id", Text, primary_key=True),
    Column("scored_for_date", Date, primary_key=True),
    Column("action", Text),
    Column("product_id", Text),
    Column("reason", Text),
    Column("churn_probability", Float),
    Column("is_marketing", Boolean),
    Column("model_run_id", Text),
    Column("recommender", Text),
    Column("recommender_run_id", Text),
    Column("scored_at", DateTime(timezone=True)),
)
_WRITTEN = ("action", "product_id", "reason", "churn_probability", "is_marketing", "model_run_id", "recommender",
            "recommender_run_id")


def _require_table(connection: Connection, schema: str, table: str) -> None:
    if not inspect(connection).has_table(table, schema=schema):
        raise RuntimeError(
            f"{schema}.{table} does not exist in the warehouse: build the marts (dbt build) before "
            "running the next-best-action job."
        )


def score_next_best_actions(url: str, as_of: date) -> dict[str, Any]:
    """Decide and write one action per customer for `as_of`; returns a summary."""
    ensure_ml_schema(url)
    floor = margin_floor()
    with registry.engine(url) as engine:
        with engine.connect() as connection:
            for table in ("dim_customers", "dim_products"):
                _require_table(connection, "marts", table)
            service = inspect(connection).has_table("customer_service_summary", schema="marts")
            customers = pd.read_sql(text(_CUSTOMERS.format(
                complaints="coalesce(s.open_complaints, 0)" if service else "0", service=_SERVICE if service else "")),
                connection).set_index("customer_id").sort_index()
            goods = "where not is_shipping" if marks_shipping(inspect(connection)) else ""
            products = pd.read_sql(text(_PRODUCTS.format(goods=goods)), connection).set_index("product_id").sort_index()
            churn = pd.read_sql(_CHURN, connection, params={"day": as_of}).set_index("customer_id")
        if churn.empty:
            raise RuntimeError(
                f"ml.churn_scores has no scores for {as_of}: run score_churn for that day before the "
                "next-best-action job (the nightly DAG's ml.score_churn task)."
            )
        orders = read_orders(engine, as_of)
        lines = read_order_lines(engine, as_of)
        if lines is None:
            raise RuntimeError(
                "marts.fct_order_lines does not exist in the warehouse: build the marts (dbt build) before "
                "running the next-best-action job."
            )
        end = pd.Timestamp(as_of + timedelta(days=1)).tz_localize("UTC")
        bought = Purchases.from_lines(lines, end)
        training = _train_if_due(url, as_of, bought, day_number(end))
        recommender, ranker_run_id = _recommender(engine)
        actions = decide_actions(customers, churn, orders, lines, products, as_of, floor, recommender, bought)
        run_ids = churn["model_run_id"].dropna().unique()
        model_run_id = str(run_ids[0]) if len(run_ids) == 1 else None
        with engine.begin() as connection:
            written, removed = write_actions(connection, actions, as_of, model_run_id, recommender, ranker_run_id)
    counts = actions["action"].value_counts()
    return {
        "scored_for_date": as_of.isoformat(),
        "customers": len(actions),
        "actions": {action: int(counts.get(action, 0)) for action in ACTIONS},
        "margin_floor": floor,
        "model_run_id": model_run_id,
        "recommender_run_id": ranker_run_id,
        "recommender_scored_by": recommender.scored_by,
        "recommender_training": training,
        "rows_written": written,
        "rows_removed": removed,
    }


def _train_if_due(url: str, as_of: date, bought: Purchases, now: float) -> dict[str, Any]:
    """Train, save and register the weekly ranker when due; a history too short to learn from is no error here."""

    def train(url_: str, day: date) -> dict[str, Any]:
        result = train_recommender(bought, now, day)
        artifact = save_model(result.model, MODEL_NAME, result.metadata())
        with registry.engine(url_) as engine, engine.begin() as connection:
            champion = registry.champion_run(connection, MODEL_NAME)
            registry.record_run(connection, artifact, day)
            promote = champion is None or champion.as_of_date <= day
            if promote:
                registry.promote(connection, MODEL_NAME, artifact.model_run_id)
        log.info("next-best-action run %s: %s", artifact.model_run_id, result.gate.sentence())
        return {"model_run_id": artifact.model_run_id, "scored_by": result.scored_by, "gate": result.gate.as_dict(),
                "metrics": result.metrics, "baselines": result.baselines, "is_champion": promote}

    try:
        return registry.train_if_due(url, as_of, MODEL_NAME, train, NotEnoughData)
    except NotEnoughData as missing:
        return {"trained": False, "reason": f"products are offered by {FALLBACK} frequency: {missing}"}


def _recommender(engine) -> tuple[Recommender, str | None]:
    """The champion ranker (or the baseline it ships) and its run id; personal frequency while there is none."""
    with engine.connect() as connection:
        if registry.champion_run(connection, MODEL_NAME) is None:
            return Recommender(ranker=None, scored_by=FALLBACK), None
        champion = load_champion(connection, MODEL_NAME)
    return champion.model, champion.model_run_id


def write_actions(connection: Connection, actions: pd.DataFrame, day: date, model_run_id: str | None,
                  recommender: Recommender, recommender_run_id: str | None) -> tuple[int, int]:
    """Upsert the actions of `day`, remove that day's other rows; returns (written, removed)."""
    frame = actions.assign(model_run_id=model_run_id, recommender=recommender.describe(),
                           recommender_run_id=recommender_run_id, scored_for_date=day)
    frame = frame.reset_index().astype(object)
    frame = frame.where(pd.notna(frame), None)
    rows = frame.loc[:, ["customer_id", "scored_for_date", *_WRITTEN]].to_dict("records")
    written = len(connection.execute(_upsert(), rows).all()) if rows else 0
    removed = connection.execute(
        text(
            "delete from ml.next_best_actions where scored_for_date = :day and not (customer_id = any(:customers))"
        ),
        {"day": day, "customers": [row["customer_id"] for row in rows]},
    ).rowcount
    return written, removed


def _upsert() -> Insert:
    statement = insert(_ACTIONS)
    return statement.on_conflict_do_update(
        index_elements=[_ACTIONS.c.customer_id, _ACTIONS.c.scored_for_date],
        set_={**{name: statement.excluded[name] for name in _WRITTEN}, "scored_at": func.now()},
        where=tuple_(*(_ACTIONS.c[name] for name in _WRITTEN)).is_distinct_from(
            tuple_(*(statement.excluded[name] for name in _WRITTEN))
        ),
    ).returning(_ACTIONS.c.customer_id)
