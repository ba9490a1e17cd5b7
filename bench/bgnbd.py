"""A small BG/NBD model (Fader, Hardie and Lee, 2005), the churn benchmark's strongest baseline.

Fitted by maximum likelihood on each customer's repeat-purchase count ``x``, the time of the
last repeat purchase ``t_x`` and the customer's age ``T`` (all in days, from the first
purchase). The churn baseline score is minus the expected number of purchases in the label
window: fewer expected purchases means a likelier churner. (P(alive) is not used: it is 1 for
every one-time buyer, so it cannot rank them.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def expected_purchases(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[X(t) | x, t_x, T]: expected purchases in the next ``t`` days (eq. 10 of the paper)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
        second = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return first / second


def _negative_log_likelihood(log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    r, alpha, a, b = np.exp(log_params)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a1 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        a2 = np.where(
            x > 0,
            special.betaln(a + 1, b + x - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return -float(np.sum(common + np.logaddexp(a1, a2)))


# Parameters are fitted on the log scale within these bounds. On daily retail data the optimum
# often sits on the boundary "no dropout" (a → 0 or b → ∞), where any b gives the same
# likelihood; unbounded, the optimiser wanders to b ≈ 1e13 and eq. 10 overflows.
LOG_BOUNDS = [(-8.0, 8.0)] * 4


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:
    result = optimize.minimize(
        _negative_log_likelihood, x0=np.zeros(4), args=(x, t_x, T), method="L-BFGS-B", bounds=LOG_BOUNDS,
    )
    if not result.success:
        raise RuntimeError(f"BG/NBD fit did not converge: {result.message}")
    return BgNbd(*np.exp(result.x))


def summarise(purchase_days: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per customer ``x``, ``t_x``, ``T`` (days) from one row per (customer_id, purchase day)."""
    grouped = purchase_days.groupby("customer_id")["day"]
    first, last, count = grouped.min(), grouped.max(), grouped.nunique()
    return pd.DataFrame({
        "x": (count - 1).astype(float),
        "t_x": (last - first).dt.days.astype(float),
        "T": (cutoff - first).dt.days.astype(float),
    })


def churn_baseline(purchase_days: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int) -> pd.Series:
    """Churn score per customer: minus BG/NBD's expected purchases in the next ``horizon_days``."""
    summary = summarise(purchase_days, cutoff)
    model = fit(summary["x"].to_numpy(), summary["t_x"].to_numpy(), summary["T"].to_numpy())
    expected = model.expected_purchases(horizon_days, summary["x"].to_numpy(), summary["t_x"].to_numpy(),
                                        summary["T"].to_numpy())
    return pd.Series(-expected, index=summary.index, name="bgnbd")
