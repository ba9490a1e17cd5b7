"""Time-based training, blend choice, backtest and promotion gate of the demand model.

`as_of` is the last business day the warehouse holds; the scoring cutoff is S = as_of + 1.
The *evaluation cutoff* is E = S - 28 days, the last one whose whole horizon is observed, and
the *validation cutoff* V = E - 28 days the one before:

    history ............... V ---- 28 days ---- E ---- 28 days ---- S = as_of + 1
    inner booster fitted here ─► [V, E): the evaluation model's blend weight
    evaluation model fitted here ─────────────► [E, S): measured beside the baselines, and
                                                 the scoring model's blend weight
    scoring model fitted on everything before S ──────────────────────► [S, S + 28)

* **The blend.** The point forecast mixes the booster with AutoETS (`ml.demand.model`). The
  weight is chosen among `BLEND_WEIGHTS` on the 28 days before the window it is measured on:
  the evaluation model's on [V, E), by a p50 booster fitted before V; the scoring model's on
  [E, S), by the evaluation model's own booster. No weight is chosen on the window it is
  reported on.
* **Does it ship.** The evaluation model's daily WAPE on [E, S) is compared with the better of
  AutoETS and the seasonal naive forecast (`GATE_BASELINES`; every baseline of
  `ml.demand.baselines` is measured and recorded, but the naive, mean and Croston forecasts
  are not what a business should reorder by): the model forecasts only if it is better by
  more than the bootstrap uncertainty over products (`ml.promotion.gate`); otherwise that
  baseline is the p50 (weight 1 on it), with the quantile boosters' interval around it.
* **Cancellations as of each cutoff** (`ml.cancellations`). Whatever a model is fitted on or
  forecasts from at V, E or S is the history as seen then (`SalesMatrix.until`): an order
  cancelled later still counts as sold. The windows a forecast is measured on keep the
  cancellations known now, the truth: [E, S) for the gate and the scoring blend; [V, E), which
  chooses the evaluation model's blend, is truth as seen at E, since the evaluation model must
  know nothing of what came after E.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ml.artifacts import run_metadata
from ml.demand.baselines import AUTO_ETS, BASELINES, SEASONAL_NAIVE, auto_ets
from ml.demand.evaluate import coverage, forecast_metrics
from ml.demand.features import FEATURE_COLUMNS, FEATURE_HISTORY_DAYS, HORIZON_DAYS, SalesMatrix, sales_matrix
from ml.demand.model import ETS_WEIGHT, LGBM_PARAMS, DemandModel, Forecast, fit_demand_model, forecast
from ml.promotion import MODEL, GateResult, gate

MIN_HISTORY_DAYS = FEATURE_HISTORY_DAYS + 28  # four weeks of training rows before the evaluation cutoff
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75)  # AutoETS's share of the p50
GATE_METRIC = "wape_daily"
GATE_BASELINES = (AUTO_ETS, SEASONAL_NAIVE)


class NotEnoughData(RuntimeError):
    """The warehouse does not yet hold enough sales history to train a demand model."""


@dataclass(frozen=True)
class DemandModels:
    """What a demand artifact holds: the model that forecasts, and the one that was measured.

    `scored_by` says what the scoring model's p50 is: `model` (the blend), or the name of the
    baseline that beat it (then `scoring.blend_with` is that baseline, at weight 1).
    """

    scoring: DemandModel
    evaluation: DemandModel
    features: tuple[str, ...] = FEATURE_COLUMNS
    scored_by: str = MODEL


@dataclass(frozen=True)
class BlendChoice:
    """The AutoETS weight chosen on a window, with each weight's daily WAPE there (None: not chosen)."""

    weight: float
    window_start: date | None
    wape_by_weight: dict[float, float] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "weight": self.weight,
            "chosen_on": None if self.window_start is None else self.window_start.isoformat(),
            "wape_daily_by_weight": None if self.wape_by_weight is None
            else {str(weight): value for weight, value in self.wape_by_weight.items()},
        }


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
    gate: GateResult
    blends: dict[str, BlendChoice]  # "evaluation" and "scoring"

    @property
    def scored_by(self) -> str:
        return self.model.scored_by

    def metadata(self) -> dict[str, Any]:
        return {
            **run_metadata(self.as_of, self.data_window, self.metrics, self.baselines, self.gate, self.row_counts),
            "evaluation_cutoff": self.evaluation_cutoff.isoformat(),
            "training_cutoffs": [self.evaluation_cutoff.isoformat(), (self.as_of + timedelta(days=1)).isoformat()],
            "horizon_days": HORIZON_DAYS,
            "features": list(self.model.features),
            "params": dict(LGBM_PARAMS),
            "blend": {role: choice.as_dict() for role, choice in self.blends.items()},
        }


def evaluation_cutoff_for(as_of: date) -> date:
    return as_of + timedelta(days=1) - timedelta(days=HORIZON_DAYS)


@dataclass(frozen=True)
class Backtest:
    """A model's forecast of the `HORIZON_DAYS` from a cutoff, beside what sold."""

    actual: np.ndarray
    history: np.ndarray
    predicted: Forecast

    def metrics(self) -> dict[str, float]:
        return {
            **forecast_metrics(self.actual, self.predicted.p50, self.history),
            "coverage_p10_p90": coverage(self.actual, self.predicted.p10, self.predicted.p90),
        }


def run_backtest(model: DemandModel, matrix: SalesMatrix, cutoff: date) -> Backtest:
    """`model` forecasting the `HORIZON_DAYS` of `matrix` from `cutoff` (it sees only the days before).

    The history is `matrix.until(cutoff)` (cancellations as seen at `cutoff`); the actual sales
    are `matrix`'s own days (cancellations as `matrix` knows them).
    """
    history = matrix.until(cutoff)
    actual = matrix.units[:, history.days : history.days + HORIZON_DAYS]
    return Backtest(actual, history.units, forecast(model, history))


def backtest(model: DemandModel, matrix: SalesMatrix, cutoff: date) -> dict[str, float]:
    """Metrics of `model` forecasting the `HORIZON_DAYS` of `matrix` from `cutoff`."""
    return run_backtest(model, matrix, cutoff).metrics()


def choose_weight(actual: np.ndarray, booster: np.ndarray, ets: np.ndarray, window_start: date) -> BlendChoice:
    """The AutoETS weight of `BLEND_WEIGHTS` with the lowest daily WAPE on `actual` (ties: the smaller weight)."""
    total = max(actual.sum(), 1e-9)
    by_weight = {weight: float(np.abs(actual - ((1 - weight) * booster + weight * ets)).sum() / total)
                 for weight in BLEND_WEIGHTS}
    best = min(BLEND_WEIGHTS, key=lambda weight: (by_weight[weight], weight))
    return BlendChoice(best, window_start, by_weight)


def wape_gate(actual: np.ndarray, model: np.ndarray, baselines: dict[str, np.ndarray]) -> GateResult:
    """`ml.promotion.gate` on daily WAPE (lower is better) against the `GATE_BASELINES` of `baselines`.

    The bootstrap resamples products (paired: the same products for the model and the baseline).
    """
    candidates = {MODEL: model, **{name: baselines[name] for name in GATE_BASELINES}}
    errors = {name: np.abs(actual - forecast_).sum(axis=1) for name, forecast_ in candidates.items()}
    sold = actual.sum(axis=1)

    def wape_of(name: str, rows: np.ndarray | slice = slice(None)) -> float:
        return float(errors[name][rows].sum() / max(sold[rows].sum(), 1e-9))

    return gate(GATE_METRIC, wape_of(MODEL), {name: wape_of(name) for name in GATE_BASELINES}, wape_of, len(sold),
                higher_is_better=False)


def train_demand_model(
    lines: pd.DataFrame,
    as_of: date,
    products: pd.Index | None = None,
    *,
    with_quantiles: bool = True,
    with_scoring: bool = True,
) -> DemandTrainingResult:
    """Choose the blend, backtest, gate and refit the demand model on the order lines up to the end of `as_of`.

    `with_scoring=False` stops after the evaluation (the benchmark's use): the scoring model is
    then the evaluation model.
    """
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
    evaluation_blend = _inner_blend(matrix, evaluation_cutoff - timedelta(days=HORIZON_DAYS))
    history = matrix.until(evaluation_cutoff)
    evaluation_model = fit_demand_model(history, with_quantiles=with_quantiles, ets_weight=evaluation_blend.weight)
    measured = run_backtest(evaluation_model, matrix, evaluation_cutoff)
    baseline_forecasts = {name: method(history.units, HORIZON_DAYS) for name, method in BASELINES.items()}
    baselines = {name: forecast_metrics(measured.actual, values, history.units)
                 for name, values in baseline_forecasts.items()}
    verdict = wape_gate(measured.actual, measured.predicted.p50, baseline_forecasts)
    scoring_blend = choose_weight(measured.actual, measured.predicted.booster, baseline_forecasts[AUTO_ETS],
                                  evaluation_cutoff)
    if with_scoring:
        scoring_model = fit_demand_model(matrix.until(scoring_cutoff), with_quantiles=with_quantiles,
                                         ets_weight=scoring_blend.weight)
    else:
        scoring_model = evaluation_model
    if not verdict.model_wins:
        scoring_model = DemandModel(median=scoring_model.median, quantiles=scoring_model.quantiles,
                                    ets_weight=1.0, blend_with=verdict.best_baseline)
    return DemandTrainingResult(
        model=DemandModels(scoring=scoring_model, evaluation=evaluation_model, scored_by=verdict.winner),
        as_of=as_of,
        data_window=(matrix.start, as_of),
        evaluation_cutoff=evaluation_cutoff,
        products=matrix.products,
        metrics=measured.metrics(),
        baselines=baselines,
        row_counts={
            "order_lines": int(len(lines)),
            "products": len(matrix.products),
            "days": matrix.days,
            "units": int(np.round(matrix.units.sum())),
        },
        gate=verdict,
        blends={"evaluation": evaluation_blend, "scoring": scoring_blend},
    )


def _inner_blend(matrix: SalesMatrix, validation_cutoff: date) -> BlendChoice:
    """The evaluation model's blend, chosen on the 28 days from `validation_cutoff` by a booster fitted before.

    With too short a history before `validation_cutoff` to fit one, the default `ETS_WEIGHT`.
    """
    if matrix.day_index(validation_cutoff) < MIN_HISTORY_DAYS:
        return BlendChoice(ETS_WEIGHT, None, None)
    inner = run_backtest(
        fit_demand_model(matrix.until(validation_cutoff), with_quantiles=False, ets_weight=0.0),
        matrix.until(validation_cutoff + timedelta(days=HORIZON_DAYS)),
        validation_cutoff,
    )
    return choose_weight(inner.actual, inner.predicted.booster, auto_ets(inner.history, HORIZON_DAYS),
                         validation_cutoff)
