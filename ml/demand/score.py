"""Daily forecasts with their interval, days of cover and a reorder quantity per product.

* **Days of cover**: how many days the current ERP stock lasts at the p50 forecast — the
  day on which the cumulative forecast reaches the stock, interpolated within the day; past
  the 28-day horizon it is extrapolated at the horizon's mean daily p50 (and is infinite, left
  empty, for a product forecast to sell nothing).
* **Reorder quantity**: enough to bring the stock up to the p50 demand of the next 28 days
  plus a safety stock for a 90% service level, rounded up to whole units: the safety stock
  is 1.2816 standard deviations of the 28-day demand, each day's deviation read from its
  p10-p90 interval (z = 1.2816 for both) and the days taken as independent.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.demand.features import HORIZON_DAYS, sales_matrix
from ml.demand.model import DemandModel, forecast

Z_90 = 1.2816

FORECAST_COLUMNS = (
    "product_id",
    "forecast_date",
    "horizon_date",
    "horizon_days",
    "p10",
    "p50",
    "p90",
    "stock_on_hand",
    "days_of_cover",
    "reorder_qty",
)


def days_of_cover(p50: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """Days until the cumulative p50 reaches `stock` (NaN when nothing is forecast to sell)."""
    cumulative = np.cumsum(p50, axis=1)
    cover = np.full(len(stock), np.nan)
    for row, (sold, on_hand) in enumerate(zip(cumulative, stock, strict=True)):
        if np.isnan(on_hand):
            continue
        if on_hand <= 0:
            cover[row] = 0.0
            continue
        reached = np.searchsorted(sold, on_hand)
        if reached < len(sold):
            before = sold[reached - 1] if reached else 0.0
            cover[row] = reached + (on_hand - before) / max(sold[reached] - before, 1e-12)
        elif sold[-1] > 0:
            cover[row] = on_hand / (sold[-1] / len(sold))
    return cover


def reorder_quantity(p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """Units to order now to cover 28 days of p50 demand plus a 90% safety stock."""
    daily_sd = (p90 - p10) / (2 * Z_90)
    safety = Z_90 * np.sqrt((daily_sd**2).sum(axis=1))
    order_up_to = p50.sum(axis=1) + safety
    on_hand = np.nan_to_num(stock, nan=0.0).clip(min=0)
    return np.ceil(np.maximum(order_up_to - on_hand, 0.0) - 1e-9).clip(min=0)


def forecast_products(
    model: DemandModel, lines: pd.DataFrame, stock: pd.Series, as_of: date, products: pd.Index | None = None
) -> pd.DataFrame:
    """One row per product and day of the 28 days after `as_of`, in `FORECAST_COLUMNS`.

    `stock` is the stock on hand per product id (ERP), NaN or absent when unknown. Only lines
    placed up to the end of `as_of` are read, their cancellations as seen at its end (the
    model's history at scoring is cut as its backtests were). Rows are sorted by product and day.
    """
    cutoff = as_of + timedelta(days=1)
    if products is None:
        products = pd.Index(sorted(set(stock.index) | set(lines["product_id"].unique())), name="product_id")
    matrix = sales_matrix(lines, cutoff, products).until(cutoff)  # as seen at the cutoff (ml.cancellations)
    if matrix.days == 0 or len(products) == 0:
        return pd.DataFrame(columns=list(FORECAST_COLUMNS))
    predicted = forecast(model, matrix)
    on_hand = stock.reindex(products).to_numpy(dtype="float64")
    cover = days_of_cover(predicted.p50, on_hand)
    reorder = reorder_quantity(predicted.p10, predicted.p50, predicted.p90, on_hand)
    count = len(products)
    horizon = np.arange(1, HORIZON_DAYS + 1)
    return pd.DataFrame(
        {
            "product_id": np.repeat(products.to_numpy(), HORIZON_DAYS),
            "forecast_date": as_of,
            "horizon_date": np.tile([cutoff + timedelta(days=int(step) - 1) for step in horizon], count),
            "horizon_days": np.tile(horizon, count),
            "p10": predicted.p10.ravel(),
            "p50": predicted.p50.ravel(),
            "p90": predicted.p90.ravel(),
            "stock_on_hand": np.repeat(on_hand, HORIZON_DAYS),
            "days_of_cover": np.repeat(cover, HORIZON_DAYS),
            "reorder_qty": np.repeat(reorder, HORIZON_DAYS),
        }
    )
