"""The churn baselines a model must beat: the recency rule and a small BG/NBD fit.

* **Recency**: "the longer since the last purchase, the likelier the churn" — the score is
  the number of days since the last purchase.
* **BG/NBD** (Fader, Hardie and Lee, 2005), fitted by maximum likelihood on each customer's
  repeat-purchase count ``x``, the time of the last repeat purchase ``t_x`` and the customer's
  age ``T`` (days from the first purchase to the cutoff, with purchases counted per calendar
  day). It gives two churn scores, two baselines: `bgnbd`, minus the expected number of
  purchases in the label window, and `bgnbd_no_purchase`, the probability of no purchase in
  it — the label itself, so on UCI Online Retail it ranks customers a little better
  (bench/RESULTS.md). P(alive) is not a churn score on its own (it is 1 for every one-time
  buyer), but beside the others it is a possible model feature.

The model (`ml.churn.features`) also uses the BG/NBD quantities as features: they are fitted
on the history before each cutoff only, exactly as the baselines are. On the nights no model
beats them clearly, the best baseline measured is what scores customers (`ml.churn.model.CalibratedBaseline`,
with its reasons from `bgnbd_contributions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import optimize, special

_DAY = pd.Timedelta(days=1)

# Parameters are fitted on the log scale within these bounds. On daily retail data the optimum
# often sits on the boundary "no dropout" (a → 0 or b → ∞), where any b gives the same
# likelihood; unbounded, the optimiser wanders to b ≈ 1e13 and eq. 10 overflows.
LOG_BOUNDS = [(-8.0, 8.0)] * 4


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD parameters (r, alpha: purchase rates; a, b: dropout)."""

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
        return first / self._dropout_term(x, t_x, T)

    def p_no_purchase(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(X(t) = 0 | x, t_x, T): the probability of no purchase in the next ``t`` days.

        A customer who has dropped out buys nothing; one still alive at ``T`` cannot drop out
        before their next purchase, so buys nothing with probability exp(-λt), whose mean over
        the posterior of λ given alive, Gamma(r + x, α + T), is ((α + T) / (α + T + t))^(r + x).
        """
        alive = self.p_alive(x, t_x, T)
        return 1.0 - alive + alive * ((self.alpha + T) / (self.alpha + T + t)) ** (self.r + x)

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive | x, t_x, T): the probability the customer has not dropped out (eq. 12)."""
        return 1.0 / self._dropout_term(x, t_x, T)

    def _dropout_term(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return 1 + np.where(x > 0, odds, 0.0)


def _negative_log_likelihood(log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    r, alpha, a, b = np.exp(log_params)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a1 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        a2 = np.where(
            x > 0,
            special.betaln(a + 1, b + np.maximum(x, 1) - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return -float(np.sum(common + np.logaddexp(a1, a2)))


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters for the summaries ``x``, ``t_x``, ``T``."""
    result = optimize.minimize(
        _negative_log_likelihood, x0=np.zeros(4), args=(x, t_x, T), method="L-BFGS-B", bounds=LOG_BOUNDS
    )
    if not result.success:
        raise RuntimeError(f"BG/NBD fit did not converge: {result.message}")
    return BgNbd(*np.exp(result.x))


def purchase_summary(orders: pd.DataFrame, cutoff: date) -> pd.DataFrame:
    """Per customer ``x``, ``t_x``, ``T`` (days) from the purchases strictly before `cutoff`.

    `orders` has the columns of `marts.fct_orders` (`customer_id`, `ordered_at` in UTC,
    `is_cancelled`); a purchase is a non-cancelled order, counted once per calendar day.
    """
    end = pd.Timestamp(cutoff).tz_localize("UTC")
    purchases = orders.loc[(orders["ordered_at"] < end) & ~orders["is_cancelled"].astype(bool)]
    days = purchases["ordered_at"].dt.floor("D")
    grouped = days.groupby(purchases["customer_id"])
    first, last, count = grouped.min(), grouped.max(), grouped.nunique()
    return pd.DataFrame(
        {
            "x": (count - 1).astype("float64"),
            "t_x": ((last - first) / _DAY).astype("float64"),
            "T": ((end - first) / _DAY).astype("float64"),
        }
    ).sort_index()


def _fitted_at(orders: pd.DataFrame, cutoff: date) -> tuple[pd.DataFrame, BgNbd | None]:
    """The purchase summary before `cutoff` and BG/NBD fitted on it (None: under 10 customers, or no repeat)."""
    summary = purchase_summary(orders, cutoff)
    if len(summary) < 10 or summary["x"].sum() == 0:
        return summary, None
    try:
        return summary, fit_bgnbd(*(summary[column].to_numpy() for column in ("x", "t_x", "T")))
    except RuntimeError:
        return summary, None


def bgnbd_quantities(orders: pd.DataFrame, cutoff: date, horizon_days: int) -> pd.DataFrame:
    """BG/NBD fitted on the history before `cutoff`: expected purchases, P(no purchase) and P(alive) per customer.

    Returns columns `bgnbd_expected` (purchases in the next `horizon_days`), `bgnbd_p_none`
    (no purchase in them) and `bgnbd_p_alive`, indexed by `customer_id`. With too few customers
    to fit (under 10), all are NaN.
    """
    summary, model = _fitted_at(orders, cutoff)
    columns = ("bgnbd_expected", "bgnbd_p_none", "bgnbd_p_alive")
    if model is None:
        return pd.DataFrame({column: np.nan for column in columns}, index=summary.index)
    x, t_x, T = (summary[column].to_numpy() for column in ("x", "t_x", "T"))
    values = (model.expected_purchases(horizon_days, x, t_x, T), model.p_no_purchase(horizon_days, x, t_x, T),
              model.p_alive(x, t_x, T))
    return pd.DataFrame(dict(zip(columns, values, strict=True)), index=summary.index)


def expected_purchases_score(model: BgNbd, horizon_days: int, x, t_x, T, floor: float) -> np.ndarray:
    """The `bgnbd` baseline's churn score: -log(expected purchases in the horizon + `floor`)."""
    return -np.log(model.expected_purchases(horizon_days, x, t_x, T) + floor)


def no_purchase_score(model: BgNbd, horizon_days: int, x, t_x, T, floor: float) -> np.ndarray:
    """The `bgnbd_no_purchase` baseline's churn score: the log-odds of no purchase in the horizon."""
    return log_odds(model.p_no_purchase(horizon_days, x, t_x, T), floor)


def log_odds(probability: np.ndarray, floor: float) -> np.ndarray:
    """log(p / (1 - p)) with p kept within [`floor`, 1 - `floor`]: finite at 0 and 1."""
    clipped = np.clip(probability, floor, 1.0 - floor)
    return np.log(clipped / (1.0 - clipped))


def bgnbd_contributions(
    orders: pd.DataFrame, cutoff: date, customers: pd.Index, horizon_days: int, floor: float,
    churn_score=expected_purchases_score,
) -> pd.DataFrame:
    """What moves each customer's BG/NBD churn score `churn_score` (by default -log(expected purchases +
    `floor`); `no_purchase_score` is the other) from a typical one's.

    One column per BG/NBD input, each the change of the score when that input alone is set
    to the median customer's: `bgnbd_repeat_days` (how many days they bought again),
    `bgnbd_days_since_last` (days since the last purchase day) and `bgnbd_age` (days since
    the first). A one-time buyer's score depends on their age alone, which is also their time
    since the last purchase: it counts as days since the last. Zero when BG/NBD cannot be fitted.
    """
    columns = ["bgnbd_repeat_days", "bgnbd_days_since_last", "bgnbd_age"]
    summary, model = _fitted_at(orders, cutoff)
    summary = summary.reindex(customers)
    if model is None or summary.isna().any(axis=None):
        return pd.DataFrame(0.0, index=customers, columns=columns)
    x, t_x, T = (summary[column].to_numpy() for column in ("x", "t_x", "T"))
    since = T - t_x
    typical_x, typical_since, typical_T = np.median(x), np.median(since), np.median(T)

    def score(x_: np.ndarray, since_: np.ndarray, T_: np.ndarray) -> np.ndarray:
        since_ = np.minimum(since_, T_)
        return churn_score(model, horizon_days, x_, T_ - since_, T_, floor)

    own = score(x, since, T)
    once = x == 0
    repeat = own - score(np.full_like(x, typical_x), since, T)
    days_since = np.where(once, own - score(x, since, np.full_like(T, typical_T)),
                          own - score(x, np.full_like(since, typical_since), T))
    age = np.where(once, 0.0, own - score(x, since, np.maximum(np.full_like(T, typical_T), since)))
    return pd.DataFrame({"bgnbd_repeat_days": repeat, "bgnbd_days_since_last": days_since, "bgnbd_age": age},
                        index=customers)
