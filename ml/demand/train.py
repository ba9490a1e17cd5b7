"""Time-based training and backtest of the demand model.

`as_of` is the last business day the warehouse holds; the scoring cutoff is S = as_of + 1.
The *evaluation cutoff* is E = S - 28 days, the last one whose whole horizon is observed:

    history ........................ E ------ 28 days ------ S = as_of + 1
    evaluation model fitted here ──► forecasts [E, S), measured beside the baselines
    scoring model fitted on everything before S ──────────────► forecasts [S, S + 28)

The evaluation model never sees a day on or after E; its metrics are the ones reported and
the ones champion/challenger compares (`ml.demand.jobs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ml.demand.baselines import BASELINES
from ml.demand.evaluate import coverage, forecast_metrics
from ml.demand.features import FEATURE_COLUMNS, FEATURE_HISTORY_DAYS, HORIZON_DAYS, SalesMatrix, sales_matrix
from ml.demand.model import LGBM_PARAMS, DemandModel, fit_demand_model, forecast

MIN_HISTORY_DAYS = FEATURE_HISTORY_DAYS + 28  # four weeks of training rows before the evaluation cutoff


class NotEnoughData(RuntimeError):
    """The warehouse does not yet hold enough sales history to train a demand model."""


@dataclass(frozen=True)
class DemandModels:
    """What a demand artifact holds: the model that forecasts, and the one that was measured."""

    scoring: DemandModel
    evaluation: DemandModel
    features: tuple[str, ...] = FEATURE_COLUMNS


@dataclass(frozen=True)
class DemandTrainingResult:
    model: DemandModels
    as_of: date
    data_window: tuple[date, date]
    evaluation_cutoff: date
    products: pd.Index
    metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    row_counts: dict[str, int]

    def metadata(self) -> dict[str, Any]:
        start, end = self.data_window
        return {
            "as_of_date": self.as_of.isoformat(),
            "data_window": {"start": start.isoformat(), "end": end.isoformat()},
            "evaluation_cutoff": self.evaluation_cutoff.isoformat(),
            "training_cutoffs": [self.evaluation_cutoff.isoformat(), (self.as_of + timedelta(days=1)).isoformat()],
            "horizon_days": HORIZON_DAYS,
            "features": list(self.model.features),
            "params": dict(LGBM_PARAMS),
            "metrics": self.metrics,
            "baselines": self.baselines,
            "row_counts": self.row_counts,
        }


def evaluation_cutoff_for(as_of: date) -> date:
    return as_of + timedelta(days=1) - timedelta(days=HORIZON_DAYS)


def backtest(model: DemandModel, matrix: SalesMatrix, cutoff: date) -> dict[str, float]:
    """Metrics of `model` forecasting the `HORIZON_DAYS` of `matrix` from `cutoff`."""
    history = matrix.until(cutoff)
    actual = matrix.units[:, history.days : history.days + HORIZON_DAYS]
    predicted = forecast(model, history)
    return {
        **forecast_metrics(actual, predicted.p50, history.units),
        "coverage_p10_p90": coverage(actual, predicted.p10, predicted.p90),
    }


def train_demand_model(
    lines: pd.DataFrame, as_of: date, products: pd.Index | None = None, *, with_quantiles: bool = True
) -> DemandTrainingResult:
    """Backtest and refit the demand model on the order lines placed up to the end of `as_of`."""
    scoring_cutoff = as_of + timedelta(days=1)
    matrix = sales_matrix(lines, scoring_cutoff, products)
    if matrix.units.sum() == 0 or len(matrix.products) == 0:
        raise NotEnoughData(
            f"no sales up to {as_of} in marts.fct_order_lines: load the sources and build the marts first."
        )
    evaluation_cutoff = evaluation_cutoff_for(as_of)
    if matrix.day_index(evaluation_cutoff) < MIN_HISTORY_DAYS:
        raise NotEnoughData(
            f"demand training for as_of {as_of} needs sales from before "
            f"{evaluation_cutoff - timedelta(days=MIN_HISTORY_DAYS)} ({MIN_HISTORY_DAYS} days before the "
            f"evaluation cutoff {evaluation_cutoff}), but the first sale in marts.fct_order_lines is from "
            f"{matrix.start}. Load more order history, or train at a later date."
        )
    history = matrix.until(evaluation_cutoff)
    evaluation_model = fit_demand_model(history, with_quantiles=with_quantiles)
    metrics = backtest(evaluation_model, matrix, evaluation_cutoff)
    actual = matrix.units[:, history.days :]
    baselines = {
        name: forecast_metrics(actual, method(history.units, HORIZON_DAYS), history.units)
        for name, method in BASELINES.items()
    }
    scoring_model = fit_demand_model(matrix, with_quantiles=with_quantiles)
    return DemandTrainingResult(
        model=DemandModels(scoring=scoring_model, evaluation=evaluation_model),
        as_of=as_of,
        data_window=(matrix.start, as_of),
        evaluation_cutoff=evaluation_cutoff,
        products=matrix.products,
        metrics=metrics,
        baselines=baselines,
        row_counts={
            "order_lines": int(len(lines)),
            "products": len(matrix.products),
            "days": matrix.days,
            "units": int(np.round(matrix.units.sum())),
        },
    )
