"""The demand model: a global LightGBM for every product, recursive, blended with a baseline.

* The booster is a Tweedie regression (daily retail sales are many zeros and a long right
  tail) fitted on every product at once, on a history winsorised per product at the 95th
  percentile of its selling days: a single wholesale order of thousands of units otherwise
  drives the lags of a month. It forecasts recursively: a day's lags in week two onwards are
  the forecasts of the days before.
* The point forecast (p50) is `(1 - w) · booster + w · AutoETS` (`ml.demand.baselines.auto_ets`,
  on the raw history): the two err differently. The weight `w` is chosen by the training job
  on a window it does not report (`ml.demand.train.choose_weight`); when the model does not
  beat the best baseline clearly, the job ships that baseline instead: `w = 1` on it.
* The interval is two quantile boosters (p10, p90) on the booster's features, read along its
  path, widened where needed so that p10 <= p50 <= p90.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lightgbm import LGBMRegressor

from ml.demand.baselines import AUTO_ETS, BASELINES
from ml.demand.features import (
    FEATURE_COLUMNS,
    HORIZON_DAYS,
    SalesMatrix,
    features_for_day,
    product_statistics,
    training_rows,
    winsorise,
)

RANDOM_SEED = 42
TRAINING_DAYS = 364
QUANTILES = (0.1, 0.9)

_COMMON = {
    "n_estimators": 400,
    "learning_rate": 0.03,
    "num_leaves": 31,
    "min_child_samples": 100,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "random_state": RANDOM_SEED,
    "n_jobs": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
LGBM_PARAMS = {**_COMMON, "objective": "tweedie", "tweedie_variance_power": 1.5}
ETS_WEIGHT = 0.5  # the blend when the history is too short to choose one


@dataclass(frozen=True)
class DemandModel:
    """The p50 booster, the quantile boosters (may be empty), the feature list, and the blend.

    The p50 is `(1 - ets_weight) · booster + ets_weight · BASELINES[blend_with]`.
    """

    median: LGBMRegressor
    quantiles: dict[float, LGBMRegressor] = field(default_factory=dict)
    features: tuple[str, ...] = FEATURE_COLUMNS
    ets_weight: float = ETS_WEIGHT
    blend_with: str = AUTO_ETS


@dataclass(frozen=True)
class Forecast:
    """Daily forecasts from the matrix's end: arrays of shape (products, horizon)."""

    products: pd.Index
    first_day: int
    p50: np.ndarray
    p10: np.ndarray
    p90: np.ndarray
    booster: np.ndarray  # the booster's own p50, before averaging with AutoETS


def fit_demand_model(
    matrix: SalesMatrix, *, with_quantiles: bool = True, ets_weight: float = ETS_WEIGHT
) -> DemandModel:
    """Fit on the last `TRAINING_DAYS` days of `matrix` (every feature from before each day)."""
    features, target = training_rows(winsorise(matrix), TRAINING_DAYS)
    if len(target) == 0:
        raise ValueError("no training rows: the sales history is shorter than the features need")
    median = LGBMRegressor(**LGBM_PARAMS).fit(features, target)
    quantiles = {}
    if with_quantiles:
        for alpha in QUANTILES:
            quantiles[alpha] = LGBMRegressor(**{**_COMMON, "objective": "quantile", "alpha": alpha}).fit(
                features, target
            )
    return DemandModel(median=median, quantiles=quantiles, ets_weight=ets_weight)


def forecast(model: DemandModel, matrix: SalesMatrix, horizon: int = HORIZON_DAYS) -> Forecast:
    """Forecast the `horizon` days after the end of `matrix` (booster recursively, then the mean)."""
    raw = matrix
    matrix = winsorise(matrix)
    stats = product_statistics(matrix)
    extended = np.concatenate([matrix.units, np.zeros((len(matrix.products), horizon))], axis=1)
    p50 = np.zeros((len(matrix.products), horizon))
    p10, p90 = np.zeros_like(p50), np.zeros_like(p50)
    for step in range(horizon):
        day = matrix.days + step
        when = matrix.date_of(day)
        features = pd.DataFrame(
            features_for_day(extended, day, when.weekday(), when.day, stats), columns=list(FEATURE_COLUMNS)
        )
        p50[:, step] = np.maximum(model.median.predict(features), 0.0)
        extended[:, day] = p50[:, step]
        if model.quantiles:
            p10[:, step] = np.maximum(model.quantiles[QUANTILES[0]].predict(features), 0.0)
            p90[:, step] = np.maximum(model.quantiles[QUANTILES[1]].predict(features), 0.0)
    booster = p50.copy()
    if model.ets_weight > 0:
        baseline = BASELINES[model.blend_with](raw.units, horizon)
        p50 = (1 - model.ets_weight) * booster + model.ets_weight * baseline
    if model.quantiles:
        # Quantile boosters are fitted separately and may cross the median: keep p10 <= p50 <= p90.
        p10, p90 = np.minimum(p10, p50), np.maximum(p90, p50)
    else:
        p10, p90 = p50.copy(), p50.copy()
    return Forecast(products=matrix.products, first_day=matrix.days, p50=p50, p10=p10, p90=p90, booster=booster)
