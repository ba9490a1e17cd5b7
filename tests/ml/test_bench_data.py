"""The benchmark's CDNOW data set, read from the file the `lifetimes` package ships, as `marts.fct_orders`."""

from __future__ import annotations

from importlib.util import find_spec

import pandas as pd
import pytest

from bench.ml_data import cdnow
from ml.churn.features import validate_orders

pytestmark = pytest.mark.skipif(find_spec("lifetimes") is None, reason="the bench extra (lifetimes) is not installed")


def test_cdnow_is_the_published_data_set_as_orders():
    orders = cdnow()
    validate_orders(orders)
    # The figures of the data set's description: 23,570 customers, 69,659 purchases, Jan 1997 to Jun 1998.
    assert len(orders) == 69_659 and orders["order_id"].is_unique
    assert orders["customer_id"].nunique() == 23_570
    assert orders["ordered_at"].min() == pd.Timestamp("1997-01-01", tz="UTC")
    assert orders["ordered_at"].max() == pd.Timestamp("1998-06-30", tz="UTC")
    assert orders["ordered_at"].is_monotonic_increasing
    assert round(orders["amount_total"].sum(), 2) == 2_500_315.63
    # Every customer's first purchase is in the first quarter of 1997: the cohort the paper follows.
    assert orders.groupby("customer_id")["ordered_at"].min().max() < pd.Timestamp("1997-04-01", tz="UTC")
    # Two purchases on one day stay two orders (customer 00002 made two on 1997-01-12: $12.00 and $77.00).
    second = orders.loc[orders["customer_id"] == "00002"]
    assert sorted(second["amount_total"]) == [12.0, 77.0]
    assert (second["ordered_at"] == pd.Timestamp("1997-01-12", tz="UTC")).all()
