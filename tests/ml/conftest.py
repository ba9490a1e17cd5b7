"""Synthetic order histories for the churn tests.

Each customer buys as a Poisson process with their own rate, from a random first order until
they churn, which happens at a constant hazard of their own. Fast and slow buyers are mixed
on purpose: 60 days without an order is normal for one and alarming for the other, so a
model that sees the usual gap between orders should beat "days since the last order". Such a
history is close to BG/NBD's own process, which ranks it well; what lets a model beat BG/NBD
there is that customers cancel most of their orders in the months before they leave.
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
BASKET_LOG_MEAN = (3.5, 4.5)  # the churn-prone half buys smaller baskets: a signal only a model can use
CANCELLED_SHARE = 0.05
# In the weeks before they leave, customers cancel much more (a delivery gone wrong, a dispute):
# a warning BG/NBD cannot see, since it counts purchases only, but the share of orders cancelled can.
LEAVING_DAYS, LEAVING_CANCELLED_SHARE = 120, 0.8


def synthetic_orders(
    customers: int = 500, start: date = HISTORY_START, as_of: date = AS_OF, seed: int = 7, rate_spread: float = 0.8,
    leaving_cancelled_share: float = LEAVING_CANCELLED_SHARE,
) -> pd.DataFrame:
    """Orders from `start` to the end of `as_of`, shaped like `marts.fct_orders`, sorted by time.

    `leaving_cancelled_share` is the share of orders cancelled in the `LEAVING_DAYS` before a
    customer leaves (`CANCELLED_SHARE` for no warning).
    """
    rng = np.random.default_rng(seed)
    span_days = (as_of - start).days + 1
    rows = []
    for number in range(customers):
        first_day = rng.uniform(0, span_days * 0.7)
        days_between = MEAN_DAYS_BETWEEN_ORDERS * rng.lognormal(0.0, rate_spread)
        churn_day = first_day + rng.exponential(MEAN_DAYS_TO_CHURN[number % 2])
        web_share = rng.uniform()
        day = first_day
        while day < min(churn_day, span_days):
            rows.append(
                (
                    f"c{number:05d}",
                    day,
                    round(rng.lognormal(BASKET_LOG_MEAN[number % 2], 0.5), 2),
                    "web" if rng.uniform() < web_share else "erp",
                    bool(rng.uniform() < (leaving_cancelled_share if day > churn_day - LEAVING_DAYS
                                          else CANCELLED_SHARE)),
                )
            )
            day += rng.exponential(days_between)
    orders = pd.DataFrame(rows, columns=["customer_id", "day", "amount_total", "channel", "is_cancelled"])
    orders["ordered_at"] = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(orders["day"], unit="D")
    columns = ["customer_id", "ordered_at", "amount_total", "channel", "is_cancelled"]
    return orders.loc[:, columns].sort_values("ordered_at", ignore_index=True)


def bgnbd_orders(customers: int, start: date = HISTORY_START, as_of: date = AS_OF, seed: int = 1) -> pd.DataFrame:
    """Orders drawn from the BG/NBD process itself (Fader, Hardie and Lee, 2005), as `marts.fct_orders`.

    Each customer buys at a gamma-distributed daily rate from a random first order and, after
    each purchase, drops out with a beta-distributed probability. On such a history BG/NBD is
    the right model: nothing else can beat it by more than chance.
    """
    rng = np.random.default_rng(seed)
    span_days = (as_of - start).days + 1
    rows = []
    for number in range(customers):
        rate = rng.gamma(0.6, 1 / 20)  # one purchase every ~33 days on average
        dropout = rng.beta(1.0, 4.0)
        day = rng.uniform(0, span_days * 0.7)
        while day < span_days:
            rows.append((f"b{number:05d}", day, round(rng.lognormal(4.0, 0.5), 2), "web", False))
            if rng.uniform() < dropout:
                break
            day += rng.exponential(1 / rate)
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
def bgnbd_history() -> pd.DataFrame:
    """250 customers drawn from BG/NBD's process: a small business where BG/NBD is the best churn score."""
    return bgnbd_orders(250, seed=2)


@pytest.fixture(scope="session")
def no_purchase_history() -> pd.DataFrame:
    """Another 250 customers from BG/NBD's process, where its probability of no purchase is the best churn score."""
    return bgnbd_orders(250, seed=4)


@pytest.fixture(scope="session")
def bgnbd_trained(bgnbd_history, as_of):
    """One churn training run on `bgnbd_history`."""
    from ml.churn.train import train_churn_model

    return train_churn_model(bgnbd_history, as_of)


@pytest.fixture(scope="session")
def trained(orders, as_of):
    """One churn training run on `orders`, shared by the tests that only read it."""
    from ml.churn.train import train_churn_model

    return train_churn_model(orders, as_of)


PRODUCTS = 30


def synthetic_lines(orders: pd.DataFrame, products: int = PRODUCTS, seed: int = 11) -> pd.DataFrame:
    """Order lines for `orders`, shaped like `marts.fct_order_lines`.

    Each customer has three favourite products drawn by popularity; an order holds one to
    three products, mostly favourites. Weekends sell less, so demand has a weekly pattern.
    """
    rng = np.random.default_rng(seed)
    popularity = rng.dirichlet(np.full(products, 0.8))
    favourites = {
        customer: rng.choice(products, 3, replace=False, p=popularity) for customer in orders["customer_id"].unique()
    }
    prices = np.round(rng.uniform(5, 50, products), 2)
    rows = []
    for number, order in enumerate(orders.itertuples()):
        if order.ordered_at.weekday() >= 5 and rng.uniform() < 0.5:
            continue
        count = 1 + rng.poisson(0.8)
        chosen = {
            int(rng.choice(favourites[order.customer_id])) if rng.uniform() < 0.7 else int(rng.choice(products, p=popularity))
            for _ in range(count)
        }
        for line, product in enumerate(sorted(chosen)):
            quantity = float(1 + rng.poisson(2))
            rows.append(
                (f"o{number}-{line}", f"o{number}", order.customer_id, f"p{product:03d}", order.ordered_at,
                 quantity, prices[product], quantity * prices[product], order.is_cancelled)
            )
    return pd.DataFrame(
        rows,
        columns=["order_line_id", "order_id", "customer_id", "product_id", "ordered_at", "quantity", "unit_price",
                 "amount", "is_cancelled"],
    )


def synthetic_products(products: int = PRODUCTS, seed: int = 5) -> pd.DataFrame:
    """`marts.dim_products`: every rule case appears (out of stock, low margin, inactive, no cost)."""
    rng = np.random.default_rng(seed)
    price = np.round(rng.uniform(5, 50, products), 2)
    margin = rng.choice([0.05, 0.1, 0.3, 0.5], products, p=[0.2, 0.1, 0.4, 0.3])
    frame = pd.DataFrame(
        {
            "product_id": [f"p{number:03d}" for number in range(products)],
            "sku": [f"SKU-{number:03d}" for number in range(products)],
            "product_name": [f"Product {number}" for number in range(products)],
            "list_price": price,
            "unit_cost": np.round(price * (1 - margin), 2),
            "stock_on_hand": rng.choice([0.0, 3.0, 50.0, 400.0], products, p=[0.25, 0.15, 0.3, 0.3]),
            "is_active": rng.uniform(size=products) > 0.1,
        }
    )
    frame.loc[frame.index[-1], "unit_cost"] = np.nan  # a product whose cost the ERP does not know
    return frame.set_index("product_id")


@pytest.fixture(scope="session")
def order_orders() -> pd.DataFrame:
    """The synthetic business of the demand, next-best-action and warehouse tests, with the `order_id` the
    lines refer to: `orders` without the cancellations before leaving (the churn tests' warning sign)."""
    orders = synthetic_orders(leaving_cancelled_share=CANCELLED_SHARE)
    return orders.assign(order_id=[f"o{number}" for number in range(len(orders))])


@pytest.fixture(scope="session")
def lines(order_orders) -> pd.DataFrame:
    return synthetic_lines(order_orders)


@pytest.fixture(scope="session")
def products() -> pd.DataFrame:
    return synthetic_products()


@pytest.fixture(scope="session")
def customers(orders) -> pd.DataFrame:
    """`marts.dim_customers`: about two in three customers consent to marketing, nine in ten authorise
    analytics; some never ordered."""
    ids = sorted(orders["customer_id"].unique()) + ["c-no-orders-1", "c-no-orders-2"]
    rng = np.random.default_rng(3)
    consent = rng.uniform(size=len(ids)) < 0.65
    return pd.DataFrame(
        {"has_marketing_consent": consent, "has_analytics_authorisation": rng.uniform(size=len(ids)) < 0.9},
        index=pd.Index(ids, name="customer_id"),
    )
