"""Demand series: one per product, or per product and warehouse when the ERP names them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.demand.series import NO_WAREHOUSE, demand_series, split_series

AT = pd.Timestamp("2026-11-01T10:00", tz="UTC")


def _lines(rows: list[tuple[str, str | None, float]]) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [f"o{n}" for n in range(len(rows))],
        "product_id": [row[0] for row in rows],
        "warehouse_id": [row[1] for row in rows],
        "quantity": [row[2] for row in rows],
        "ordered_at": AT,
    })


def _stock(rows: list[tuple[str, str | None, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["product_id", "warehouse_id", "stock_on_hand"])


def test_without_warehouses_there_is_one_series_per_product():
    lines = _lines([("p1", None, 2), ("p2", None, 1)])
    keyed, stock = demand_series(lines, _stock([("p1", None, 5.0), ("p2", None, np.nan)]))

    assert list(keyed["product_id"]) == ["p1", "p2"] and "warehouse_id" not in keyed
    assert stock.index.tolist() == ["p1", "p2"] and stock["p1"] == 5.0 and np.isnan(stock["p2"])


def test_each_warehouse_gets_its_own_series_and_stock():
    lines = _lines([("p1", "1", 3), ("p1", "2", 1), ("p1", None, 1), ("p2", "2", 4), ("p3", "1", 1)])
    stock = _stock([("p1", "1", 10.0), ("p1", "2", 0.0), ("p2", None, 7.0)])

    keyed, on_hand = demand_series(lines, stock)

    # the web line of p1 (no warehouse yet) counts for warehouse 1, which ships most of p1;
    # p2's stock outside any warehouse goes to warehouse 2, the only one selling it;
    # p3 is not an active product (not in the stock), so it is not forecast
    assert keyed["product_id"].tolist() == ["p1@1", "p1@2", "p1@1", "p2@2"]
    assert on_hand.to_dict() == {"p1@1": 10.0, "p1@2": 0.0, "p2@2": 7.0}


def test_a_product_stocked_where_it_never_sold_is_forecast_there_too():
    lines = _lines([("p1", "1", 2), ("p1", "3", 1), ("p2", "1", 1)])
    keyed, on_hand = demand_series(lines, _stock([("p1", "1", 1.0), ("p1", "2", 9.0), ("p2", None, np.nan)]))

    assert keyed["product_id"].tolist() == ["p1@1", "p1@3", "p2@1"]
    # no quant of p1 in warehouse 3: none there; p2's stock is unknown (not an ERP product)
    assert {key: value for key, value in on_hand.items() if key != "p2@1"} == {"p1@1": 1.0, "p1@2": 9.0, "p1@3": 0.0}
    assert np.isnan(on_hand["p2@1"])


def test_split_series_gives_back_product_and_warehouse():
    forecasts = pd.DataFrame({"product_id": ["p1@1", "p1@2"], "p50": [1.0, 2.0]})
    assert split_series(forecasts)[["product_id", "warehouse_id"]].values.tolist() == [["p1", "1"], ["p1", "2"]]
    per_product = split_series(pd.DataFrame({"product_id": ["p1"], "p50": [1.0]}))
    assert per_product["warehouse_id"].tolist() == [NO_WAREHOUSE]


def test_unassigned_sales_follow_real_sales_then_stock():
    lines = _lines([("p1", "2", 5), ("p1", "1", -9), ("p1", None, 1), ("p2", None, 1), ("p3", "1", 1)])
    lines["is_cancelled"] = [False, False, False, False, False]
    stock = _stock([("p1", "1", 3.0), ("p2", "2", 4.0), ("p3", "1", 1.0)])

    keyed, _ = demand_series(lines, stock)

    # p1: the return in warehouse 1 is not a sale, so 2 ships most; p2 never shipped: it is stocked in 2
    assert keyed["product_id"].tolist() == ["p1@2", "p1@1", "p1@2", "p2@2", "p3@1"]


def test_a_warehouse_that_stopped_selling_a_product_it_holds_none_of_gets_no_series():
    lines = _lines([("p1", "1", 1), ("p1", "2", 1)])
    lines.loc[1, "ordered_at"] = AT - pd.Timedelta(days=400)
    _, on_hand = demand_series(lines, _stock([("p1", "1", 2.0)]))

    assert on_hand.to_dict() == {"p1@1": 2.0}


def test_no_forecast_splits_to_no_rows():
    empty = split_series(pd.DataFrame(columns=["product_id", "p50"]))
    assert empty.empty and "warehouse_id" in empty


def test_a_sale_cancelled_after_the_scoring_cutoff_still_makes_a_series_and_one_cancelled_before_does_not():
    lines = _lines([("p1", "1", 2), ("p1", "2", 1), ("p2", "1", 1), ("p2", "2", 1)]).assign(
        is_cancelled=[False, True, False, True],
        cancelled_at=pd.to_datetime([None, "2026-11-09", None, "2026-11-03"], utc=True))
    stock = _stock([("p1", "1", 1.0), ("p2", "1", 1.0)])

    _, on_hand = demand_series(lines, stock, pd.Timestamp("2026-11-05", tz="UTC"))
    _, today = demand_series(lines, stock)

    assert on_hand.index.tolist() == ["p1@1", "p1@2", "p2@1"]  # p1's sale in warehouse 2 was one on the 5th
    assert today.index.tolist() == ["p1@1", "p2@1"]  # by default, the cancellations known now
