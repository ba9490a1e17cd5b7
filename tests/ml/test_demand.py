"""The demand job: features that never look past the cutoff, forecasts, cover and reorder."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ml.demand.baselines import BASELINES, auto_ets, croston, seasonal_naive
from ml.demand.evaluate import bias, mase, wape, weekly_wape
from ml.demand.features import (
    FEATURE_COLUMNS,
    FEATURE_HISTORY_DAYS,
    HORIZON_DAYS,
    MIN_LAG_DAYS,
    features_for_day,
    product_statistics,
    sales_matrix,
)
from ml.demand.score import days_of_cover, forecast_products, reorder_quantity
from ml.demand.train import (
    BLEND_WEIGHTS,
    GATE_BASELINES,
    NotEnoughData,
    evaluation_cutoff_for,
    train_demand_model,
)


@pytest.fixture(scope="module")
def demand(lines, as_of):
    return train_demand_model(lines, as_of)


def test_a_day_feature_reads_nothing_of_the_last_six_days_before_it(lines, as_of):
    matrix = sales_matrix(lines, as_of)
    stats = product_statistics(matrix)
    day = matrix.days - 1
    before = features_for_day(matrix.units, day, 0, 1, stats)
    tampered = matrix.units.copy()
    tampered[:, day - MIN_LAG_DAYS + 1 :] = 1e6

    np.testing.assert_array_equal(features_for_day(tampered, day, 0, 1, stats), before)
    assert before.shape == (len(matrix.products), len(FEATURE_COLUMNS))


def test_the_sales_matrix_ignores_lines_on_or_after_the_cutoff(lines):
    cutoff = date(2024, 1, 10)
    before = lines.loc[lines["ordered_at"] < pd.Timestamp(cutoff, tz="UTC")]

    np.testing.assert_array_equal(sales_matrix(lines, cutoff).units, sales_matrix(before, cutoff).units)


def test_training_ignores_lines_after_as_of_and_evaluates_out_of_time(lines, as_of, demand):
    shift = pd.Timestamp(as_of + timedelta(days=1), tz="UTC") - lines["ordered_at"].min()
    future = lines.assign(ordered_at=lines["ordered_at"] + shift)
    with_future = train_demand_model(pd.concat([lines, future], ignore_index=True), as_of, with_quantiles=False)
    without = train_demand_model(lines, as_of, with_quantiles=False)

    assert with_future.metrics == without.metrics
    assert demand.evaluation_cutoff == evaluation_cutoff_for(as_of) == as_of + timedelta(days=1 - HORIZON_DAYS)
    assert set(demand.baselines) == set(BASELINES)
    assert set(demand.metrics) >= {"wape_daily", "wape_weekly", "mase", "bias", "coverage_p10_p90"}


def test_the_model_beats_the_naive_baselines_on_its_backtest(demand):
    assert demand.metrics["wape_daily"] < demand.baselines["naive"]["wape_daily"]
    assert demand.metrics["wape_weekly"] < demand.baselines["seasonal_naive_7"]["wape_weekly"]
    assert 0.5 < demand.metrics["coverage_p10_p90"] <= 1.0


def test_the_blend_is_chosen_on_the_window_before_the_one_it_is_measured_on(demand, as_of):
    evaluation_cutoff = evaluation_cutoff_for(as_of)
    evaluation, scoring = demand.blends["evaluation"], demand.blends["scoring"]

    assert evaluation.window_start == evaluation_cutoff - timedelta(days=HORIZON_DAYS)  # [V, E): never [E, S)
    assert scoring.window_start == evaluation_cutoff  # the scoring model's weight: measured out of time on [E, S)
    assert demand.model.evaluation.ets_weight == evaluation.weight in BLEND_WEIGHTS
    assert min(evaluation.wape_by_weight.values()) == evaluation.wape_by_weight[evaluation.weight]
    # the evaluation model's own blend, among the scoring model's candidates, is the WAPE reported
    assert scoring.wape_by_weight[evaluation.weight] == pytest.approx(demand.metrics["wape_daily"])


def test_with_thirty_products_the_model_does_not_beat_autoets_clearly_and_autoets_forecasts(demand, lines, products,
                                                                                            as_of):
    gate = demand.gate
    assert gate.best_baseline in GATE_BASELINES and gate.units == len(demand.products)
    assert not gate.model_wins and demand.scored_by == gate.best_baseline == "auto_ets"

    forecasts = forecast_products(demand.model.scoring, lines, products["stock_on_hand"], as_of, products.index)

    history = sales_matrix(lines, as_of + timedelta(days=1), products.index)
    expected = auto_ets(history.units, HORIZON_DAYS).ravel()
    np.testing.assert_allclose(forecasts["p50"].to_numpy(), expected)


def test_prices_are_read_from_the_history_only(lines):
    cutoff = date(2024, 1, 10)
    before = lines.loc[lines["ordered_at"] < pd.Timestamp(cutoff, tz="UTC")]
    expensive_later = lines.assign(unit_price=np.where(lines["ordered_at"] >= pd.Timestamp(cutoff, tz="UTC"), 1e6,
                                                       lines["unit_price"]))

    cut = sales_matrix(expensive_later, date(2024, 6, 1)).until(cutoff)

    pd.testing.assert_series_equal(cut.prices, sales_matrix(before, cutoff).prices.reindex(cut.products))
    assert cut.prices.max() < 1e6


def test_forecasts_are_deterministic_ordered_and_complete(demand, lines, products, as_of):
    stock = products["stock_on_hand"]
    first = forecast_products(demand.model.scoring, lines, stock, as_of, products.index)
    again = forecast_products(demand.model.scoring, lines.sample(frac=1.0, random_state=1), stock, as_of, products.index)

    pd.testing.assert_frame_equal(first, again)
    assert len(first) == len(products) * HORIZON_DAYS
    assert (first["p10"] <= first["p50"]).all() and (first["p50"] <= first["p90"]).all()
    assert first["horizon_date"].min() == as_of + timedelta(days=1)
    assert first["horizon_date"].max() == as_of + timedelta(days=HORIZON_DAYS)
    out_of_stock = first.loc[first["stock_on_hand"] == 0]
    assert (out_of_stock["days_of_cover"] == 0).all()


def test_days_of_cover_interpolates_and_extrapolates():
    p50 = np.array([[2.0] * 28, [2.0] * 28, [0.0] * 28, [1.0] * 28])
    stock = np.array([5.0, 112.0, 10.0, np.nan])

    cover = days_of_cover(p50, stock)

    assert cover[0] == pytest.approx(2.5)  # 2 + 2 = 4 by day 2, the 5th unit halfway through day 3
    assert cover[1] == pytest.approx(56.0)  # beyond the horizon at 2 a day
    assert np.isnan(cover[2]) and np.isnan(cover[3])  # sells nothing / stock unknown


def test_reorder_covers_the_horizon_plus_safety_stock():
    p50 = np.full((2, 28), 2.0)
    p10, p90 = p50 - 1.2816, p50 + 1.2816  # a daily standard deviation of 1

    reorder = reorder_quantity(p10, p50, p90, np.array([10.0, 1000.0]))

    assert reorder[0] == np.ceil(56 + 1.2816 * np.sqrt(28) - 10)
    assert reorder[1] == 0


def test_baselines_on_known_series():
    weekly = np.tile([0.0, 5, 5, 5, 5, 5, 2], 10)[None, :]
    assert seasonal_naive(weekly, 14).tolist() == [weekly[0, -7:].tolist() * 2]
    intermittent = np.tile([0.0, 0, 6], 30)[None, :]
    assert croston(intermittent, 3)[0] == pytest.approx([2.0, 2.0, 2.0], rel=1e-3)
    for method in BASELINES.values():
        forecast = method(np.abs(np.random.default_rng(0).normal(3, 1, (4, 400))), HORIZON_DAYS)
        assert forecast.shape == (4, HORIZON_DAYS) and (forecast >= 0).all()


def test_metrics_by_hand():
    actual = np.array([[1.0, 0, 3, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2]])
    forecast = np.array([[2.0, 0, 2, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0]])
    assert wape(actual, forecast) == pytest.approx(4 / 18)
    assert weekly_wape(actual, forecast) == pytest.approx(2 / 18)  # weeks 4 vs 4, 14 vs 12
    assert bias(actual, forecast) == pytest.approx(-2 / 18)
    assert mase(actual, actual, np.array([[0.0, 2, 0, 2]])) == 0


def test_too_short_a_history_is_not_enough(lines, as_of):
    recent = lines.loc[lines["ordered_at"] >= pd.Timestamp(as_of - timedelta(days=FEATURE_HISTORY_DAYS), tz="UTC")]
    with pytest.raises(NotEnoughData, match="needs sales from before"):
        train_demand_model(recent, as_of)
    with pytest.raises(NotEnoughData, match="no sales up to"):
        train_demand_model(lines.iloc[0:0], as_of)


def _cancellation_lines() -> pd.DataFrame:
    """Product p: four orders of 1 unit on 2024-03-01..04; b sells 5 units on 2024-03-02 alone.

    o2 is cancelled after the cutoff of 2024-03-06 (on the 8th), o3 before it (on the 5th), o4
    without a date; o1 and b1 never.
    """
    day = [pd.Timestamp(f"2024-03-0{n}T10:00", tz="UTC") for n in range(1, 5)]
    return pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "b1"],
        "product_id": ["p", "p", "p", "p", "b"],
        "ordered_at": [day[0], day[1], day[2], day[3], day[1]],
        "quantity": [1.0, 1.0, 1.0, 1.0, 5.0],
        "unit_price": [10.0, 12.0, 14.0, 16.0, 3.0],
        "is_cancelled": [False, True, True, True, False],
        "cancelled_at": pd.to_datetime([None, "2024-03-08T09:00", "2024-03-05T09:00", None], utc=True).append(
            pd.DatetimeIndex([pd.NaT], tz="UTC")),
    })


def test_a_past_cutoff_counts_an_order_cancelled_after_it_as_sold_and_one_cancelled_before_it_not():
    lines = _cancellation_lines()
    matrix = sales_matrix(lines, date(2024, 3, 10))  # the truth: the cancellations known now
    at_cutoff = matrix.until(date(2024, 3, 6))  # as seen at midnight starting 2024-03-06

    assert matrix.products.tolist() == ["b", "p"] and matrix.start == date(2024, 3, 1)
    np.testing.assert_array_equal(matrix.units[1, :4], [1, 0, 0, 0])
    np.testing.assert_array_equal(at_cutoff.units[1], [1, 1, 0, 0, 0])  # o2 was still a sale then; o3, o4 not
    np.testing.assert_array_equal(at_cutoff.units[0], matrix.units[0, :5])
    assert at_cutoff.prices["p"] == 11.0  # the median of o1's and o2's prices
    # a later cutoff sees o2 cancelled; cutting a cut sees what the earlier cutoff saw
    np.testing.assert_array_equal(matrix.until(date(2024, 3, 9)).units[1], matrix.units[1, :8])
    np.testing.assert_array_equal(matrix.until(date(2024, 3, 9)).until(date(2024, 3, 6)).units, at_cutoff.units)
    # without the column (an older marts) every cancellation counts at every cutoff, as before
    undated = sales_matrix(lines.drop(columns="cancelled_at"), date(2024, 3, 10))
    assert undated.cancelled is None
    np.testing.assert_array_equal(undated.until(date(2024, 3, 6)).units, matrix.units[:, :5])


def test_training_at_past_cutoffs_does_not_see_cancellations_that_came_after_them(lines, as_of):
    """Orders placed before the evaluation cutoff and cancelled only after as_of were sales at every
    cutoff the job fits or measures at: the backtest is the one of the same orders never cancelled."""
    end = pd.Timestamp(evaluation_cutoff_for(as_of), tz="UTC")
    sold = lines.loc[(lines["ordered_at"] < end) & ~lines["is_cancelled"].astype(bool)]
    orders = sold["order_id"].drop_duplicates().iloc[::5]
    later = lines["order_id"].isin(orders)
    dated = lines.assign(is_cancelled=lines["is_cancelled"].astype(bool) | later, cancelled_at=pd.Series(
        pd.Timestamp(as_of + timedelta(days=3), tz="UTC"), index=lines.index).where(later))
    kept = lines.assign(cancelled_at=pd.Series(pd.NaT, index=lines.index, dtype="datetime64[ns, UTC]"))

    seen_then = train_demand_model(dated, as_of, with_quantiles=False, with_scoring=False)
    never_cancelled = train_demand_model(kept, as_of, with_quantiles=False, with_scoring=False)

    assert later.any() and lines["is_cancelled"].any()  # beside the orders cancelled without a date
    assert seen_then.metrics == never_cancelled.metrics
    assert seen_then.baselines == never_cancelled.baselines
