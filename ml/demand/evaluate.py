"""Accuracy of a demand forecast: WAPE on days and on weeks, MASE, bias, interval coverage.

All take `actual` and `forecast` as (products × horizon days) arrays; the history is the
(products × days) array before the horizon, used only to scale MASE.
"""

from __future__ import annotations

import numpy as np

WEEK = 7


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Sum of absolute errors over the sum of actuals, over every product and day."""
    return float(np.abs(actual - forecast).sum() / max(actual.sum(), 1e-9))


def weekly_wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """WAPE of the weekly sums (the horizon cut into consecutive 7-day weeks)."""
    weeks = actual.shape[1] // WEEK

    def weekly(values: np.ndarray) -> np.ndarray:
        return values[:, : weeks * WEEK].reshape(values.shape[0], weeks, WEEK).sum(axis=2)

    return wape(weekly(actual), weekly(forecast))


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray) -> float:
    """Mean over products of MAE / in-sample MAE of the one-day naive forecast (Hyndman's MASE).

    Products whose history never changes (scale 0) are left out.
    """
    scale = np.abs(np.diff(history, axis=1)).mean(axis=1)
    keep = scale > 0
    errors = np.abs(actual - forecast).mean(axis=1)
    return float((errors[keep] / scale[keep]).mean())


def bias(actual: np.ndarray, forecast: np.ndarray) -> float:
    """(Σ forecast − Σ actual) / Σ actual: positive means over-forecasting."""
    return float((forecast.sum() - actual.sum()) / max(actual.sum(), 1e-9))


def coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of product-days whose actual lies within [low, high]."""
    return float(((actual >= low) & (actual <= high)).mean())


def forecast_metrics(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray) -> dict[str, float]:
    return {
        "wape_daily": wape(actual, forecast),
        "wape_weekly": weekly_wape(actual, forecast),
        "mase": mase(actual, forecast, history),
        "bias": bias(actual, forecast),
    }
