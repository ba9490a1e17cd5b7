"""The demand baselines: naive, seasonal naive (7), 28-day mean, Croston, and AutoETS.

Each takes the history `units` (products × days, the last column the day before the
forecast) and returns forecasts of shape (products, horizon), vectorised across products.
AutoETS is a small, self-written additive exponential smoothing with weekly seasonality and
an optional damped trend (statsforecast would need pandas < 3): every product picks, by AIC,
its smoothing parameters from a grid, fitted on one-step-ahead squared errors.
"""

from __future__ import annotations

import itertools

import numpy as np

SEASON = 7
CROSTON_ALPHA = 0.1
ETS_FIT_DAYS = 364
ETS_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
ETS_BETAS = (0.0, 0.01, 0.05)  # 0: no trend
ETS_PHIS = (0.8, 0.9, 0.98)
ETS_GAMMAS = (0.01, 0.05, 0.1, 0.2)


def naive(units: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(units[:, -1:], horizon, axis=1)


def seasonal_naive(units: np.ndarray, horizon: int, season: int = SEASON) -> np.ndarray:
    last_season = units[:, -season:]
    return np.tile(last_season, (1, -(-horizon // season)))[:, :horizon]


def window_mean(units: np.ndarray, horizon: int, window: int = 28) -> np.ndarray:
    return np.repeat(units[:, -window:].mean(axis=1, keepdims=True), horizon, axis=1)


def croston(units: np.ndarray, horizon: int, alpha: float = CROSTON_ALPHA) -> np.ndarray:
    """Croston's method: smoothed non-zero demand size over smoothed interval between demands."""
    count = units.shape[0]
    size, interval = np.full(count, np.nan), np.full(count, np.nan)
    since = np.ones(count)
    for day in range(units.shape[1]):
        value = units[:, day]
        demand = value > 0
        first = demand & np.isnan(size)
        size = np.where(first, value, size)
        interval = np.where(first, since, interval)
        update = demand & ~first
        size = np.where(update, size + alpha * (value - size), size)
        interval = np.where(update, interval + alpha * (since - interval), interval)
        since = np.where(demand, 1.0, since + 1.0)
    rate = np.where(np.isnan(size), 0.0, size / np.where(np.isnan(interval), 1.0, interval))
    return np.repeat(rate[:, None], horizon, axis=1)


def auto_ets(units: np.ndarray, horizon: int) -> np.ndarray:
    """Additive ETS (A,N,A) or (A,Ad,A), weekly season; parameters per product by AIC on a grid."""
    history = units[:, -ETS_FIT_DAYS:]
    count, days = history.shape
    grid = [
        (alpha, beta, phi if beta > 0 else 1.0, gamma)
        for alpha, beta, phi, gamma in itertools.product(ETS_ALPHAS, ETS_BETAS, ETS_PHIS, ETS_GAMMAS)
        if beta > 0 or phi == ETS_PHIS[0]
    ]
    alpha, beta, phi, gamma = (np.array(values)[:, None] for values in zip(*grid, strict=True))
    combos = len(grid)
    start = history[:, : 2 * SEASON]
    level = np.broadcast_to(start.mean(axis=1), (combos, count)).copy()
    trend = np.zeros((combos, count))
    seasonal = np.broadcast_to(
        (start[:, :SEASON] + start[:, SEASON:]) / 2 - start.mean(axis=1, keepdims=True), (combos, count, SEASON)
    ).copy()
    sse = np.zeros((combos, count))
    for day in range(days):
        slot = day % SEASON
        value = history[:, day]
        base = level + phi * trend
        error = value - (base + seasonal[:, :, slot])
        sse += error**2
        new_level = base + alpha * error
        trend = phi * trend + alpha * beta * error
        seasonal[:, :, slot] += gamma * (1 - alpha) * error
        level = new_level
    parameters = 2 + SEASON + 1 + (beta[:, 0] > 0) * 2
    aic = days * np.log(np.maximum(sse, 1e-9) / days) + 2 * parameters[:, None]
    best = np.argmin(aic, axis=0)
    pick = np.arange(count)
    level, trend, seasonal = level[best, pick], trend[best, pick], seasonal[best, pick]
    damping = phi[best, 0]
    steps = np.arange(1, horizon + 1)
    damped_sum = np.cumsum(damping[:, None] ** steps[None, :], axis=1)
    slots = (days + steps - 1) % SEASON
    forecast = level[:, None] + damped_sum * trend[:, None] + seasonal[:, slots]
    return np.maximum(forecast, 0.0)


AUTO_ETS = "auto_ets"
SEASONAL_NAIVE = "seasonal_naive_7"
BASELINES = {
    "naive": naive,
    SEASONAL_NAIVE: seasonal_naive,
    "mean_28": window_mean,
    "croston": croston,
    AUTO_ETS: auto_ets,
}
