"""Scoring customers with a trained churn model."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from ml.churn.features import build_features, cutoff_after, cutoff_instant
from ml.churn.score import HIGH_RISK_THRESHOLD, MEDIUM_RISK_THRESHOLD, risk_band, score_customers


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
    assert list(scores.columns) == ["churn_probability", "risk_band", "reasons"]


def test_every_score_has_two_or_three_plain_reasons(trained, orders, as_of):
    scores = score_customers(trained.model, orders, as_of)

    count = scores["reasons"].str.count("; ") + 1
    assert count.between(1, 3).all()
    at_risk = scores.loc[scores["churn_probability"] >= MEDIUM_RISK_THRESHOLD, "reasons"]
    assert at_risk.str.contains(r"no order in \d+ days, (?:usually orders every \d+|and only one order so far)").mean() > 0.5
