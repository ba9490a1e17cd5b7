"""The churn scorers: the model and the two baselines, each with Platt-calibrated probabilities.

* **The model** is an L2-regularised logistic regression on nine robust inputs
  (`ROBUST_INPUTS`), one of them BG/NBD's expected purchases: a model anchored on the
  baseline that corrects it with recency, frequency, spend, tenure and the share of orders
  cancelled, with an intercept per training cutoff (`RobustLogistic.fit`); from 1,000 active
  customers, one more: how popular the customer's products are lately (`PRODUCT_INPUTS`); with the order
  lines at any size, the mean price they pay per unit (`LINE_INPUTS`). Few parameters, so
  it stays good on the few hundred customers of a small business. It replaced a shallow LightGBM
  on 27 features, which lost to BG/NBD below about 2,000 customers and was behind the
  logistic regression at every size on UCI Online Retail's cutoffs 2011-04-12 and 2011-05-12
  (bench/RESULTS.md); `CalibratedBooster` remains so that artifacts trained with it still load.
* **bgnbd** (expected purchases), **bgnbd_no_purchase** (probability of no purchase in the
  label window) and **recency** are the baselines (`ml.churn.baselines`) as scorers: when the
  model does not beat the best of them clearly (`ml.promotion`), that one scores customers.

Every scorer has a raw score (higher: likelier to churn), a probability (a Platt sigmoid of
the raw score, fitted on a cutoff the scorer did not learn from: on a small business's one
cutoff isotonic regression overfits into a step function, and a monotone sigmoid leaves the
ranking unchanged) and `contributions`: how much each of its inputs moves the raw score
away from a typical customer's, which `ml.churn.reasons` turns into words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression

from ml.churn.baselines import log_odds

BGNBD = "bgnbd"
BGNBD_NO_PURCHASE = "bgnbd_no_purchase"
RECENCY = "recency"
BASELINES = (RECENCY, BGNBD, BGNBD_NO_PURCHASE)
# The baselines that score customers when the model loses its gate: the better of BG/NBD's two scores,
# unless recency beats it by more than its uncertainty (the bar the model faces). Recency is one of
# the three numbers BG/NBD's model reads; where it edged BG/NBD on a job's evaluation cutoff by less
# than that, and shipped, it lost to BG/NBD on the next cutoff by up to 0.036 ROC-AUC (CDNOW at 500
# and 2,000 customers, bench/RESULTS.md).
PREFERRED_BASELINES = (BGNBD, BGNBD_NO_PURCHASE)
# Inverse L2 strength on standardised inputs; 0.1 was the best of 0.01, 0.1 and 1 at 500,
# 2,000 and 4,338 customers on UCI Online Retail's cutoffs 2011-04-12 and 2011-05-12 (before every
# cutoff bench/RESULTS.md reports); with `cancelled_share` and the per-cutoff intercepts added,
# 0.05, 0.1 and 0.2 tie there, and 0.1 was kept.
LOGISTIC_C = 0.1
ROBUST_INPUTS = (
    "log_bgnbd_expected",
    "log_recency",
    "log_purchase_days_365d",
    "log_purchase_days_90d",
    "log_amount_365d",
    "log_tenure",
    "log_overdue",
    "one_purchase",
    "cancelled_share",
)
# With the order lines, for a business of at least PRODUCT_INPUT_MIN_CUSTOMERS customers active at the
# job's evaluation cutoff: how popular the customer's products are lately (fifth round of choices,
# bench/RESULTS.md: on UCI Online Retail's selection cutoffs it added about 0.003 ROC-AUC at 2,000
# customers and 0.0045 on all of them, and lost about 0.003 on samples of 500, where a product's
# buyers are counted among a few hundred customers).
PRODUCT_INPUTS = ("log_product_popularity",)
PRODUCT_INPUT_MIN_CUSTOMERS = 1000
# With the order lines, at any size: the log of the mean price the customer paid per unit over the year
# (sixth round of choices, bench/RESULTS.md: on UCI Online Retail's selection cutoffs it added about 0.004
# ROC-AUC on samples of 500 customers, 0.003 at 2,000 and 0.0003 on all of them).
LINE_INPUTS = ("log_unit_price",)
# With the service tickets (ml.churn.features.TICKET_FEATURES): the year's complaints, a complaint
# open at the cutoff, and how long the year's tickets took to close.
TICKET_INPUTS = ("log_complaints_365d", "open_complaint", "log_resolution_days")
# A coefficient c on a column worth 100 shifts the log-odds by 100c at an L2 cost of c²: the
# penalty on a cutoff's intercept is 10,000 times weaker than on a standardised input.
CUTOFF_INDICATOR_SCALE = 100.0
EXPECTED_FLOOR = 0.01  # purchases: log(expected + floor) keeps "expects none" finite
PROBABILITY_FLOOR = 1e-6  # log-odds of a probability kept within [floor, 1 - floor]
MAX_OVERDUE = 50.0


# Inputs a customer may lack (no order lines, nothing bought that year): filled with the median of
# the customers the model learnt from (`RobustLogistic.fills`).
MEDIAN_FILLED = ("log_product_popularity", "log_unit_price")


def robust_inputs(features: pd.DataFrame, fills: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The model's inputs: log scales tame the long tails of retail counts and amounts.

    `log_overdue` is the days since the last purchase over the customer's median gap between
    purchase days (capped at 50; for a one-time buyer, 1: neither early nor late, and
    `one_purchase` says so). `cancelled_share` is the share of the year's orders cancelled
    (0 when unknown). The ticket inputs are 0 for a customer without tickets (and when the
    tickets are not known). `log_product_popularity` is already a log; `log_unit_price` is the
    log of the mean price paid per unit. A customer without one of those (`MEDIAN_FILLED`) gets
    `fills`' value, the median of the customers a model learnt from, so that a customer's score
    does not depend on who else is scored with them; without `fills`, the median of `features`
    (0 when nobody has it).
    """
    overdue = (features["recency_days"] / features["gap_median_days"]).clip(0, MAX_OVERDUE)
    unknown = pd.Series(0.0, index=features.index)  # a frame without the ticket features (older callers)
    missing = pd.Series(np.nan, index=features.index)
    filled = {
        "log_product_popularity": features.get("product_popularity_90d", missing),
        "log_unit_price": np.log(features.get("unit_price_365d", missing)),
    }
    for name, values in filled.items():
        fill = fills[name] if fills is not None and name in fills else values.median()
        filled[name] = values.fillna(fill).fillna(0.0)
    return pd.DataFrame(
        {
            "log_bgnbd_expected": np.log(features["bgnbd_expected_90d"].fillna(0.0) + EXPECTED_FLOOR),
            "log_recency": np.log1p(features["recency_days"]),
            "log_purchase_days_365d": np.log1p(features["purchase_days_365d"]),
            "log_purchase_days_90d": np.log1p(features["purchase_days_90d"]),
            "log_amount_365d": np.log1p(features["amount_sum_365d"].clip(lower=0).fillna(0.0)),
            "log_tenure": np.log1p(features["tenure_days"]),
            "log_overdue": np.log1p(overdue.fillna(1.0)),
            "one_purchase": features["gap_median_days"].isna().astype("float64"),
            "cancelled_share": features["cancelled_share"].fillna(0.0),
            "log_complaints_365d": np.log1p(features.get("complaints_365d", unknown).fillna(0.0)),
            "open_complaint": features.get("open_complaint", unknown).fillna(0.0),
            "log_resolution_days": np.log1p(features.get("resolution_hours_median_365d", unknown).fillna(0.0) / 24),
            **filled,
        },
        index=features.index,
    )


@dataclass(frozen=True)
class RobustLogistic:
    """A logistic regression on standardised `robust_inputs`, kept as plain arrays.

    `inputs` names the columns it was fitted on; artifacts saved before the field existed load
    with its default, the eight inputs they had (no `cancelled_share`), and still score.
    `fills`: the value of each `MEDIAN_FILLED` input for a customer who lacks it, learnt at fit
    (None in artifacts saved before it: the median of the customers scored, as they did).
    """

    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    intercept: float
    inputs: tuple[str, ...] = ROBUST_INPUTS[:-1]
    fills: dict[str, float] | None = None

    @classmethod
    def fit(cls, features: pd.DataFrame, labels: pd.Series, inputs: tuple[str, ...] = ROBUST_INPUTS) -> RobustLogistic:
        """Fit on `features` of one or more cutoffs (index level `cutoff`, as training snapshots have).

        The churn rate differs from one cutoff to the next (churn is seasonal), so each cutoff
        has its own intercept: the inputs' coefficients then learn who churns more than others
        at the same date, not which dates had more churn. The intercepts are indicator columns
        scaled by `CUTOFF_INDICATOR_SCALE`, which leaves them practically unpenalised, as a
        common intercept is. The intercept kept is the common one plus the indicators' mean
        effect; the Platt sigmoid sets the level of the probabilities anyway.
        """
        names = inputs
        # (a column filled with its own median keeps that median: the frame is what `fills` would give)
        frame = robust_inputs(features)
        fills = {name: float(frame[name].median()) for name in MEDIAN_FILLED}
        inputs = frame.loc[:, list(names)].to_numpy()
        mean, scale = inputs.mean(axis=0), inputs.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        per_cutoff = _cutoff_indicators(features.index)
        # Newton's method on the Cholesky factor: exact in a few steps for a few columns and many rows,
        # where L-BFGS took hundreds on the scaled indicators (the same optimum, a quarter of the time)
        fitted = LogisticRegression(C=LOGISTIC_C, solver="newton-cholesky", max_iter=200).fit(
            np.hstack([(inputs - mean) / scale, per_cutoff]), labels
        )
        coefficients = fitted.coef_[0]
        shift = CUTOFF_INDICATOR_SCALE * float(coefficients[inputs.shape[1]:].mean()) if per_cutoff.shape[1] else 0.0
        return cls(mean, scale, coefficients[: inputs.shape[1]].copy(), float(fitted.intercept_[0]) + shift, names,
                   fills)

    def raw_score(self, features: pd.DataFrame) -> np.ndarray:
        return self._terms(features).sum(axis=1) + self.intercept

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each input's term of the log-odds, relative to the average customer it learnt from."""
        return pd.DataFrame(self._terms(features), index=features.index, columns=list(self.inputs))

    def _terms(self, features: pd.DataFrame) -> np.ndarray:
        inputs = robust_inputs(features, self.fills).loc[:, list(self.inputs)].to_numpy()
        return (inputs - self.mean) / self.scale * self.coefficients


def _cutoff_indicators(index: pd.Index) -> np.ndarray:
    """Per cutoff of `index`'s level `cutoff`, a column worth `CUTOFF_INDICATOR_SCALE` on its rows, else 0.

    None without that level, or with a single cutoff (the common intercept is enough).
    """
    if "cutoff" not in (index.names or []):
        return np.empty((len(index), 0))
    cutoffs = index.get_level_values("cutoff")
    if cutoffs.nunique() < 2:
        return np.empty((len(index), 0))
    return CUTOFF_INDICATOR_SCALE * pd.get_dummies(cutoffs).to_numpy(dtype="float64")


def _sigmoid(raw: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(slope * raw + intercept)))


def platt(raw: np.ndarray, labels: pd.Series) -> tuple[float, float]:
    """Slope and intercept of the sigmoid mapping `raw` scores to the churn rate of `labels`."""
    sigmoid = LogisticRegression(C=1e6).fit(np.asarray(raw, dtype="float64").reshape(-1, 1), labels)
    return float(sigmoid.coef_[0, 0]), float(sigmoid.intercept_[0])


class _Calibrated:
    """The probability and the scikit-learn style interface shared by every scorer."""

    slope: float
    intercept: float

    def raw_score(self, features: pd.DataFrame) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated [P(stay), P(churn)] per row, as scikit-learn classifiers return them."""
        churn = _sigmoid(self.raw_score(features), self.slope, self.intercept)
        return np.column_stack([1.0 - churn, churn])


@dataclass(frozen=True)
class CalibratedBooster(_Calibrated):
    """The LightGBM churn model of artifacts trained before the logistic regression replaced it."""

    booster: LGBMClassifier
    slope: float
    intercept: float

    def raw_score(self, features: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(features, raw_score=True)

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per-feature contributions (SHAP values, log-odds) of each row's raw score."""
        values = self.booster.predict(features, pred_contrib=True)[:, :-1]
        return pd.DataFrame(values, index=features.index, columns=features.columns)


@dataclass(frozen=True)
class CalibratedLogistic(_Calibrated):
    """The churn model: the logistic regression, its log-odds mapped by an out-of-time Platt sigmoid.

    The sigmoid is fitted on the latest labelled cutoff, scored by a regression fitted only
    on the earlier cutoffs; the regression kept here is then refitted on every cutoff, the
    latest included, and reuses that sigmoid (`fit_calibrated`).
    """

    logistic: RobustLogistic
    slope: float
    intercept: float

    def raw_score(self, features: pd.DataFrame) -> np.ndarray:
        return self.logistic.raw_score(features)

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        return self.logistic.contributions(features)


def baseline_raw_score(name: str, features: pd.DataFrame) -> np.ndarray:
    """A baseline's churn score from the features: minus log BG/NBD expected purchases, the log-odds
    of BG/NBD's probability of no purchase in the label window, or log recency.

    Where BG/NBD could not be fitted (NaN) it expects no purchase.
    """
    if name == BGNBD:
        return -np.log(features["bgnbd_expected_90d"].fillna(0.0).to_numpy() + EXPECTED_FLOOR)
    if name == BGNBD_NO_PURCHASE:
        return log_odds(features["bgnbd_p_no_purchase_90d"].fillna(1.0).to_numpy(), PROBABILITY_FLOOR)
    if name == RECENCY:
        return np.log1p(features["recency_days"].to_numpy())
    raise ValueError(f"unknown churn baseline {name!r}; expected one of {BASELINES}")


@dataclass(frozen=True)
class CalibratedBaseline(_Calibrated):
    """A baseline as a scorer, for the nights it beats the model (Platt sigmoid out of time)."""

    name: str
    slope: float
    intercept: float

    @classmethod
    def fit(cls, name: str, features: pd.DataFrame, labels: pd.Series) -> CalibratedBaseline:
        return cls(name, *platt(baseline_raw_score(name, features), labels))

    def raw_score(self, features: pd.DataFrame) -> np.ndarray:
        return baseline_raw_score(self.name, features)


def fit_calibrated(
    fit_features: pd.DataFrame,
    fit_labels: pd.Series,
    calibration_features: pd.DataFrame,
    calibration_labels: pd.Series,
    inputs: tuple[str, ...] = ROBUST_INPUTS,
) -> CalibratedLogistic:
    """Fit the sigmoid on the calibration set out of time, then the regression on both sets (on `inputs`)."""
    held_out = RobustLogistic.fit(fit_features, fit_labels, inputs).raw_score(calibration_features)
    slope, intercept = platt(held_out, calibration_labels)
    logistic = RobustLogistic.fit(
        pd.concat([fit_features, calibration_features]), pd.concat([fit_labels, calibration_labels]), inputs
    )
    return CalibratedLogistic(logistic=logistic, slope=slope, intercept=intercept)


@dataclass(frozen=True)
class ChurnModel:
    """What a churn artifact holds.

    `features` are the columns of `ml.churn.features` the scorers read. `evaluation` is the model fitted only on data before the evaluation cutoff: its metrics
    are the ones reported, and the promotion gate and champion/challenger measure it on
    labels it never saw. `scoring` is what scores customers: the same recipe refitted on every
    labelled cutoff when the model won the gate, otherwise the calibrated baseline the gate
    ships instead (`scored_by` names which).
    """

    scoring: CalibratedLogistic | CalibratedBaseline | CalibratedBooster
    evaluation: CalibratedLogistic | CalibratedBooster
    features: tuple[str, ...]
    scored_by: str = "model"


def churn_probability(estimator: _Calibrated, features: pd.DataFrame) -> pd.Series:
    """The calibrated probability of churn for each row of `features`, in the same index."""
    probabilities = estimator.predict_proba(features)[:, 1]
    return pd.Series(probabilities, index=features.index, name="churn_probability")
