"""The churn references' picture of a customer's year (bench.ml_churn_reference.history_bins)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from bench.ml_churn_reference import BINS, history_bins


def _orders(rows):
    return pd.DataFrame(
        [{"order_id": str(i), "customer_id": c, "ordered_at": pd.Timestamp(at, tz="UTC"), "amount_total": amount,
          "is_cancelled": cancelled, "channel": "web"} for i, (c, at, amount, cancelled) in enumerate(rows)])


def test_purchase_days_and_amounts_fall_in_four_week_bins_before_the_cutoff():
    orders = _orders([
        ("a", "2011-06-10 09:00", 10.0, False),  # the day before the cutoff: bin 0
        ("a", "2011-06-10 17:00", 5.0, False),  # the same day again: one purchase day, both amounts
        ("a", "2011-05-14", 7.0, False),  # 28 days before: bin 1
        ("a", "2011-05-15", 3.0, True),  # cancelled: not counted
        ("a", "2010-06-13", 2.0, False),  # 363 days before: the last bin
        ("a", "2010-06-12", 99.0, False),  # 364 days before: outside the year
        ("a", "2011-06-11", 50.0, False),  # on the cutoff: after it
        ("b", "2011-01-01", 4.0, False),
    ])
    bins = history_bins(orders, date(2011, 6, 11), pd.Index(["a", "b", "c"], name="customer_id"))
    assert list(bins.index) == ["a", "b", "c"] and bins.shape == (3, 2 * BINS)
    a = bins.loc["a"]
    assert (a["days_0"], a["amount_0"]) == (1, 15.0)
    assert (a["days_1"], a["amount_1"]) == (1, 7.0)
    assert (a[f"days_{BINS - 1}"], a[f"amount_{BINS - 1}"]) == (1, 2.0)
    assert a.filter(like="days_").sum() == 3 and a.filter(like="amount_").sum() == 24.0
    # 161 days before the cutoff: bin 5
    assert bins.loc["b", "days_5"] == 1 and bins.loc["b"].filter(like="days_").sum() == 1
    assert (bins.loc["c"] == 0).all()  # a customer without orders in the year
