"""Warehouse entry points of the demand model, called by the nightly DAG.

`train_demand_if_due` (weekly) reads `marts.fct_order_lines`, backtests, gates and refits the
model (`ml.demand.train`: the model forecasts only if it beats the best baseline by more than
its uncertainty, otherwise that baseline does), saves its artifact, records the run in
`ml.model_runs` (with `scored_by` and the `gate`) and promotes it only if what it forecasts
with is at least as good as the champion's on the same cutoff and products.
`score_demand` (nightly) writes 28 daily forecasts per active product of `marts.dim_products`
and ERP warehouse (`ml.demand.series`) with p10/p50/p90, days of cover at that warehouse's
stock and a reorder quantity into `ml.demand_forecasts`; a rerun for the same day changes no row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
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
from ml.artifacts import load_champion, load_model, save_model
from ml.churn.features import cutoff_after, cutoff_instant
from ml.churn.jobs import marks_shipping, read_order_lines
from ml.demand.baselines import BASELINES
from ml.demand.features import HORIZON_DAYS, sales_matrix
from ml.demand.score import forecast_products
from ml.demand.series import demand_series, split_series
from ml.demand.train import (
    GATE_METRIC,
    DemandTrainingResult,
    NotEnoughData,
    run_backtest,
    train_demand_model,
    wape_gate,
)
from ml.promotion import MODEL
from ml.schema import ensure_ml_schema

MODEL_NAME = "demand"
COMPARED_METRIC = GATE_METRIC

log = logging.getLogger(__name__)

# The products to forecast: active ones, never the shipping charge (dim_products.is_shipping).
_STOCK = """
    select p.product_id::text as product_id, s.warehouse_id::text as warehouse_id,
           coalesce(sum(s.quantity), max(p.stock_on_hand))::float8 as stock_on_hand
    from marts.dim_products p
    left join marts.fct_stock_by_location s on s.product_id = p.product_id and s.is_internal
    where coalesce(p.is_active, true) {goods}
    group by 1, 2
"""
_PRODUCTS = """
    select product_id::text as product_id, null::text as warehouse_id, stock_on_hand::float8 as stock_on_hand
    from marts.dim_products p
    where coalesce(is_active, true) {goods}
"""

_FORECASTS = Table(
    "demand_forecasts",
    MetaData(schema="ml"),
    Column("product_id", Text, primary_key=True),
    Column("warehouse_id", Text, primary_key=True),
    Column("forecast_date", Date, primary_key=True),
    Column("horizon_date", Date, primary_key=True),
    Column("horizon_days", Integer),
    Column("p10", Float),
    Column("p50", Float),
    Column("p90", Float),
    Column("stock_on_hand", Float),
    Column("days_of_cover", Float),
    Column("reorder_qty", Float),
    Column("model_run_id", Text),
    Column("scored_at", DateTime(timezone=True)),
)
_WRITTEN = ("horizon_days", "p10", "p50", "p90", "stock_on_hand", "days_of_cover", "reorder_qty", "model_run_id")


@dataclass(frozen=True)
class ChampionDecision:
    promote: bool
    reason: str
    champion_metric: float | None = None


def read_stock(engine: Engine) -> pd.DataFrame | None:
    """Stock on hand per active product of `marts.dim_products` (shipping aside) and warehouse (from
    `marts.fct_stock_by_location` when it exists), or None while dbt does not build them."""
    with engine.connect() as connection:
        tables = inspect(connection)
        if not tables.has_table("dim_products", schema="marts"):
            log.warning("marts.dim_products does not exist: forecasting every product sold, stock unknown")
            return None
        by_warehouse = tables.has_table("fct_stock_by_location", schema="marts") and "warehouse_id" in {
            column["name"] for column in tables.get_columns("fct_stock_by_location", schema="marts")}
        goods = "and not p.is_shipping" if marks_shipping(tables) else ""
        return pd.read_sql(text((_STOCK if by_warehouse else _PRODUCTS).format(goods=goods)), connection)


def _series(engine: Engine, as_of: date) -> tuple[pd.DataFrame, pd.Series, pd.Index | None]:
    """The lines keyed by demand series, the stock per series, and the series to forecast
    (None, every one sold, while the stock is unknown)."""
    lines = _lines(engine, as_of)
    stock = read_stock(engine)
    if stock is None:
        return lines.drop(columns="warehouse_id", errors="ignore"), pd.Series(dtype="float64"), None
    keyed, on_hand = demand_series(lines, stock, cutoff_instant(cutoff_after(as_of)))
    return keyed, on_hand, on_hand.index


def _lines(engine: Engine, as_of: date) -> pd.DataFrame:
    lines = read_order_lines(engine, as_of)
    if lines is None:
        raise RuntimeError(
            "marts.fct_order_lines does not exist in the warehouse: build the marts (dbt build) before "
            "running the demand jobs."
        )
    return lines


def train_demand(url: str, as_of: date) -> dict[str, Any]:
    """Backtest, refit, save and register a demand model on the lines up to the end of `as_of`."""
    with registry.engine(url) as engine:
        lines, _, series = _series(engine, as_of)
        result = train_demand_model(lines, as_of, series)
        artifact = save_model(result.model, MODEL_NAME, result.metadata())
        with engine.begin() as connection:
            decision = decide_champion(connection, result, lines)
            registry.record_run(connection, artifact, as_of)
            if decision.promote:
                registry.promote(connection, MODEL_NAME, artifact.model_run_id)
    log.info("demand run %s: %s", artifact.model_run_id, decision.reason)
    return {
        "model_run_id": artifact.model_run_id,
        "artifact_path": str(artifact.path),
        "as_of_date": as_of.isoformat(),
        "evaluation_cutoff": result.evaluation_cutoff.isoformat(),
        "metrics": result.metrics,
        "baselines": result.baselines,
        "scored_by": result.scored_by,
        "gate": result.gate.as_dict(),
        "blend": {role: choice.as_dict() for role, choice in result.blends.items()},
        "row_counts": result.row_counts,
        "is_champion": decision.promote,
        "champion_decision": decision.reason,
        "previous_champion_wape": decision.champion_metric,
    }


def train_demand_if_due(url: str, as_of: date, *, force: bool = False) -> dict[str, Any]:
    """Train when `force`d or when the last run is a week old or more; returns a summary."""
    return registry.train_if_due(url, as_of, MODEL_NAME, train_demand, NotEnoughData, force=force)


def score_demand(url: str, as_of: date) -> dict[str, Any]:
    """Forecast the 28 days after `as_of` for every active product into `ml.demand_forecasts`."""
    ensure_ml_schema(url)
    with registry.engine(url) as engine:
        lines, stock, series = _series(engine, as_of)
        with engine.connect() as connection:
            champion = load_champion(connection, MODEL_NAME)
        forecasts = split_series(forecast_products(champion.model.scoring, lines, stock, as_of, series))
        with engine.begin() as connection:
            written, removed = write_forecasts(connection, forecasts, as_of, champion.model_run_id)
    per_series = forecasts.drop_duplicates(["product_id", "warehouse_id"])
    return {
        "forecast_date": as_of.isoformat(),
        "model_run_id": champion.model_run_id,
        "scored_by": getattr(champion.model, "scored_by", MODEL),
        "products": int(per_series["product_id"].nunique()),
        "warehouses": int(per_series["warehouse_id"].nunique()),
        "series_to_reorder": int((per_series["reorder_qty"] > 0).sum()),
        "rows_written": written,
        "rows_removed": removed,
    }


def decide_champion(connection: Connection, result: DemandTrainingResult, lines: pd.DataFrame) -> ChampionDecision:
    """Champion/challenger on backtest daily WAPE (lower is better) at the new run's evaluation cutoff.

    Each run is measured by what it forecasts with: its model, or the baseline that beat it.
    The champion's *evaluation* model is measured on the same products and days as the new
    run's, and a champion model that no longer beats the best baseline there by more than its
    uncertainty is replaced; a champion trained on newer data than the new run (a backfill) is kept.
    """
    champion = registry.champion_run(connection, MODEL_NAME)
    if champion is None:
        return ChampionDecision(promote=True, reason=f"first demand run: {result.gate.sentence()}")
    if champion.as_of_date > result.as_of:
        return ChampionDecision(
            promote=False,
            reason=f"kept champion {champion.model_run_id}: it was trained on newer data (as_of {champion.as_of_date})",
        )
    try:
        model = load_model(champion.artifact_path).model
    except FileNotFoundError as missing:
        return ChampionDecision(
            promote=True, reason=f"replaced champion {champion.model_run_id}: its artifact is missing ({missing.filename})"
        )
    except (AttributeError, ImportError) as old:
        return ChampionDecision(
            promote=True, reason=f"replaced champion {champion.model_run_id}: its artifact was written by an older "
            f"version of Puente ({old})"
        )
    scored_by = result.scored_by
    challenger = result.metrics[COMPARED_METRIC] if scored_by == MODEL else result.baselines[scored_by][COMPARED_METRIC]
    champion_scored_by = getattr(model, "scored_by", MODEL)
    if champion_scored_by != MODEL:
        return compare(challenger, result.baselines[champion_scored_by][COMPARED_METRIC], champion.model_run_id,
                       result.evaluation_cutoff)
    matrix = sales_matrix(lines, result.as_of + pd.Timedelta(days=1).to_pytimedelta(), result.products)
    measured = run_backtest(model.evaluation, matrix, result.evaluation_cutoff)
    baselines = {name: method(measured.history, HORIZON_DAYS) for name, method in BASELINES.items()}
    verdict = wape_gate(measured.actual, measured.predicted.p50, baselines)
    if not verdict.model_wins:
        return ChampionDecision(
            promote=True,
            reason=f"replaced champion {champion.model_run_id}: its model ({verdict.model:.4f}) no longer beats the best "
            f"baseline by more than its uncertainty at cutoff {result.evaluation_cutoff}; the new run forecasts "
            f"with {scored_by} ({challenger:.4f})",
            champion_metric=verdict.model,
        )
    return compare(challenger, verdict.model, champion.model_run_id, result.evaluation_cutoff)


def compare(challenger: float, champion: float, champion_id: str, cutoff: date) -> ChampionDecision:
    """Promote when the challenger's WAPE is at most the champion's."""
    promote = challenger <= champion
    verdict = "replaced" if promote else "kept"
    return ChampionDecision(
        promote=promote,
        reason=f"{verdict} champion {champion_id}: daily WAPE {challenger:.4f} (new) vs {champion:.4f} "
        f"(champion) at cutoff {cutoff}",
        champion_metric=champion,
    )


def write_forecasts(connection: Connection, forecasts: pd.DataFrame, forecast_date: date, model_run_id: str) -> tuple[int, int]:
    """Upsert the forecasts of `forecast_date`, remove that day's other rows; returns (written, removed)."""
    frame = forecasts.assign(model_run_id=model_run_id)
    frame = frame.astype(object).where(frame.notna(), None)
    rows = frame.loc[:, ["product_id", "warehouse_id", "forecast_date", "horizon_date", *_WRITTEN]].to_dict("records")
    written = len(connection.execute(_upsert(), rows).all()) if rows else 0
    keys = {(row["product_id"], row["warehouse_id"], row["horizon_date"]) for row in rows}
    existing = connection.execute(
        text("select product_id, warehouse_id, horizon_date from ml.demand_forecasts where forecast_date = :day"),
        {"day": forecast_date},
    ).all()
    stale = [tuple(key) for key in existing if tuple(key) not in keys]
    for product_id, warehouse_id, horizon_date in stale:
        connection.execute(
            _FORECASTS.delete().where(
                _FORECASTS.c.forecast_date == forecast_date,
                _FORECASTS.c.product_id == product_id,
                _FORECASTS.c.warehouse_id == warehouse_id,
                _FORECASTS.c.horizon_date == horizon_date,
            )
        )
    return written, len(stale)


def _upsert() -> Insert:
    statement = insert(_FORECASTS)
    return statement.on_conflict_do_update(
        index_elements=[_FORECASTS.c.product_id, _FORECASTS.c.warehouse_id, _FORECASTS.c.forecast_date,
                        _FORECASTS.c.horizon_date],
        set_={**{name: statement.excluded[name] for name in _WRITTEN}, "scored_at": func.now()},
        where=tuple_(*(_FORECASTS.c[name] for name in _WRITTEN)).is_distinct_from(
            tuple_(*(statement.excluded[name] for name in _WRITTEN))
        ),
    ).returning(_FORECASTS.c.product_id)
