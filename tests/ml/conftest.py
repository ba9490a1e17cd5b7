"""Synthetic order histories for the churn tests.

Each customer buys as a Poisson process with their own rate, from a random first order until
they churn, which happens at a constant hazard of their own. Fast and slow buyers are mixed
on purpose: 60 days without an order is normal for one and alarming for the other, so a
model that sees the usual gap between orders should beat "days since the last order".
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

HISTORY_START = date(2022, 1, 1)
AS_OF = date(2024, 6, 30)  # the last business day of the history
MEAN_DAYS_BETWEEN_ORDERS = 30
MEAN_DAYS_TO_CHURN = (120, 2000)  # a churn-prone half and a loyal half
CANCELLED_SHARE = 0.05


def synthetic_orders(
    customers: int = 500, start: date = HISTORY_START, as_of: date = AS_OF, seed: int = 7
) -> pd.DataFrame:
    """Orders from `start` to the end of `as_of`, shaped like `marts.fct_orders`, sorted by time."""
    rng = np.random.default_rng(seed)
    span_days = (as_of - start).days + 1
    rows = []
    for number in range(customers):
        first_day = rng.uniform(0, span_days * 0.7)
        days_between = MEAN_DAYS_BETWEEN_ORDERS * rng.lognormal(0.0, 0.8)
        churn_day = first_day + rng.exponential(MEAN_DAYS_TO_CHURN[number % 2])
        web_share = rng.uniform()
        day = first_day
        while day < min(churn_day, span_days):
            rows.append(
                (
                    f"c{number:05d}",
                    day,
                    round(rng.lognormal(4.0, 0.5), 2),
                    "web" if rng.uniform() < web_share else "erp",
                    bool(rng.uniform() < CANCELLED_SHARE),
                )
            )
            day += rng.exponential(days_between)
    orders = pd.DataFrame(rows, columns=["customer_id", "day", "amount_total", "channel", "is_cancelled"])
    orders["ordered_at"] = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(orders["day"], unit="D")
    columns = ["customer_id", "ordered_at", "amount_total", "channel", "is_cancelled"]
    return orders.loc[:, columns].sort_values("ordered_at", ignore_index=True)


@pytest.fixture(scope="session")
def as_of() -> date:
    """The last day the synthetic history covers."""
    return AS_OF


@pytest.fixture(scope="session")
def make_orders():
    """The generator itself, for tests that need a history of their own."""
    return synthetic_orders


@pytest.fixture(scope="session")
def orders() -> pd.DataFrame:
    """A learnable history of 500 customers over two and a half years."""
    return synthetic_orders()


@pytest.fixture(scope="session")
def trained(orders, as_of):
    """One churn training run on `orders`, shared by the tests that only read it."""
    from ml.churn.train import train_churn_model

    return train_churn_model(orders, as_of)
