"""The churn classifier: a small, regularised LightGBM with Platt-calibrated probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator

RANDOM_SEED = 42

# Shallow trees, a slow learning rate, row and column subsampling and an L2 penalty: an SME has
# a few hundred to a few thousand customers per cutoff, where a default LightGBM overfits.
# `deterministic` with `force_row_wise` makes a refit on the same data give the same trees. One
# thread: on data this size threads cost more than they save (measured 2.2 s against 5.1 s on
# 2 cores for the test history), and the DAG already runs tasks side by side.
LGBM_PARAMS = {
    "objective": "binary",
    "n_estimators": 200,
    "learning_rate": 0.03,
    "num_leaves": 15,
    "max_depth": 4,
    "min_child_samples": 20,
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

# Platt scaling rather than isotonic regression: the calibration set is one cutoff of a small
# business (often a few hundred customers), where isotonic regression overfits into a step
# function whose ties blur the ranking; a two-parameter sigmoid is stable on that little data
# and, being strictly monotone, leaves ROC-AUC and the ranking exactly as the booster made them.
CALIBRATION_METHOD = "sigmoid"


@dataclass(frozen=True)
class ChurnModel:
    """What a churn artifact holds.

    `evaluation` was fitted only on data before the evaluation cutoff: its metrics are the
    ones reported, and champion/challenger compares runs with it on unseen labels.
    `scoring` is the same recipe refitted on every labelled cutoff: it scores customers.
    """

    scoring: CalibratedClassifierCV
    evaluation: CalibratedClassifierCV
    features: tuple[str, ...]


def fit_calibrated(
    fit_features: pd.DataFrame,
    fit_labels: pd.Series,
    calibration_features: pd.DataFrame,
    calibration_labels: pd.Series,
) -> CalibratedClassifierCV:
    """Fit the booster on one set of cutoffs, then its calibration on a later, held-out cutoff."""
    booster = LGBMClassifier(**LGBM_PARAMS).fit(fit_features, fit_labels)
    calibrated = CalibratedClassifierCV(FrozenEstimator(booster), method=CALIBRATION_METHOD)
    return calibrated.fit(calibration_features, calibration_labels)


def churn_probability(estimator: CalibratedClassifierCV, features: pd.DataFrame) -> pd.Series:
    """The calibrated probability of churn for each row of `features`, in the same index."""
    probabilities = estimator.predict_proba(features)[:, 1]
    return pd.Series(probabilities, index=features.index, name="churn_probability")
