"""When an order counts as cancelled at a cutoff: the one as-of rule every ML job applies.

`marts.fct_orders` says whether an order is cancelled *now* (`is_cancelled`) and, since it has
the column, when (`cancelled_at`: the shop's date, or for sources that do not date a
cancellation the order's last change, a later-or-equal bound). A model trained or measured at
a past cutoff must see the orders as the business saw them then, or it learns from
cancellations that had not happened yet, which it can never see in the customers and products
it scores. So, at a cutoff `end` (an instant, midnight UTC of the cutoff day), an order counts
as cancelled only if it is cancelled now and

* its `cancelled_at` is before `end`, or
* it has no `cancelled_at` (a marts built before the column existed, or a row it kept from
  then): the date is unknown, so it keeps today's state and counts as cancelled at every cutoff.

An order cancelled at or after `end` was still a sale then. That rule is applied to whatever
a model is fitted on or fed at a cutoff (features, histories, baskets); what is measured
*after* a cutoff (churn labels, the demand backtest's actual sales, the ranker's target
baskets) keeps today's state: it is the truth the model is judged by, known only later.

The rule is written once, here, as `cancelled_then` over `cancelled_since`: the instant from
which a row counts as cancelled, which structures built once and cut at several cutoffs
(`ml.demand.features.SalesMatrix`, `ml.nba.recommend.Purchases`) keep beside the rows they
set aside.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALWAYS = np.iinfo(np.int64).min  # cancelled without a date: cancelled at every cutoff
NEVER = np.iinfo(np.int64).max  # not cancelled (now): at no cutoff


def cancelled_since(frame: pd.DataFrame) -> np.ndarray:
    """Per row of `frame`, the instant (int64 ns since 1970 UTC) from which it counts as cancelled.

    Its `cancelled_at` when it is cancelled and dated; `ALWAYS` when it is cancelled without a
    date (or `frame` has no `cancelled_at`); `NEVER` when it is not cancelled (or `frame` has no
    `is_cancelled`).
    """
    if "is_cancelled" not in frame.columns:
        return np.full(len(frame), NEVER, dtype=np.int64)
    cancelled = frame["is_cancelled"].fillna(False).astype(bool).to_numpy()
    since = np.full(len(frame), ALWAYS, dtype=np.int64)
    if "cancelled_at" in frame.columns:
        dated = pd.to_datetime(frame["cancelled_at"], utc=True)
        known = dated.notna().to_numpy()
        since[known] = dated.loc[known].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return np.where(cancelled, since, NEVER)


def cancelled_then(since: np.ndarray, end: pd.Timestamp) -> np.ndarray:
    """Whether rows cancelled from `since` (`cancelled_since`) count as cancelled at the instant `end`."""
    return np.asarray(since) < pd.Timestamp(end).as_unit("ns").value


def cancelled_at(frame: pd.DataFrame, end: pd.Timestamp) -> np.ndarray:
    """Whether each row of `frame` counts as cancelled at the instant `end` (the module's rule)."""
    return cancelled_then(cancelled_since(frame), end)


def as_seen_at(frame: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The rows of `frame` placed before `end` (`ordered_at`), `is_cancelled` as it stood at `end`.

    Without an `is_cancelled` column the rows are returned as they are (nothing is cancelled).
    """
    history = frame.loc[frame["ordered_at"] < end]
    if "is_cancelled" not in history.columns:
        return history
    return history.assign(is_cancelled=cancelled_at(history, end))
