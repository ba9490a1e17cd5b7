"""Scoring customers with a trained churn model."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from ml.churn.features import build_features, cutoff_after, cutoff_instant
from ml.churn.reasons import NO_REASON, THEMES, churn_reasons
from ml.churn.score import HIGH_RISK_THRESHOLD, MEDIUM_RISK_THRESHOLD, risk_band, score_customers
from ml.churn.train import train_churn_model


def test_scoring_is_deterministic(trained, orders, as_of):
    first = score_customers(trained.model, orders, as_of)
    shuffled = orders.sample(frac=1.0, random_state=3)

    pd.testing.assert_frame_equal(score_customers(trained.model, shuffled, as_of), first)


def test_every_active_customer_gets_a_probability_and_its_band(trained, orders, as_of):
    scores = score_customers(trained.model, orders, as_of)

    assert scores.index.equals(build_features(orders, cutoff_after(as_of)).index)
    assert scores["churn_probability"].between(0, 1).all()
    assert scores["risk_band"].equals(risk_band(scores["churn_probability"]))
    assert set(scores["risk_band"]) == {"low", "medium", "high"}


def test_orders_after_the_scored_day_do_not_change_scores(trained, orders, as_of):
    earlier = as_of - timedelta(days=60)
    up_to_earlier = orders.loc[orders["ordered_at"] < cutoff_instant(cutoff_after(earlier))]

    pd.testing.assert_frame_equal(
        score_customers(trained.model, orders, earlier),
        score_customers(trained.model, up_to_earlier, earlier),
    )


def test_risk_bands_start_at_their_thresholds():
    probability = pd.Series(
        [
            0.0,
            MEDIUM_RISK_THRESHOLD - 1e-9,
            MEDIUM_RISK_THRESHOLD,
            HIGH_RISK_THRESHOLD - 1e-9,
            HIGH_RISK_THRESHOLD,
            1.0,
        ]
    )

    assert risk_band(probability).tolist() == ["low", "low", "medium", "medium", "high", "high"]


def test_no_active_customer_gives_an_empty_frame(trained, orders):
    day_before_the_first_order = orders["ordered_at"].min().date() - timedelta(days=1)
    scores = score_customers(trained.model, orders, day_before_the_first_order)

    assert scores.empty
    assert list(scores.columns) == ["churn_probability", "risk_band", "reasons", "reason_codes"]


def test_every_score_has_one_to_three_plain_reasons_and_their_codes(trained, orders, as_of):
    scores = score_customers(trained.model, orders, as_of)

    count = scores["reasons"].str.count("; ") + 1
    assert count.between(1, 3).all()
    stands_out = scores["reasons"] != NO_REASON
    assert (scores["reason_codes"].str.count(",") + 1).where(stands_out, 0).equals(count.where(stands_out, 0))
    assert set(",".join(scores["reason_codes"]).split(",")) <= {*THEMES, "none"}
    at_risk = scores.loc[scores["churn_probability"] >= MEDIUM_RISK_THRESHOLD, "reasons"]
    # the history's two warnings (conftest): a long silence against their rhythm, and cancelling before leaving
    silent = at_risk.str.contains(r"no order in \d+ days, (?:usually orders every \d+|and only one order so far)")
    cancelling = at_risk.str.contains(r"returned or cancelled \d+% of what they ordered")
    assert silent.mean() > 0.25 and cancelling.mean() > 0.25 and (silent | cancelling).mean() > 0.75


def test_reasons_by_hand():
    """Strongest theme first, only those pushing towards the verdict, none under a tenth of the strongest."""
    customers = pd.Index(["at_risk", "safe", "flat"], name="customer_id")
    features = pd.DataFrame(
        {"recency_days": [120.0, 5.0, 30.0], "gap_median_days": [30.0, np.nan, 10.0], "orders_90d": [0.0, 3.0, 1.0],
         "orders_365d": [4.0, 12.0, 5.0], "amount_sum_365d": [1500.0, 300.0, 80.0], "basket_value_trend": [0.5, 1.0, np.nan],
         "tenure_days": [400.0, 40.0, 90.0], "distinct_products_365d": [3.0, 2.0, 1.0], "channel_count": [1.0] * 3,
         "cancelled_share": [0.0] * 3, "returned_amount_share": [np.nan] * 3},
        index=customers,
    )
    contributions = pd.DataFrame(
        {"log_recency": [2.0, -0.5, 0.0], "log_purchase_days_90d": [0.5, -1.0, 0.0],
         "log_amount_365d": [0.05, 0.3, 0.0], "log_tenure": [-0.4, 0.2, 0.0]},
        index=customers,
    )
    probability = pd.Series([0.8, 0.1, 0.2], index=customers)

    reasons = churn_reasons(contributions, features, probability, MEDIUM_RISK_THRESHOLD)

    assert reasons.loc["at_risk", "reasons"] == (
        "no order in 120 days, usually orders every 30; 0 orders in the last 90 days, 4 in the last year")
    assert reasons.loc["at_risk", "reason_codes"] == "rhythm,frequency"  # spend is under a tenth of rhythm
    assert reasons.loc["safe", "reasons"] == ("3 orders in the last 90 days, 12 in the last year; "
                                              "no order in 5 days, and only one order so far")
    assert reasons.loc["safe", "reason_codes"] == "rhythm,frequency"  # codes in a fixed order, text by strength
    assert reasons.loc["flat"].tolist() == [NO_REASON, "none"]


def test_the_spend_reason_names_the_price_paid_per_unit():
    customers = pd.Index(["trade", "retail", "unknown"], name="customer_id")
    features = pd.DataFrame(
        {"amount_sum_365d": [1500.0, 90000.0, 80.0], "basket_value_trend": [1.0, 1.0, np.nan],
         "unit_price_365d": [2.456, 45000.0, np.nan], "recency_days": [50.0] * 3, "gap_median_days": [30.0] * 3,
         "orders_90d": [1.0] * 3, "orders_365d": [4.0] * 3, "tenure_days": [400.0] * 3,
         "distinct_products_365d": [3.0] * 3, "channel_count": [1.0] * 3, "cancelled_share": [0.0] * 3},
        index=customers,
    )
    contributions = pd.DataFrame({"log_unit_price": [1.0, 1.0, 1.0]}, index=customers)

    reasons = churn_reasons(contributions, features, pd.Series(0.8, index=customers), MEDIUM_RISK_THRESHOLD)

    assert reasons["reasons"].tolist() == ["spent 1,500 in the last year, about 2.46 per unit",
                                           "spent 90,000 in the last year, about 45,000 per unit",
                                           "spent 80 in the last year"]  # no price known: none said
    assert reasons["reason_codes"].tolist() == ["spend"] * 3


@pytest.mark.parametrize(("history", "baseline"), [("bgnbd_history", "bgnbd"),
                                                     ("no_purchase_history", "bgnbd_no_purchase")])
def test_bgnbd_scores_with_its_own_reasons(history, baseline, request, as_of):
    orders = request.getfixturevalue(history)
    trained = request.getfixturevalue("bgnbd_trained") if baseline == "bgnbd" else train_churn_model(orders, as_of)
    assert trained.scored_by == baseline

    scores = score_customers(trained.model, orders, as_of)

    assert scores["churn_probability"].between(0, 1).all() and len(scores) > 100
    named = set(",".join(scores["reason_codes"]).split(","))
    assert named <= {"rhythm", "frequency", "tenure", "none"} and "rhythm" in named
    assert scores["reasons"].str.len().gt(0).all()
