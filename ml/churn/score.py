"""Score every active customer with a trained churn model."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ml.churn.features import build_features, cutoff_after
from ml.churn.model import ChurnModel, churn_probability
from ml.churn.reasons import churn_reasons, contributions

HIGH_RISK_THRESHOLD = 0.6
MEDIUM_RISK_THRESHOLD = 0.3
RISK_BANDS = ("low", "medium", "high")


def risk_band(probability: pd.Series) -> pd.Series:
    """`high` from 0.6, `medium` from 0.3, `low` below: the values the CRM field accepts."""
    bands = np.select(
        [probability >= HIGH_RISK_THRESHOLD, probability >= MEDIUM_RISK_THRESHOLD],
        ["high", "medium"],
        default="low",
    )
    return pd.Series(bands, index=probability.index, name="risk_band")


def score_customers(
    model: ChurnModel, orders: pd.DataFrame, as_of: date, lines: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Churn probability, risk band, reasons and reason codes of each customer active at the end of `as_of`.

    The scorer is `model.scoring`: the model, or the baseline its gate shipped instead when it was trained.

    Uses only orders (and order lines) placed up to the end of `as_of`. The result is indexed
    by `customer_id` in sorted order, so the same model and orders always give the same frame.
    """
    features = build_features(orders, cutoff_after(as_of), lines, tickets)
    missing = [name for name in model.features if name not in features.columns]
    if missing:
        raise ValueError(
            f"the churn model expects features {missing} that this version of Puente no longer "
            "computes: train a new churn model (train_churn) before scoring."
        )
    if features.empty:
        return pd.DataFrame(
            {
                "churn_probability": pd.Series(dtype="float64"),
                "risk_band": pd.Series(dtype="str"),
                "reasons": pd.Series(dtype="str"),
                "reason_codes": pd.Series(dtype="str"),
            },
            index=features.index,
        )
    used = features.loc[:, list(model.features)]
    probability = churn_probability(model.scoring, used)
    moved_by = contributions(model.scoring, used, orders, cutoff_after(as_of))
    reasons = churn_reasons(moved_by, features, probability, MEDIUM_RISK_THRESHOLD)
    return pd.concat([probability, risk_band(probability), reasons], axis=1)
