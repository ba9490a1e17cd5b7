"""The two or three reasons behind each churn score, in words a salesperson can act on.

Whatever scores a customer (`ml.churn.model`: LightGBM, the robust logistic regression, or
BG/NBD or recency when the gate ships them instead) says how much each of its inputs moves the score
away from a typical customer's: SHAP values for LightGBM, each term of the log-odds for the
logistic, and for BG/NBD the change of its score when one input alone (repeat purchases,
days since the last, age) is set to the median customer's. Those are summed into a few
themes — how long since the last order against their usual rhythm, how often they order,
how much they spend, what they buy, returns, how long they have been a customer. The themes
that push the score the most *in the direction of the verdict* (towards churn for a medium
or high risk, towards staying for a low one) are written out with the customer's own
figures, strongest first: "no order in 120 days, usually orders every 30".

Each customer also gets `reason_codes`: the themes named, as stable codes in a fixed order
(`rhythm,frequency`; `none` when no factor stands out). The text carries today's figures and
changes nearly every night; the codes change only when the reasons do, so a system that
should hear only of a new *kind* of reason can compare those.

Everything is computed for all customers at once (no loop over customers).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ml.churn.baselines import bgnbd_contributions, no_purchase_score
from ml.churn.features import LABEL_WINDOW_DAYS
from ml.churn.model import (
    BGNBD,
    BGNBD_NO_PURCHASE,
    EXPECTED_FLOOR,
    PROBABILITY_FLOOR,
    RECENCY,
    CalibratedBaseline,
)

MAX_REASONS = 3
MIN_SHARE = 0.1  # a theme is named only if it carries at least this share of the strongest one
NO_REASON = "no single factor stands out"
NO_REASON_CODE = "none"

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
        "bgnbd_p_no_purchase_90d",
        "log_recency",
        "log_overdue",
        "one_purchase",
        "bgnbd_days_since_last",
    ),
    "frequency": (
        "orders_30d",
        "orders_90d",
        "orders_180d",
        "orders_365d",
        "purchase_days_90d",
        "purchase_days_365d",
        "bgnbd_expected_90d",
        "log_bgnbd_expected",
        "log_purchase_days_365d",
        "log_purchase_days_90d",
        "bgnbd_repeat_days",
    ),
    "spend": ("amount_sum_365d", "amount_mean_365d", "amount_sum_90d", "basket_value_trend", "log_amount_365d",
              "unit_price_365d", "log_unit_price"),
    "range": ("distinct_products_365d", "lines_per_order_365d", "units_per_order_365d", "channel_count",
              "product_popularity_90d", "log_product_popularity"),
    "returns": ("cancelled_share", "returned_amount_share"),
    "tenure": ("tenure_days", "log_tenure", "bgnbd_age"),
    "service": ("tickets_365d", "complaints_90d", "complaints_365d", "open_complaint", "resolution_hours_median_365d",
                "log_complaints_365d", "log_resolution_days"),
}
_THEME_OF = {name: theme for theme, names in THEMES.items() for name in names}


def contributions(scorer, features: pd.DataFrame, orders: pd.DataFrame, cutoff: date) -> pd.DataFrame:
    """Per input of `scorer`, how much it moves each customer's churn score (rows of `features`).

    `orders` before `cutoff` are what BG/NBD is refitted on when it is the scorer.
    """
    if isinstance(scorer, CalibratedBaseline) and scorer.name == BGNBD:
        return bgnbd_contributions(orders, cutoff, features.index, LABEL_WINDOW_DAYS, EXPECTED_FLOOR)
    if isinstance(scorer, CalibratedBaseline) and scorer.name == BGNBD_NO_PURCHASE:
        return bgnbd_contributions(orders, cutoff, features.index, LABEL_WINDOW_DAYS, PROBABILITY_FLOOR,
                                   no_purchase_score)
    if isinstance(scorer, CalibratedBaseline) and scorer.name == RECENCY:
        raw = pd.Series(scorer.raw_score(features), index=features.index)
        return (raw - raw.median()).to_frame("recency_days")
    return scorer.contributions(features)


def by_theme(contributions: pd.DataFrame) -> pd.DataFrame:
    """`contributions` summed per theme (a theme none of the inputs belongs to is 0)."""
    unknown = [name for name in contributions.columns if name not in _THEME_OF]
    if unknown:
        raise ValueError(f"no reason theme for the churn inputs {unknown}: add them to ml.churn.reasons.THEMES")
    summed = contributions.T.groupby(contributions.columns.map(_THEME_OF)).sum().T
    return summed.reindex(columns=list(THEMES), fill_value=0.0)


def churn_reasons(
    contributions: pd.DataFrame, features: pd.DataFrame, probability: pd.Series, threshold: float
) -> pd.DataFrame:
    """Columns `reasons` (up to three, joined by "; ", strongest first) and `reason_codes`, per customer.

    `threshold` is the probability from which the verdict is "at risk" (the medium band);
    `features` holds the customer's own figures the words quote.
    """
    if features.empty:
        empty = pd.Series([], index=features.index, dtype="str")
        return pd.DataFrame({"reasons": empty, "reason_codes": empty})
    themes = by_theme(contributions).to_numpy()
    towards_verdict = np.where(probability.to_numpy() >= threshold, 1.0, -1.0)[:, None] * themes
    towards_verdict = np.where(towards_verdict > 0, towards_verdict, 0.0)
    order = np.argsort(-towards_verdict, axis=1, kind="stable")[:, :MAX_REASONS]
    strength = np.take_along_axis(towards_verdict, order, axis=1)
    kept = (strength > 0) & (strength >= MIN_SHARE * strength[:, :1])

    phrases = np.column_stack([_phrases(theme, features) for theme in THEMES]).astype(object)
    chosen = np.where(kept, np.take_along_axis(phrases, order, axis=1), "")
    reasons = pd.Series(chosen[:, 0], index=features.index, dtype="object")
    for slot in range(1, MAX_REASONS):
        reasons = reasons.str.cat(pd.Series(chosen[:, slot], index=features.index), sep="; ").str.rstrip("; ")
    reasons = reasons.mask(~kept[:, 0], NO_REASON)

    named = np.zeros_like(towards_verdict, dtype=bool)
    np.put_along_axis(named, order, kept, axis=1)
    codes = pd.Series("", index=features.index, dtype="object")
    for column, theme in enumerate(THEMES):
        codes = codes.where(~named[:, column], codes + "," + theme)
    codes = codes.str.lstrip(",").replace("", NO_REASON_CODE)
    return pd.DataFrame({"reasons": reasons.astype("str"), "reason_codes": codes.astype("str")})


def _number(values: pd.Series) -> pd.Series:
    return values.map(lambda value: "?" if pd.isna(value) else f"{value:,.0f}")


def _share(values: pd.Series) -> pd.Series:
    return values.map(lambda value: f"{value:.0%}")


def _phrases(theme: str, features: pd.DataFrame) -> np.ndarray:
    """The words of `theme` for every customer, with their own figures."""
    column = features.get
    if theme == "rhythm":
        since = "no order in " + _number(features["recency_days"]) + " days"
        usual = column("gap_median_days")
        if usual is None:
            return since.to_numpy()
        return np.where(usual.isna(), since + ", and only one order so far",
                        since + ", usually orders every " + _number(usual))
    if theme == "frequency":
        return (_number(features["orders_90d"]) + " orders in the last 90 days, "
                + _number(features["orders_365d"]) + " in the last year").to_numpy()
    if theme == "spend":
        text = "spent " + _number(features["amount_sum_365d"]) + " in the last year"
        price = column("unit_price_365d")
        if price is not None:
            per_unit = price.map(lambda value: f"{value:,.2f}" if value < 100 else f"{value:,.0f}")
            text = text.where(price.isna(), text + ", about " + per_unit + " per unit")
        trend = column("basket_value_trend")
        if trend is None:
            return text.to_numpy()
        change = (trend - 1).abs()
        direction = np.where(trend < 1, "smaller", "larger")
        return np.where(trend.notna() & (change >= 0.2),
                        text + ", recent orders " + _share(change) + " " + direction + " than usual", text)
    if theme == "range":
        products = column("distinct_products_365d")
        channels = "buys through " + _number(features["channel_count"]) + " channel(s)"
        if products is None:
            return channels.to_numpy()
        bought = "bought " + _number(products) + " different products in the last year"
        popularity = column("product_popularity_90d")
        if popularity is not None:
            # (the feature is a log: about how many customers bought each of them lately)
            bought = bought.where(popularity.isna(), bought + ", each bought by about "
                                  + _number(np.expm1(popularity)) + " customers in the last 90 days")
        return np.where(products.isna(), channels, bought)
    if theme == "returns":
        share = column("returned_amount_share", pd.Series(np.nan, index=features.index))
        share = share.fillna(features["cancelled_share"]).fillna(0.0)
        return ("returned or cancelled " + _share(share) + " of what they ordered").to_numpy()
    if theme == "service":
        complaints = column("complaints_365d", pd.Series(np.nan, index=features.index)).fillna(0)
        still_open = column("open_complaint", pd.Series(0.0, index=features.index)).fillna(0) > 0
        text = _number(complaints) + " complaint(s) in the last year"
        return np.where(still_open, text + ", one still open", text)
    return ("customer for " + _number(features["tenure_days"]) + " days").to_numpy()
