"""Daily demand per product, and the features of the global demand model, from order lines.

Demand is read from `marts.fct_order_lines`: the units sold per product per calendar day
(UTC), counting lines with a positive quantity of orders that were not cancelled. A *cutoff*
is midnight UTC starting a day: history is every day strictly before it, and the forecast
covers the `HORIZON_DAYS` days from it. As in the churn job, `as_of` (the last business day
the warehouse holds) gives the cutoff `as_of + 1 day`.

The model is recursive with lags of at least a week: the features of day t read only days up
to t - 7, so the first week of a forecast uses observed sales only, and later weeks use the
model's own forecasts of the days before (as Nixtla's mlforecast does). `SalesMatrix` keeps
the series as a products × days matrix so that every feature is one vectorised operation.

Cancellations follow `ml.cancellations`. `sales_matrix` counts them as the warehouse holds
them now: its days are the truth a backtest measures a forecast against. `SalesMatrix.until`
is the history a model is fitted on or forecasts from at a cutoff, as seen then: the units of
an order cancelled at or after that cutoff (`cancelled_at`) count as sold again, so a model
trained or measured at a past cutoff never learns from cancellations that came later. The
lines of orders cancelled without a date (or without the column) never count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.cancellations import ALWAYS, NEVER, cancelled_since, cancelled_then

HORIZON_DAYS = 28
MIN_LAG_DAYS = 7
LAGS = (7, 14, 21, 28)
ROLLING_WINDOWS = (7, 28, 84)
LINE_COLUMNS = ("product_id", "ordered_at", "quantity")
# Days of history a forecast origin needs for its longest feature (the 84-day mean at lag 7).
FEATURE_HISTORY_DAYS = MIN_LAG_DAYS + max(ROLLING_WINDOWS)
STATS_WINDOW_DAYS = 364
WINSOR_QUANTILE = 0.95

FEATURE_COLUMNS = (
    *(f"lag_{lag}" for lag in LAGS),
    *(f"mean_{window}" for window in ROLLING_WINDOWS),
    "same_weekday_mean_4",
    "zero_share_28",
    "trend_7_84",
    "day_of_week",
    "day_of_month",
    "product_mean",
    "product_weekday_share",
    "product_zero_share",
    "product_price",
)


@dataclass(frozen=True)
class SalesMatrix:
    """Units sold: one row per product, one column per day from `start` (inclusive).

    `daily_prices` holds each product's median unit price of each day it sold (NaN on other
    days, or when the lines carry no price), so that `prices`, like every other feature, is
    computed from the days the matrix holds: `until` cuts the prices with the units.

    `cancelled` holds the sold lines the matrix leaves out as cancelled but whose cancellation
    is dated (`row`, `day` index, `quantity`, `unit_price`, `since`: `ml.cancellations.
    cancelled_since`): `until` counts those cancelled at or after its cutoff as sold again.
    """

    products: pd.Index
    start: date
    units: np.ndarray  # float64, shape (products, days)
    daily_prices: np.ndarray | None = None  # float32, shape (products, days)
    cancelled: pd.DataFrame | None = None

    @property
    def days(self) -> int:
        return self.units.shape[1]

    @property
    def prices(self) -> pd.Series:
        """Per product, the median over its selling days of the day's median unit price (NaN: none)."""
        if self.daily_prices is None or not self.daily_prices.size:
            return pd.Series(np.nan, index=self.products, dtype="float64")
        known = ~np.isnan(self.daily_prices)
        median = np.full(len(self.products), np.nan)
        rows = known.any(axis=1)
        median[rows] = np.nanmedian(self.daily_prices[rows], axis=1)
        return pd.Series(median, index=self.products, dtype="float64")

    def day_index(self, day: date) -> int:
        return (day - self.start).days

    def date_of(self, index: int) -> date:
        return self.start + timedelta(days=index)

    def until(self, cutoff: date) -> SalesMatrix:
        """The same products with only the days before `cutoff` (prices included), as seen at `cutoff`.

        A line this matrix leaves out as cancelled counts as sold when its order was cancelled
        at or after `cutoff` (`ml.cancellations`); on a day when nothing else of the product sold
        the day's price becomes the median price of those lines (a day that sold otherwise keeps
        its price).
        """
        end = self.day_index(cutoff)
        units = self.units[:, :end].copy()
        prices = None if self.daily_prices is None else self.daily_prices[:, :end].copy()
        cancelled = self.cancelled
        if cancelled is not None and len(cancelled):
            cancelled = cancelled.loc[cancelled["day"].to_numpy() < end]
            still = cancelled_then(cancelled["since"].to_numpy(), cutoff_instant(cutoff))
            sold = cancelled.loc[~still]
            cancelled = cancelled.loc[still]
            if len(sold):
                row, day = sold["row"].to_numpy(), sold["day"].to_numpy()
                if prices is not None:
                    medians = sold["unit_price"].astype("float64").groupby([row, day]).median()
                    at = (medians.index.get_level_values(0), medians.index.get_level_values(1))
                    unsold = units[at] == 0
                    prices[at[0][unsold], at[1][unsold]] = medians.to_numpy()[unsold]
                np.add.at(units, (row, day), sold["quantity"].to_numpy(dtype="float64"))
        return SalesMatrix(self.products, self.start, units, prices, cancelled)


def cutoff_instant(cutoff: date) -> pd.Timestamp:
    return pd.Timestamp(cutoff).tz_localize("UTC")


def validate_lines(lines: pd.DataFrame) -> None:
    missing = [column for column in LINE_COLUMNS if column not in lines.columns]
    if missing:
        raise ValueError(f"order lines lack the columns {missing}; expected {list(LINE_COLUMNS)}")
    if getattr(lines["ordered_at"].dtype, "tz", None) is None:
        raise ValueError("order lines' ordered_at must be timezone-aware (UTC), as in marts.fct_order_lines")


def sales_matrix(
    lines: pd.DataFrame, cutoff: date, products: pd.Index | None = None, start: date | None = None
) -> SalesMatrix:
    """Daily units per product from the lines placed strictly before `cutoff`.

    `products` fixes the rows (in that order; a product without sales is a row of zeros);
    by default every product sold. Days run from `start` (default: the first sale) to the
    day before `cutoff`. Lines with `is_cancelled` true, when the column exists, are left out
    (cancelled now: the truth of these days); those with a `cancelled_at` are kept aside in
    `SalesMatrix.cancelled`, so that `until` sees them as a past cutoff saw them.
    """
    validate_lines(lines)
    placed = lines.loc[(lines["ordered_at"] < cutoff_instant(cutoff)) & (lines["quantity"] > 0)]
    since = cancelled_since(placed)
    sold = placed.loc[since == NEVER]
    dated = (since != NEVER) & (since != ALWAYS)  # cancelled now, at a known date: a sale before it
    dated = placed.loc[dated].assign(since=since[dated])
    if products is None:
        products = pd.Index(sorted(set(sold["product_id"]) | set(dated["product_id"])), name="product_id")
    sold = sold.loc[sold["product_id"].isin(products)]
    if start is None:
        first = pd.concat([sold["ordered_at"], dated.loc[dated["product_id"].isin(products), "ordered_at"]]).min()
        start = first.date() if pd.notna(first) else cutoff - timedelta(days=1)
    days = (cutoff - start).days
    sold = sold.loc[sold["ordered_at"] >= cutoff_instant(start)]
    day = ((sold["ordered_at"] - cutoff_instant(start)) / pd.Timedelta(days=1)).astype("int64").to_numpy()
    row = products.get_indexer(sold["product_id"])
    units = np.zeros((len(products), max(days, 0)), dtype="float64")
    np.add.at(units, (row, day), sold["quantity"].to_numpy(dtype="float64"))
    daily_prices = None
    if "unit_price" in sold.columns:
        daily_prices = np.full(units.shape, np.nan, dtype="float32")
        medians = sold["unit_price"].astype("float64").groupby([row, day]).median()
        daily_prices[medians.index.get_level_values(0), medians.index.get_level_values(1)] = medians.to_numpy()
    return SalesMatrix(products=products, start=start, units=units, daily_prices=daily_prices,
                       cancelled=_cancelled_lines(dated, products, start) if len(dated) else None)


def _cancelled_lines(dated: pd.DataFrame, products: pd.Index, start: date) -> pd.DataFrame:
    """The lines of `dated` (cancelled now, with a date) on the matrix's rows and days (`SalesMatrix.cancelled`)."""
    dated = dated.loc[dated["product_id"].isin(products) & (dated["ordered_at"] >= cutoff_instant(start))]
    return pd.DataFrame({
        "row": products.get_indexer(dated["product_id"]),
        "day": ((dated["ordered_at"] - cutoff_instant(start)) / pd.Timedelta(days=1)).astype("int64").to_numpy(),
        "quantity": dated["quantity"].to_numpy(dtype="float64"),
        "unit_price": dated["unit_price"].to_numpy(dtype="float64") if "unit_price" in dated.columns else np.nan,
        "since": dated["since"].to_numpy(dtype=np.int64),
    })


def winsorise(matrix: SalesMatrix, quantile: float = WINSOR_QUANTILE) -> SalesMatrix:
    """Cap each product's daily units at the `quantile` of its own selling days in `matrix`."""
    selling = np.where(matrix.units > 0, matrix.units, np.nan)
    has_sales = (matrix.units > 0).any(axis=1)
    caps = np.full(len(matrix.products), np.inf)
    if has_sales.any():
        caps[has_sales] = np.nanquantile(selling[has_sales], quantile, axis=1)
    return SalesMatrix(matrix.products, matrix.start, np.minimum(matrix.units, caps[:, None]), matrix.daily_prices)


def product_statistics(matrix: SalesMatrix) -> pd.DataFrame:
    """Per product, from the last `STATS_WINDOW_DAYS` days of `matrix`: mean, weekday shares, price."""
    window = matrix.units[:, -STATS_WINDOW_DAYS:]
    first_day = matrix.days - window.shape[1]
    weekdays = np.array([matrix.date_of(first_day + offset).weekday() for offset in range(window.shape[1])])
    mean = window.mean(axis=1)
    shares = np.ones((len(matrix.products), 7))
    for weekday in range(7):
        on_day = window[:, weekdays == weekday]
        if on_day.shape[1]:
            shares[:, weekday] = np.divide(on_day.mean(axis=1), mean, out=np.ones_like(mean), where=mean > 0)
    return pd.DataFrame(
        {
            "product_mean": mean,
            "product_zero_share": (window == 0).mean(axis=1),
            "product_price": matrix.prices.to_numpy(),
        },
        index=matrix.products,
    ).join(pd.DataFrame(shares, index=matrix.products, columns=[f"weekday_share_{d}" for d in range(7)]))


def features_for_day(units: np.ndarray, day: int, weekday: int, day_of_month: int, stats: pd.DataFrame) -> np.ndarray:
    """The feature matrix (products × `FEATURE_COLUMNS`) of target day index `day`.

    Reads only `units[:, : day - MIN_LAG_DAYS + 1]`: the value of day t is never a feature of
    any day before t + 7. Needs `day >= FEATURE_HISTORY_DAYS`.
    """
    last = day - MIN_LAG_DAYS  # the most recent day a feature may read
    columns = [units[:, day - lag] for lag in LAGS]
    for window in ROLLING_WINDOWS:
        columns.append(units[:, last - window + 1 : last + 1].mean(axis=1))
    columns.append(np.mean([units[:, day - lag] for lag in LAGS], axis=0))
    columns.append((units[:, last - 27 : last + 1] == 0).mean(axis=1))
    mean_7, mean_84 = columns[len(LAGS)], columns[len(LAGS) + 2]
    columns.append(np.divide(mean_7, mean_84, out=np.full_like(mean_7, np.nan), where=mean_84 > 0))
    count = units.shape[0]
    columns.append(np.full(count, weekday, dtype="float64"))
    columns.append(np.full(count, day_of_month, dtype="float64"))
    columns.append(stats["product_mean"].to_numpy())
    columns.append(stats[f"weekday_share_{weekday}"].to_numpy())
    columns.append(stats["product_zero_share"].to_numpy())
    columns.append(stats["product_price"].to_numpy())
    return np.column_stack(columns)


def training_rows(matrix: SalesMatrix, training_days: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and targets of the last `training_days` days of `matrix`, every product.

    The product statistics are those of the whole matrix (history before its end only).
    """
    stats = product_statistics(matrix)
    first = max(FEATURE_HISTORY_DAYS, matrix.days - training_days)
    blocks, targets = [], []
    for day in range(first, matrix.days):
        when = matrix.date_of(day)
        blocks.append(features_for_day(matrix.units, day, when.weekday(), when.day, stats))
        targets.append(matrix.units[:, day])
    if not blocks:
        return pd.DataFrame(columns=list(FEATURE_COLUMNS), dtype="float64"), np.array([])
    features = pd.DataFrame(np.vstack(blocks), columns=list(FEATURE_COLUMNS))
    return features, np.concatenate(targets)
