"""The two or three reasons behind each churn score, in words a salesperson can act on.

Each feature's contribution to a customer's score (the booster's SHAP values, in log-odds)
is summed into a few themes — how long since the last order against their usual rhythm, how
often they order, how much they spend, what they buy, returns, how long they have been a
customer. The themes that push the score the most *in the direction of the verdict* (towards
churn for a medium or high risk, towards staying for a low one) are written out with the
customer's own figures, strongest first: "no order in 120 days, usually orders every 30".
"""

from __future__ import annotations

import math

import pandas as pd

from ml.churn.model import CalibratedBooster

MAX_REASONS = 3
MIN_SHARE = 0.1  # a theme is named only if it carries at least this share of the strongest one

THEMES = {
    "rhythm": (
        "recency_days",
        "gap_mean_days",
        "gap_std_days",
        "overdue_ratio",
        "gap_median_days",
        "gap_max_days",
        "gap_last_days",
        "recency_over_max_gap",
        "bgnbd_p_alive",
    ),
    "frequency": (
        "orders_30d",
        "orders_90d",
        "orders_180d",
        "orders_365d",
        "purchase_days_90d",
        "purchase_days_365d",
        "bgnbd_expected_90d",
    ),
    "spend": ("amount_sum_365d", "amount_mean_365d", "amount_sum_90d", "basket_value_trend"),
    "range": ("distinct_products_365d", "lines_per_order_365d", "units_per_order_365d", "channel_count"),
    "returns": ("cancelled_share", "returned_amount_share"),
    "tenure": ("tenure_days",),
}


def _number(value: float) -> str:
    return "?" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f}"


def _phrase(theme: str, row: pd.Series) -> str:
    if theme == "rhythm":
        usual = row.get("gap_median_days")
        if usual is None or math.isnan(usual):
            return f"no order in {_number(row['recency_days'])} days, and only one order so far"
        return f"no order in {_number(row['recency_days'])} days, usually orders every {_number(usual)}"
    if theme == "frequency":
        return f"{_number(row['orders_90d'])} orders in the last 90 days, {_number(row['orders_365d'])} in the last year"
    if theme == "spend":
        trend = row.get("basket_value_trend")
        text = f"spent {_number(row['amount_sum_365d'])} in the last year"
        if trend is not None and not math.isnan(trend) and abs(trend - 1) >= 0.2:
            text += f", recent orders {abs(trend - 1):.0%} {'smaller' if trend < 1 else 'larger'} than usual"
        return text
    if theme == "range":
        products = row.get("distinct_products_365d")
        if products is None or math.isnan(products):
            return f"buys through {_number(row['channel_count'])} channel(s)"
        return f"bought {_number(products)} different products in the last year"
    if theme == "returns":
        share = row.get("returned_amount_share")
        if share is None or math.isnan(share):
            share = row.get("cancelled_share", 0.0)
        return f"returned or cancelled {share:.0%} of what they ordered"
    return f"customer for {_number(row['tenure_days'])} days"


def churn_reasons(model: CalibratedBooster, features: pd.DataFrame, probability: pd.Series, threshold: float) -> pd.Series:
    """One string per customer: up to three reasons joined by "; ", strongest first.

    `threshold` is the probability from which the verdict is "at risk" (the medium band).
    """
    if features.empty:
        return pd.Series([], index=features.index, dtype="str", name="reasons")
    contributions = model.contributions(features)
    by_theme = pd.DataFrame(
        {
            theme: contributions.loc[:, [name for name in names if name in contributions.columns]].sum(axis=1)
            for theme, names in THEMES.items()
        }
    )
    reasons = []
    for customer, row in by_theme.iterrows():
        towards_churn = probability.loc[customer] >= threshold
        signed = row if towards_churn else -row
        ranked = signed[signed > 0].sort_values(ascending=False, kind="stable")
        if ranked.empty:
            reasons.append("no single factor stands out")
            continue
        kept = ranked[ranked >= MIN_SHARE * ranked.iloc[0]].index[:MAX_REASONS]
        reasons.append("; ".join(_phrase(theme, features.loc[customer]) for theme in kept))
    return pd.Series(reasons, index=features.index, name="reasons")
