"""Churn features and labels: hand-checked values, and no leakage across the cutoff."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml.churn.features import FEATURE_COLUMNS, build_features, build_labels

CUTOFF = date(2024, 6, 1)


def _orders(*rows: tuple[str, str, float, str, bool]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["customer_id", "ordered_at", "amount_total", "channel", "is_cancelled"]
    )
    return frame.assign(ordered_at=pd.to_datetime(frame["ordered_at"], utc=True, format="ISO8601"))


def _lines(*rows: tuple[str, str, str, str, float, float]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id", "ordered_at", "quantity", "amount"])
    return frame.assign(ordered_at=pd.to_datetime(frame["ordered_at"], utc=True))


HISTORY = _orders(
    ("ana", "2024-01-02", 100.0, "web", False),
    ("ana", "2024-03-02", 50.0, "erp", False),
    ("ana", "2024-04-01", 10.0, "web", True),
    ("ana", "2024-05-01", 30.0, "web", False),
    ("bo", "2024-05-22", 20.0, "erp", False),
    ("old", "2023-05-01", 70.0, "web", False),  # last purchase more than a year before the cutoff
    ("gone", "2024-02-01", 40.0, "web", True),  # only a cancelled order: never a purchase
)


def test_features_match_a_hand_computed_history():
    features = build_features(HISTORY, CUTOFF)

    assert list(features.columns) == list(FEATURE_COLUMNS)
    assert list(features.index) == ["ana", "bo"]
    ana = features.loc["ana"]
    assert ana["recency_days"] == 31
    assert (ana["orders_30d"], ana["orders_90d"], ana["orders_180d"], ana["orders_365d"]) == (0, 1, 3, 3)
    assert (ana["amount_sum_365d"], ana["amount_mean_365d"]) == (180, 60)
    assert ana["tenure_days"] == 151
    assert ana["gap_mean_days"] == 60  # 60 days, then 60 days (the cancelled order is no purchase)
    assert ana["gap_std_days"] == 0
    assert ana["overdue_ratio"] == pytest.approx(31 / 60)
    assert ana["channel_count"] == 2
    assert ana["cancelled_share"] == 0.25
    bo = features.loc["bo"]
    assert (bo["recency_days"], bo["orders_30d"], bo["tenure_days"]) == (10, 1, 10)
    assert bo[["gap_mean_days", "gap_std_days", "overdue_ratio"]].isna().all()  # one purchase: no gap


def test_orders_on_or_after_the_cutoff_do_not_change_the_features():
    later = _orders(
        ("ana", "2024-06-01T00:00:00", 999.0, "erp", False),  # exactly at the cutoff
        ("bo", "2024-07-15", 5.0, "web", True),
        ("new", "2024-06-20", 10.0, "web", False),
    )

    with_future = build_features(pd.concat([HISTORY, later], ignore_index=True), CUTOFF)

    pd.testing.assert_frame_equal(with_future, build_features(HISTORY, CUTOFF))


def test_features_of_a_synthetic_history_ignore_everything_after_the_cutoff(orders):
    cutoff = date(2023, 10, 1)
    before = orders.loc[orders["ordered_at"] < pd.Timestamp(cutoff, tz="UTC")]

    pd.testing.assert_frame_equal(build_features(orders, cutoff), build_features(before, cutoff))


def test_a_cancellation_counts_from_when_it_happened_and_the_label_sees_the_state_now():
    dated = HISTORY.assign(cancelled_at=pd.Series(pd.NaT, index=HISTORY.index, dtype="datetime64[ns, UTC]"))
    # ana's cancelled order of 2024-04-01: cancelled on the last day before the cutoff, then on the cutoff
    cancelled_then = dated.assign(cancelled_at=dated["cancelled_at"].mask(
        dated["is_cancelled"] & (dated["customer_id"] == "ana"), pd.Timestamp("2024-05-31T23:59:59", tz="UTC")))
    cancelled_later = dated.assign(cancelled_at=dated["cancelled_at"].mask(
        dated["is_cancelled"], pd.Timestamp("2024-06-01", tz="UTC")))

    # before the cutoff (or undated, as without the column): the order is no purchase
    pd.testing.assert_frame_equal(build_features(cancelled_then, CUTOFF), build_features(HISTORY, CUTOFF))
    pd.testing.assert_frame_equal(build_features(dated, CUTOFF), build_features(HISTORY, CUTOFF))
    # at or after the cutoff: the cutoff saw a purchase, as the business did that day
    later = build_features(cancelled_later, CUTOFF)
    assert list(later.index) == ["ana", "bo", "gone"]  # gone's order was still live a year back
    assert later.loc["ana", "cancelled_share"] == 0
    assert (later.loc["ana", "orders_365d"], later.loc["ana", "amount_sum_365d"]) == (4, 190)
    assert later.loc["ana", "gap_mean_days"] == pytest.approx(np.mean([60, 30, 30]))
    assert later.loc["gone", "recency_days"] == 121
    # the label reads what is known now: a purchase in the window cancelled since is none
    window = _orders(("ana", "2024-07-01", 10.0, "web", True)).assign(
        cancelled_at=pd.Timestamp("2024-09-30", tz="UTC"))
    assert build_labels(window, CUTOFF, pd.Index(["ana"], name="customer_id")).to_dict() == {"ana": 1}


def test_label_reads_only_the_90_days_from_the_cutoff():
    customers = pd.Index(["ana", "bo", "cy", "di"], name="customer_id")
    window_and_around = _orders(
        ("ana", "2024-06-01T00:00:00", 10.0, "web", False),  # first instant of the window: bought
        ("bo", "2024-08-29T23:59:59", 10.0, "web", False),  # last second of the window: bought
        ("cy", "2024-08-30T00:00:00", 10.0, "web", False),  # just after the window: churned
        ("cy", "2024-05-31T23:59:59", 10.0, "web", False),  # just before the cutoff: churned
        ("di", "2024-07-01", 10.0, "web", True),  # cancelled: churned
    )

    labels = build_labels(window_and_around, CUTOFF, customers)

    assert labels.to_dict() == {"ana": 0, "bo": 0, "cy": 1, "di": 1}


def test_naive_timestamps_are_refused():
    naive = HISTORY.assign(ordered_at=HISTORY["ordered_at"].dt.tz_localize(None))

    with pytest.raises(ValueError, match="timezone-aware"):
        build_features(naive, CUTOFF)


def _tickets(*rows: tuple[str, str, str | None, bool, bool]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "opened_at", "resolved_at", "is_complaint", "is_reopened"])
    return frame.assign(opened_at=pd.to_datetime(frame["opened_at"], utc=True, format="ISO8601"),
                        resolved_at=pd.to_datetime(frame["resolved_at"], utc=True, format="ISO8601"))


def test_ticket_features_see_each_ticket_as_it_stood_at_the_cutoff():
    tickets = _tickets(
        ("ana", "2024-05-20T10:00", "2024-05-21T10:00", True, False),  # complaint closed before: 24 h
        ("ana", "2024-05-28T10:00", "2024-06-03T10:00", True, False),  # complaint open at the cutoff, closed after
        ("ana", "2024-01-10T00:00", "2024-01-13T00:00", False, False),  # a question: 72 h
        ("bo", "2024-05-25T00:00", None, False, False),  # a question still open: no complaint
        ("bo", "2024-05-30T00:00", None, True, True),  # reopened, open now: its state at the cutoff is unknown
        ("bo", "2023-05-01T00:00", "2023-05-02T00:00", True, False),  # more than a year before
    )
    later = _tickets(
        ("ana", "2024-06-01T00:00", None, True, False),  # opened at the cutoff: not seen
        ("bo", "2024-07-01T00:00", None, True, False),
    )
    features = build_features(HISTORY, CUTOFF, tickets=tickets)
    ana, bo = features.loc["ana"], features.loc["bo"]
    assert (ana["tickets_365d"], ana["complaints_90d"], ana["complaints_365d"], ana["open_complaint"]) == (3, 2, 2, 1)
    assert ana["resolution_hours_median_365d"] == 48  # the two closed before the cutoff: 24 and 72 hours
    assert (bo["tickets_365d"], bo["complaints_365d"], bo["open_complaint"]) == (2, 1, 0)
    assert pd.isna(bo["resolution_hours_median_365d"])
    # What happens from the cutoff on changes nothing: new tickets, or an open one closed after it.
    closed_later = tickets.assign(resolved_at=tickets["resolved_at"].fillna(pd.Timestamp("2024-08-01", tz="UTC")))
    pd.testing.assert_frame_equal(build_features(HISTORY, CUTOFF, tickets=pd.concat([closed_later, later])), features)
    # Without tickets the service features are unknown; with tickets, a customer without any has zeros.
    assert build_features(HISTORY, CUTOFF)[["open_complaint", "complaints_365d"]].isna().all().all()
    none = build_features(HISTORY, CUTOFF, tickets=tickets.loc[tickets["customer_id"] == "bo"]).loc["ana"]
    assert (none["tickets_365d"], none["open_complaint"]) == (0, 0) and pd.isna(none["resolution_hours_median_365d"])


def test_bgnbd_probability_of_no_purchase_matches_the_process_it_describes():
    """Averaged over customers drawn from BG/NBD itself, P(no purchase in t days) is the share who buy nothing."""
    import numpy as np

    from ml.churn.baselines import BgNbd

    model, horizon, observed_for = BgNbd(r=0.5, alpha=10.0, a=0.8, b=2.5), 30.0, 60.0
    rng = np.random.default_rng(7)
    customers = 20_000
    rate = rng.gamma(model.r, 1 / model.alpha, customers)
    dropout = rng.beta(model.a, model.b, customers)
    x, t_x, bought_after = np.zeros(customers), np.zeros(customers), np.zeros(customers, dtype=bool)
    time, alive = np.zeros(customers), np.ones(customers, dtype=bool)
    while alive.any():  # the first purchase at 0; after each purchase a customer may drop out
        time = np.where(alive, time + rng.exponential(1 / rate), time)
        in_history = alive & (time < observed_for)
        x, t_x = x + in_history, np.where(in_history, time, t_x)
        bought_after |= alive & (time >= observed_for) & (time < observed_for + horizon)
        alive &= (time < observed_for + horizon) & (rng.uniform(size=customers) >= dropout)
    T = np.full(customers, observed_for)

    predicted = model.p_no_purchase(horizon, x, t_x, T)
    assert predicted.mean() == pytest.approx(1 - bought_after.mean(), abs=0.01)
    # a new customer: the negative binomial's zero, (alpha / (alpha + t))^r
    assert model.p_no_purchase(horizon, np.zeros(1), np.zeros(1), np.zeros(1))[0] == pytest.approx((10 / 40) ** 0.5)
    # over a short horizon, the chance of a purchase is the expected number of purchases
    tiny = 1e-4
    assert 1 - model.p_no_purchase(tiny, x[:50], t_x[:50], T[:50]) == pytest.approx(
        model.expected_purchases(tiny, x[:50], t_x[:50], T[:50]), rel=1e-3)


def test_product_popularity_counts_each_products_recent_buyers_weighted_by_what_the_customer_spent():
    orders = _orders(
        ("ana", "2024-01-10", 30.0, "web", False),
        ("bo", "2024-05-01", 10.0, "web", False),
        ("cy", "2024-05-20", 10.0, "web", False),
        ("cy", "2024-05-25", 5.0, "web", True),  # cancelled: its line buys nothing
    ).assign(order_id=["o1", "o2", "o3", "o4"])
    lines = _lines(
        ("o1", "ana", "old", "2024-01-10", 1.0, 10.0),  # nobody bought "old" in the 90 days before the cutoff
        ("o1", "ana", "hit", "2024-01-10", 1.0, 20.0),
        ("o2", "bo", "hit", "2024-05-01", 1.0, 10.0),
        ("o3", "cy", "hit", "2024-05-20", 1.0, 10.0),
        ("o4", "cy", "old", "2024-05-25", 1.0, 5.0),
        ("o5", "bo", "old", "2024-06-01", 1.0, 5.0),  # at the cutoff: not seen
    )

    popularity = build_features(orders, CUTOFF, lines)["product_popularity_90d"]

    hit = np.log1p(2)  # bo and cy bought it in the 90 days; ana's purchase was before them
    assert popularity["ana"] == pytest.approx((10 * np.log1p(0) + 20 * hit) / 30)
    assert popularity["bo"] == pytest.approx(hit) and popularity["cy"] == pytest.approx(hit)
    assert build_features(orders, CUTOFF)["product_popularity_90d"].isna().all()  # no lines: unknown


def test_unit_price_is_the_years_bought_amount_over_its_units_and_ignores_the_cutoff_and_cancellations():
    orders = _orders(
        ("ana", "2023-05-01", 50.0, "web", False),  # more than a year before the cutoff
        ("ana", "2024-02-01", 26.0, "web", False),
        ("ana", "2024-05-30", 4.0, "web", False),
        ("bo", "2024-05-20", 12.0, "web", False),
        ("bo", "2024-05-25", 99.0, "web", True),  # cancelled: its line buys nothing
        ("cy", "2024-05-26", 0.0, "web", False),
    ).assign(order_id=["o1", "o2", "o3", "o4", "o5", "o7"])
    lines = _lines(
        ("o1", "ana", "mug", "2023-05-01", 1.0, 50.0),
        ("o2", "ana", "mug", "2024-02-01", 10.0, 20.0),
        ("o2", "ana", "tin", "2024-02-01", 2.0, 6.0),
        ("o3", "ana", "tin", "2024-05-30", 4.0, 4.0),
        ("o3", "ana", "tin", "2024-05-30", -1.0, -1.0),  # a returned unit
        ("o4", "bo", "lamp", "2024-05-20", 1.0, 12.0),
        ("o5", "bo", "lamp", "2024-05-25", 9.0, 99.0),
        ("o6", "bo", "lamp", "2024-06-01", 100.0, 1.0),  # at the cutoff: not seen
        ("o7", "cy", "sample", "2024-05-26", 3.0, 0.0),  # free goods only
    )

    price = build_features(orders, CUTOFF, lines)["unit_price_365d"]

    assert price["ana"] == pytest.approx((20 + 6 + 4) / (10 + 2 + 4))
    assert price["bo"] == pytest.approx(12.0)
    assert np.isnan(price["cy"])  # nothing paid for: no price (not a price of 0, whose log is minus infinity)
    assert build_features(orders, CUTOFF)["unit_price_365d"].isna().all()  # no lines: unknown
