"""Churn features and labels at a cutoff, from the orders of `marts.fct_orders`.

A *cutoff* is a calendar date read as midnight UTC. Everything a feature knows comes from
orders placed strictly before that instant; the label looks only at the window that starts
there. The jobs speak of `as_of`, the last business day the warehouse holds: its cutoff is
the next day (`cutoff_after`). Keeping both sides of the cutoff in this one module is what keeps training free of
leakage: train, score and the tests all cut the same way.

A purchase is a non-cancelled order. Recency, frequency, monetary value, tenure and the gaps
between orders describe purchases; cancelled orders only enter through their share of all
orders. A cancellation counts as the cutoff saw it: when `orders` has `cancelled_at`
(`marts.fct_orders`), an order cancelled at or after the cutoff was still a purchase then (a
model trained on past cutoffs must not learn from cancellations that had not happened yet, which
it could never see in the customers it scores); without a date (or without the column) the
order's cancellation counts whenever it came (the rule of `ml.cancellations`, shared with the demand
and next-best-action jobs). Labels read the orders' state as it is now: they are the truth after the
cutoff, not what the cutoff saw. A customer is *active* at a cutoff when they made a purchase in the year before it.
Amounts are summed as they come: the business is assumed to sell in one currency.

Beside those order features: the BG/NBD expected purchases in the label window, the
probability of none in it, and P(alive)
(fitted on the history before the cutoff, `ml.churn.baselines`), the spread of the days
between purchase days (median, longest, last), and, when the order lines
(`marts.fct_order_lines`) are given, what a customer buys: distinct products, lines and units
per order, the trend of the basket value, the share of the amount returned or cancelled, how
popular their products are lately (`product_popularity_90d`: over the year's lines, weighted by
amount, the log of one plus the number of customers who bought the line's product in the 90 days
before the cutoff; a customer of products nobody buys any more scores low), and the mean price
they paid per unit (`unit_price_365d`: the amount of the year's bought lines over their units; a
trade buyer of wholesale quantities pays less per unit than a shop's retail customer; unknown when
all they bought was free). Without lines those are NaN.

When the service tickets (`marts.fct_service_tickets`) are given: the customer's tickets and
complaints opened in the 90 days and the year before the cutoff, whether a complaint was open at
the cutoff, and the median hours to resolution of the year's tickets closed before it
(`TICKET_FEATURES`). Strictly as of the cutoff: only tickets opened before it count, and a ticket
is open at the cutoff unless it was closed before it. The CRM keeps a ticket's last close and
whether it was ever reopened, not its history: a reopened ticket not closed before the cutoff
may have been closed at the cutoff and reopened after it, which the warehouse cannot tell, so it
counts as not open (that can only hide signal, never add what the cutoff did not know). Without
tickets those features are NaN. The nightly job does not pass them: on the simulated business
they did not improve the model beyond noise (bench/ml_churn_tickets.py).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.cancellations import as_seen_at
from ml.churn.baselines import bgnbd_quantities

ORDER_COLUMNS = ("customer_id", "ordered_at", "amount_total", "channel", "is_cancelled")
LINE_COLUMNS = ("order_id", "customer_id", "product_id", "ordered_at", "quantity", "amount")
TICKET_COLUMNS = ("customer_id", "opened_at", "resolved_at", "is_complaint", "is_reopened")
ACTIVE_WINDOW_DAYS = 365
FREQUENCY_WINDOWS_DAYS = (30, 90, 180, 365)
LABEL_WINDOW_DAYS = 90

FEATURE_COLUMNS = (
    "recency_days",
    *(f"orders_{days}d" for days in FREQUENCY_WINDOWS_DAYS),
    "amount_sum_365d",
    "amount_mean_365d",
    "tenure_days",
    "gap_mean_days",
    "gap_std_days",
    "overdue_ratio",
    "channel_count",
    "cancelled_share",
    "bgnbd_expected_90d",
    "bgnbd_p_alive",
    "bgnbd_p_no_purchase_90d",
    "purchase_days_90d",
    "purchase_days_365d",
    "gap_median_days",
    "gap_max_days",
    "gap_last_days",
    "recency_over_max_gap",
    "amount_sum_90d",
    "distinct_products_365d",
    "lines_per_order_365d",
    "units_per_order_365d",
    "basket_value_trend",
    "returned_amount_share",
    "product_popularity_90d",
    "unit_price_365d",
    "tickets_365d",
    "complaints_90d",
    "complaints_365d",
    "open_complaint",
    "resolution_hours_median_365d",
)
TICKET_FEATURES = ("tickets_365d", "complaints_90d", "complaints_365d", "open_complaint",
                   "resolution_hours_median_365d")
LINE_FEATURES = (
    "distinct_products_365d",
    "lines_per_order_365d",
    "units_per_order_365d",
    "basket_value_trend",
    "returned_amount_share",
    "product_popularity_90d",
    "unit_price_365d",
)

_DAY = pd.Timedelta(days=1)


def cutoff_after(as_of: date) -> date:
    """The cutoff that closes business day `as_of`: features then see every order of that day."""
    return as_of + timedelta(days=1)


def cutoff_instant(cutoff: date) -> pd.Timestamp:
    """Midnight UTC at the start of `cutoff`: the first instant a feature may not see."""
    return pd.Timestamp(cutoff).tz_localize("UTC")


def validate_orders(orders: pd.DataFrame) -> None:
    """Raise `ValueError` unless `orders` has the columns and the UTC timestamps features need."""
    missing = [column for column in ORDER_COLUMNS if column not in orders.columns]
    if missing:
        raise ValueError(f"orders lack the columns {missing}; expected {list(ORDER_COLUMNS)}")
    for column in ("ordered_at", "cancelled_at"):  # (cancelled_at when given)
        if column in orders.columns and getattr(orders[column].dtype, "tz", None) is None:
            raise ValueError(f"orders.{column} must be timezone-aware (UTC), as in marts.fct_orders")


def validate_lines(lines: pd.DataFrame) -> None:
    """Raise `ValueError` unless `lines` has the columns of `marts.fct_order_lines` features read."""
    missing = [column for column in LINE_COLUMNS if column not in lines.columns]
    if missing:
        raise ValueError(f"order lines lack the columns {missing}; expected {list(LINE_COLUMNS)}")
    if getattr(lines["ordered_at"].dtype, "tz", None) is None:
        raise ValueError("order lines' ordered_at must be timezone-aware (UTC), as in marts.fct_order_lines")


def validate_tickets(tickets: pd.DataFrame) -> None:
    """Raise `ValueError` unless `tickets` has the columns of `marts.fct_service_tickets` features read."""
    missing = [column for column in TICKET_COLUMNS if column not in tickets.columns]
    if missing:
        raise ValueError(f"service tickets lack the columns {missing}; expected {list(TICKET_COLUMNS)}")
    for column in ("opened_at", "resolved_at"):
        if getattr(tickets[column].dtype, "tz", None) is None:
            raise ValueError(f"service tickets' {column} must be timezone-aware (UTC), as in marts.fct_service_tickets")


def build_features(orders: pd.DataFrame, cutoff: date, lines: pd.DataFrame | None = None,
                   tickets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Features of every customer active in the year before `cutoff`, one row per customer.

    Only orders (and order lines, and service tickets) placed or opened strictly before `cutoff`
    are read. The result is indexed by `customer_id` (sorted) and has the columns of
    `FEATURE_COLUMNS`, all floats; a gap statistic is NaN when a customer has too few purchases
    to measure it, the `LINE_FEATURES` are NaN when `lines` is None and the `TICKET_FEATURES`
    when `tickets` is None.
    """
    validate_orders(orders)
    end = cutoff_instant(cutoff)
    history = as_seen_at(orders, end)
    purchases = history.loc[~history["is_cancelled"].astype(bool)].sort_values(["customer_id", "ordered_at"])
    recent = purchases.loc[purchases["ordered_at"] >= end - ACTIVE_WINDOW_DAYS * _DAY]
    active = pd.Index(recent["customer_id"].unique(), name="customer_id").sort_values()

    by_customer = purchases.groupby("customer_id")["ordered_at"]
    features = pd.DataFrame(index=active)
    features["recency_days"] = (end - by_customer.max()) / _DAY
    for days in FREQUENCY_WINDOWS_DAYS:
        in_window = purchases.loc[purchases["ordered_at"] >= end - days * _DAY]
        features[f"orders_{days}d"] = in_window.groupby("customer_id").size()
    features["amount_sum_365d"] = recent.groupby("customer_id")["amount_total"].sum()
    features["amount_mean_365d"] = recent.groupby("customer_id")["amount_total"].mean()
    features["tenure_days"] = (end - by_customer.min()) / _DAY
    features = features.join(_gap_statistics(purchases))
    features["overdue_ratio"] = features["recency_days"] / features["gap_mean_days"].where(
        features["gap_mean_days"] > 0
    )
    features["channel_count"] = recent.groupby("customer_id")["channel"].nunique()
    features["cancelled_share"] = _cancelled_share(history, end)
    bgnbd = bgnbd_quantities(history, cutoff, LABEL_WINDOW_DAYS)
    features["bgnbd_expected_90d"] = bgnbd["bgnbd_expected"]
    features["bgnbd_p_alive"] = bgnbd["bgnbd_p_alive"]
    features["bgnbd_p_no_purchase_90d"] = bgnbd["bgnbd_p_none"]
    features = features.join(_purchase_day_statistics(purchases, end))
    features["recency_over_max_gap"] = features["recency_days"] / features["gap_max_days"].where(
        features["gap_max_days"] > 0
    )
    features["amount_sum_90d"] = (
        purchases.loc[purchases["ordered_at"] >= end - 90 * _DAY].groupby("customer_id")["amount_total"].sum()
    )
    if lines is not None:
        validate_lines(lines)
        features = features.join(_line_features(lines, history, end))
    if tickets is not None:
        validate_tickets(tickets)
        service = _ticket_features(tickets, end)
        features = features.join(service)
        features[list(TICKET_FEATURES[:4])] = features[list(TICKET_FEATURES[:4])].fillna(0)
    zero_when_absent = [
        *(f"orders_{days}d" for days in FREQUENCY_WINDOWS_DAYS),
        "purchase_days_90d",
        "purchase_days_365d",
        "amount_sum_90d",
    ]
    features[zero_when_absent] = features[zero_when_absent].fillna(0)
    return features.reindex(columns=list(FEATURE_COLUMNS)).astype("float64")


def build_labels(orders: pd.DataFrame, cutoff: date, customers: pd.Index) -> pd.Series:
    """Churn label of each of `customers`: 1 if they made no purchase in the 90 days from `cutoff`.

    Only orders in `[cutoff, cutoff + 90 days)` are read, so the label never depends on the
    history the features were built from.
    """
    validate_orders(orders)
    start = cutoff_instant(cutoff)
    in_window = orders.loc[
        (orders["ordered_at"] >= start)
        & (orders["ordered_at"] < start + LABEL_WINDOW_DAYS * _DAY)
        & ~orders["is_cancelled"].astype(bool)
    ]
    retained = customers.isin(in_window["customer_id"])
    return pd.Series(np.where(retained, 0, 1), index=customers, name="churned")


def _gap_statistics(purchases: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std of the days between consecutive purchases of each customer."""
    gaps = purchases.groupby("customer_id")["ordered_at"].diff() / _DAY
    by_customer = gaps.groupby(purchases["customer_id"])
    return pd.DataFrame({"gap_mean_days": by_customer.mean(), "gap_std_days": by_customer.std()})


def _purchase_day_statistics(purchases: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Counts of purchase days and the median, longest and last gap between them (days)."""
    days = purchases.assign(day=purchases["ordered_at"].dt.floor("D")).drop_duplicates(["customer_id", "day"])
    gaps = days.groupby("customer_id")["day"].diff() / _DAY
    by_customer = gaps.groupby(days["customer_id"])
    return pd.DataFrame(
        {
            "purchase_days_90d": days.loc[days["day"] >= end - 90 * _DAY].groupby("customer_id").size(),
            "purchase_days_365d": days.loc[days["day"] >= end - ACTIVE_WINDOW_DAYS * _DAY]
            .groupby("customer_id")
            .size(),
            "gap_median_days": by_customer.median(),
            "gap_max_days": by_customer.max(),
            "gap_last_days": by_customer.last(),
        }
    )


def _line_features(lines: pd.DataFrame, history: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """What each customer bought in the year before `end`, from the lines of their orders.

    Lines of cancelled orders (known from `history` when it has `order_id`, else from a
    negative quantity) count as returned; the rest as bought.
    """
    year = lines.loc[(lines["ordered_at"] < end) & (lines["ordered_at"] >= end - ACTIVE_WINDOW_DAYS * _DAY)]
    cancelled = year["quantity"] < 0
    if "order_id" in history.columns:
        cancelled_orders = history.loc[history["is_cancelled"].astype(bool), "order_id"]
        cancelled = cancelled | year["order_id"].isin(cancelled_orders)
    bought, returned = year.loc[~cancelled], year.loc[cancelled]
    per_order = (
        bought.groupby(["customer_id", "order_id"])
        .agg(lines=("product_id", "size"), units=("quantity", "sum"), value=("amount", "sum"), at=("ordered_at", "min"))
        .reset_index()
    )
    by_customer = per_order.groupby("customer_id")
    recent_value = per_order.loc[per_order["at"] >= end - 90 * _DAY].groupby("customer_id")["value"].mean()
    units = bought.loc[bought["quantity"] > 0]
    quarter = units.loc[units["ordered_at"] >= end - 90 * _DAY]
    buyers = np.log1p(bought["product_id"].map(quarter.groupby("product_id")["customer_id"].nunique()).fillna(0))
    weight = bought["amount"].clip(lower=0)
    unit_spend = units["amount"].clip(lower=0).groupby(units["customer_id"]).sum()
    unit_count = units.groupby("customer_id")["quantity"].sum()
    bought_amount = bought.groupby("customer_id")["amount"].sum()
    returned_amount = returned.groupby("customer_id")["amount"].sum().abs()
    return pd.DataFrame(
        {
            "distinct_products_365d": bought.groupby("customer_id")["product_id"].nunique(),
            "lines_per_order_365d": by_customer["lines"].mean(),
            "units_per_order_365d": by_customer["units"].median(),
            "basket_value_trend": recent_value / by_customer["value"].mean().where(lambda value: value > 0),
            "returned_amount_share": (returned_amount.reindex(bought_amount.index).fillna(0) / bought_amount.where(
                bought_amount > 0
            )),
            "product_popularity_90d": (
                (buyers * weight).groupby(bought["customer_id"]).sum()
                / weight.groupby(bought["customer_id"]).sum().where(lambda total: total > 0)
            ),
            "unit_price_365d": (unit_spend / unit_count).where(unit_spend > 0),  # free goods alone: unknown
        }
    )


def _ticket_features(tickets: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Each customer's service tickets as they stood at `end` (see the module's docstring)."""
    opened = tickets.loc[tickets["customer_id"].notna() & (tickets["opened_at"] < end)]
    year = opened.loc[opened["opened_at"] >= end - ACTIVE_WINDOW_DAYS * _DAY]
    complaint = year["is_complaint"].astype(bool)
    closed_before = year["resolved_at"].notna() & (year["resolved_at"] < end)
    open_then = ~closed_before & ~year["is_reopened"].astype(bool)
    hours = (year["resolved_at"] - year["opened_at"]) / pd.Timedelta(hours=1)
    by_customer = year["customer_id"]
    return pd.DataFrame({
        "tickets_365d": year.groupby(by_customer).size(),
        "complaints_90d": year.loc[complaint & (year["opened_at"] >= end - 90 * _DAY)].groupby("customer_id").size(),
        "complaints_365d": year.loc[complaint].groupby("customer_id").size(),
        "open_complaint": (complaint & open_then).groupby(by_customer).any().astype("float64"),
        "resolution_hours_median_365d": hours.loc[closed_before].groupby(by_customer.loc[closed_before]).median(),
    })


def _cancelled_share(history: pd.DataFrame, end: pd.Timestamp) -> pd.Series:
    """Share of each customer's orders in the year before `end` that were cancelled."""
    last_year = history.loc[history["ordered_at"] >= end - ACTIVE_WINDOW_DAYS * _DAY]
    return last_year["is_cancelled"].astype(bool).groupby(last_year["customer_id"]).mean()
