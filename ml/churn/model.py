"""The churn classifier: a small, regularised LightGBM with Platt-calibrated probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression

RANDOM_SEED = 42

# Very shallow trees (four leaves), a slow learning rate, row and column subsampling and an L2
# penalty: an SME has a few hundred to a few thousand customers per cutoff, where a default
# LightGBM overfits. Chosen on UCI Online Retail (bench/ml.py) among 4-31 leaves and 200-600
# trees; four leaves were best at every cutoff, by about 0.003 ROC-AUC over seven or fifteen.
# `deterministic` with `force_row_wise` makes a refit on the same data give the same trees.
# One thread: on data this size threads cost more than they save, and the DAG already runs
# tasks side by side.
LGBM_PARAMS = {
    "objective": "binary",
    "n_estimators": 400,
    "learning_rate": 0.02,
    "num_leaves": 4,
    "max_depth": -1,
    "min_child_samples": 50,
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


@dataclass(frozen=True)
class CalibratedBooster:
    """A booster whose raw score is mapped to a probability by a Platt sigmoid.

    The sigmoid is fitted out of time: on the latest labelled cutoff, scored by a booster
    that was fitted only on the earlier cutoffs. The booster kept here is then refitted on
    every cutoff, the latest included, and reuses that sigmoid: the booster learns from the
    most recent behaviour, and the calibration was still measured on labels it had not seen.
    Platt rather than isotonic: the calibration set is one cutoff of a small business, where
    isotonic regression overfits into a step function; a strictly monotone two-parameter
    sigmoid leaves the ranking (ROC-AUC) exactly as the booster made it.
    """

    booster: LGBMClassifier
    slope: float
    intercept: float

    def raw_score(self, features: pd.DataFrame) -> np.ndarray:
        """The booster's log-odds for each row."""
        return self.booster.predict(features, raw_score=True)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated [P(stay), P(churn)] per row, as scikit-learn classifiers return them."""
        churn = 1.0 / (1.0 + np.exp(-(self.slope * self.raw_score(features) + self.intercept)))
        return np.column_stack([1.0 - churn, churn])

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per-feature contributions (SHAP values, log-odds) of each row's raw score."""
        values = self.booster.predict(features, pred_contrib=True)[:, :-1]
        return pd.DataFrame(values, index=features.index, columns=features.columns)


@dataclass(frozen=True)
class ChurnModel:
    """What a churn artifact holds.

    `evaluation` was fitted only on data before the evaluation cutoff: its metrics are the
    ones reported, and champion/challenger compares runs with it on unseen labels.
    `scoring` is the same recipe refitted on every labelled cutoff: it scores customers.
    """

    scoring: CalibratedBooster
    evaluation: CalibratedBooster
    features: tuple[str, ...]


def fit_calibrated(
    fit_features: pd.DataFrame,
    fit_labels: pd.Series,
    calibration_features: pd.DataFrame,
    calibration_labels: pd.Series,
) -> CalibratedBooster:
    """Fit the sigmoid on `calibration_*` out of time, then the booster on both sets."""
    held_out = LGBMClassifier(**LGBM_PARAMS).fit(fit_features, fit_labels)
    raw = held_out.predict(calibration_features, raw_score=True).reshape(-1, 1)
    sigmoid = LogisticRegression(C=1e6).fit(raw, calibration_labels)
    booster = LGBMClassifier(**LGBM_PARAMS).fit(
        pd.concat([fit_features, calibration_features]), pd.concat([fit_labels, calibration_labels])
    )
    return CalibratedBooster(booster=booster, slope=float(sigmoid.coef_[0, 0]), intercept=float(sigmoid.intercept_[0]))


def churn_probability(estimator: CalibratedBooster, features: pd.DataFrame) -> pd.Series:
    """The calibrated probability of churn for each row of `features`, in the same index."""
    probabilities = estimator.predict_proba(features)[:, 1]
    return pd.Series(probabilities, index=features.index, name="churn_probability")
