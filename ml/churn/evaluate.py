"""How good a churn score is on one labelled cutoff, and the baseline it must beat.

Every metric takes the labels (1 = churned) and a score where higher means "more likely to
churn", so a model and a rule of thumb are measured the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

TOP_SHARE = 0.10
RECENCY_BASELINE = "recency"


def classification_metrics(labels: pd.Series, scores: pd.Series) -> dict[str, float]:
    """ROC-AUC, PR-AUC and top-decile lift of `scores` against `labels`, with the base rate."""
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
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


def recency_baseline(features: pd.DataFrame, labels: pd.Series) -> dict[str, float]:
    """Metrics of the rule "the longer since the last purchase, the likelier the churn"."""
    return classification_metrics(labels, features["recency_days"])
