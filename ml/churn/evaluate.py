"""How good a churn score is on one labelled cutoff, and the baseline it must beat.

Every metric takes the labels (1 = churned) and a score where higher means "more likely to
churn", so a model and a rule of thumb are measured the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score

TOP_SHARE = 0.10
CALIBRATION_BINS = 10


def classification_metrics(labels: pd.Series, scores: pd.Series) -> dict[str, float]:
    """ROC-AUC, PR-AUC and top-decile lift of `scores` against `labels`, with the base rate."""
    return {
        "roc_auc": roc_auc_or_nan(labels.to_numpy(), scores.to_numpy(dtype="float64")),
        "pr_auc": float(average_precision_score(labels, scores)),
        "top_decile_lift": top_share_lift(labels, scores),
        "churn_rate": float(labels.mean()),
        "customers": len(labels),
    }


def top_share_lift(labels: pd.Series, scores: pd.Series, share: float = TOP_SHARE) -> float:
    """Churn rate among the `share` highest scores divided by the overall churn rate.

    Ties are broken by the order of `labels` (a stable sort), so the result is reproducible.
    """
    top_count = max(1, math.ceil(len(scores) * share))
    order = np.argsort(-scores.to_numpy(dtype="float64"), kind="stable")
    top_rate = labels.to_numpy()[order[:top_count]].mean()
    return float(top_rate / labels.mean())


def expected_calibration_error(labels: pd.Series, probability: pd.Series, bins: int = CALIBRATION_BINS) -> float:
    """ECE: the gap between predicted and observed churn rates, averaged over 10 probability bins.

    Bins are of equal width on [0, 1]; each bin's gap |mean probability - churn rate| is
    weighted by its share of customers. 0.05 means that predictions are off by five
    percentage points on average.
    """
    predicted = probability.to_numpy(dtype="float64")
    observed = labels.to_numpy(dtype="float64")
    which = np.minimum((predicted * bins).astype(int), bins - 1)
    error = 0.0
    for index in range(bins):
        members = which == index
        if members.any():
            error += members.mean() * abs(predicted[members].mean() - observed[members].mean())
    return float(error)


def roc_auc_or_nan(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC by the rank-sum (Mann-Whitney) formula, ties counting a half; NaN with one class only.

    The same value as scikit-learn's, without its input checks: the promotion gate computes
    it on hundreds of bootstrap resamples (a resample of a tiny set can hold one class only).
    Every ROC-AUC of the churn job comes from here, so that champion and challenger measured
    on the same scores compare equal to the last bit (scikit-learn's trapezoids and this
    rank sum can differ there).
    """
    positives = labels == 1
    count = int(positives.sum())
    if count == 0 or count == len(labels):
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positives].sum() - count * (count + 1) / 2) / (count * (len(labels) - count)))
