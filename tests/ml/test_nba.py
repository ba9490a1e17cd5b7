"""Next-best-action: the stock, margin and consent rules hold for every action; recommendations."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ml.churn.score import score_customers
from ml.nba import recommend
from ml.nba.actions import (
    ACTIONS,
    MARKETING_ACTIONS,
    baskets_of,
    day_number,
    decide_actions,
    enforce_rules,
    margin_floor,
    offerable,
    timed_baskets_of,
)

FLOOR = 0.15


@pytest.fixture(scope="module")
def churn(trained, order_orders, lines, as_of):
    return score_customers(trained.model, order_orders, as_of, lines)


@pytest.fixture(scope="module")
def actions(customers, churn, order_orders, lines, products, as_of):
    return decide_actions(customers, churn, order_orders, lines, products, as_of, FLOOR)


def _assert_rules_hold(actions: pd.DataFrame, customers: pd.DataFrame, products: pd.DataFrame, floor: float) -> None:
    margin = (products["list_price"] - products["unit_cost"]) / products["list_price"]
    for customer, action in actions.iterrows():
        assert action["action"] in ACTIONS
        if action["action"] in MARKETING_ACTIONS:
            assert bool(customers.loc[customer, "has_marketing_consent"]), customer
        if action["action"] == "offer_product":
            product = products.loc[action["product_id"]]
            assert product["stock_on_hand"] > 0, customer
            assert bool(product["is_active"]), customer
            assert margin.loc[action["product_id"]] >= floor, customer
        else:
            assert action["product_id"] is None or pd.isna(action["product_id"])
        assert action["is_marketing"] == (action["action"] in MARKETING_ACTIONS)
        assert isinstance(action["reason"], str) and action["reason"]


def test_every_action_respects_stock_margin_and_consent(actions, customers, products):
    assert actions.index.equals(customers.index)  # exactly one action per customer
    _assert_rules_hold(actions, customers, products, FLOOR)
    assert set(actions["action"]) >= {"offer_product", "retention_call", "none"}


def test_the_final_filter_blocks_every_forbidden_action(customers, products):
    rng = np.random.default_rng(0)
    proposed = pd.DataFrame(
        {
            "action": rng.choice(ACTIONS, len(customers)),
            "product_id": rng.choice(products.index, len(customers)),
            "reason": "proposed",
            "churn_probability": 0.5,
        },
        index=customers.index,
    )
    proposed.loc[proposed["action"] != "offer_product", "product_id"] = None

    for floor in (0.0, 0.15, 0.4):
        filtered = enforce_rules(proposed, customers, products, floor)
        _assert_rules_hold(filtered, customers, products, floor)
    blocked = enforce_rules(proposed, customers, products, 0.15)
    no_consent = ~customers["has_marketing_consent"]
    assert (blocked.loc[no_consent, "action"] == "none").all()
    assert blocked.loc[no_consent & (proposed["action"] != "none"), "reason"].str.startswith("no marketing consent").all()


def test_offerable_products_by_hand(products):
    allowed = offerable(products, FLOOR)
    assert not allowed.loc[products["stock_on_hand"] <= 0].any()
    assert not allowed.loc[~products["is_active"]].any()
    assert not allowed.loc[products["unit_cost"].isna()].any()  # unknown cost: margin unknown, not offered
    assert allowed.any()


def test_actions_are_deterministic_and_ignore_the_future(customers, churn, order_orders, lines, products, as_of, actions):
    shuffled = decide_actions(
        customers, churn, order_orders.sample(frac=1.0, random_state=2), lines.sample(frac=1.0, random_state=3),
        products, as_of, FLOOR,
    )
    pd.testing.assert_frame_equal(shuffled, actions)
    shift = pd.Timedelta(days=1)
    future_lines = lines.assign(ordered_at=lines["ordered_at"].max() + shift, order_id=lines["order_id"] + "-later")
    future_orders = order_orders.assign(ordered_at=order_orders["ordered_at"].max() + shift)
    with_future = decide_actions(
        customers, churn, pd.concat([order_orders, future_orders]), pd.concat([lines, future_lines]), products, as_of,
        FLOOR,
    )
    pd.testing.assert_frame_equal(with_future, actions)


def test_reasons_say_why_in_plain_words(actions):
    offers = actions.loc[actions["action"] == "offer_product", "reason"]
    assert offers.str.match(r"^(replenishment: bought .+ in \d+ orders?|cross-sell: )").all()
    calls = actions.loc[actions["action"] == "retention_call", "reason"]
    assert calls.str.match(r"^(high|medium) churn risk \(\d+%\)").all()


def test_margin_floor_setting():
    assert margin_floor({}) == 0.15
    assert margin_floor({"PUENTE_MARGIN_FLOOR": "0.3"}) == 0.3
    with pytest.raises(ValueError, match="PUENTE_MARGIN_FLOOR"):
        margin_floor({"PUENTE_MARGIN_FLOOR": "15%"})
    with pytest.raises(ValueError, match="between 0 and 1"):
        margin_floor({"PUENTE_MARGIN_FLOOR": "15"})


def test_baskets_are_orders_before_the_cutoff(lines, as_of):
    cutoff = as_of - timedelta(days=100)
    history = baskets_of(lines, cutoff)
    early = lines.loc[(lines["ordered_at"] < pd.Timestamp(cutoff, tz="UTC")) & ~lines["is_cancelled"]]
    assert sum(len(baskets) for baskets in history.values()) == early["order_id"].nunique()


def test_the_ranker_learns_without_seeing_the_basket_it_is_measured_on():
    rng = np.random.default_rng(4)
    history = {
        f"u{user}": [sorted({f"i{rng.integers(0, 5) + 5 * (user % 4)}" for _ in range(3)}) for _ in range(6)]
        for user in range(80)
    }
    targets = {user: baskets[-1] for user, baskets in history.items()}
    earlier = {user: baskets[:-1] for user, baskets in history.items()}
    model = recommend.fit_ranker(earlier)  # learns from baskets[-2] with features up to baskets[-3]
    users = sorted(history)
    space = recommend.ItemSpace.of(earlier)
    frame, baselines = recommend.candidates(earlier, users, space)
    truth = [set(space.columns(targets[user]).tolist()) for user in users]

    ranked = recommend.recall_ndcg_hit(recommend.rank(model, frame, len(users), 5), truth, 5)
    popular = recommend.recall_ndcg_hit(recommend.top_k(baselines["popularity"], 5), truth, 5)
    assert ranked["recall"] > popular["recall"] + 0.2


def test_recall_and_ndcg_by_hand():
    recommended = np.array([[0, 1, 2], [5, 6, 7]])
    metrics = recommend.recall_ndcg_hit(recommended, [{1, 9}, {7}], 3)
    assert metrics["recall"] == pytest.approx((0.5 + 1.0) / 2)
    assert metrics["hit_rate"] == 1.0
    ndcg_first = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert metrics["ndcg"] == pytest.approx((ndcg_first + 1 / np.log2(4)) / 2)


def test_horizon_training_never_reads_the_day_it_is_posed_or_later():
    history = {"a": [["x"], ["y"], ["x", "z"], ["w"]], "b": [["x"], ["x"]]}
    times = {"a": [0.0, 10.0, 40.0, 100.0], "b": [5.0, 45.0]}
    sets = recommend.horizon_training_sets(history, times, 100.0, horizon_days=56.0, windows=3, step_days=28.0)
    # windows posed on days 44, 16 (and -12: nobody has a basket before it)
    assert [training.now for training in sets] == [44.0, 16.0]
    latest = sets[0]
    assert latest.earlier == {"a": [["x"], ["y"], ["x", "z"]], "b": [["x"]]}
    assert latest.targets == {"b": ["x"]}  # a's basket of day 100 is not before now = 100: never read
    assert sets[1].targets == {"a": ["x", "z"], "b": ["x"]}
    new_only = recommend.horizon_training_sets(
        history, times, 100.0, horizon_days=56.0, windows=3, step_days=28.0, exclude_bought=True
    )
    assert [training.targets for training in new_only] == [{"a": ["z"]}]  # b bought nothing new


def test_repeat_cycle_features_by_hand():
    history = {"a": [["x"], ["x", "y"], ["x"]], "b": [["y"]]}
    times = {"a": [0.0, 10.0, 30.0], "b": [20.0]}
    users = ["a", "b"]
    space = recommend.ItemSpace.of(history)
    frame, _ = recommend.candidates(history, users, space, times=times, now=40.0)
    features = frame.features.assign(user=np.array(users)[frame.rows], item=space.items[frame.columns])
    ax = features.set_index(["user", "item"]).loc[("a", "x")]
    assert ax["days_since_item"] == 10.0
    assert ax["item_gap_days"] == 15.0  # bought on days 0, 10 and 30
    assert ax["item_due"] == pytest.approx(10.0 / 15.0)
    assert ax["days_since_last_basket"] == 10.0 and ax["days_as_customer"] == 40.0
    ay = features.set_index(["user", "item"]).loc[("a", "y")]
    assert np.isnan(ay["item_gap_days"])  # bought once
    untimed, _ = recommend.candidates(history, users, space)
    assert untimed.features["days_since_item"].isna().all()


def test_baskets_are_the_orders_before_the_cutoff_oldest_first():
    at = pd.Timestamp("2024-03-01T10:00", tz="UTC")
    lines = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "b", None],
        "order_id": ["o2", "o2", "o1", "o3", "o4", "o5", "o6"],
        "product_id": ["y", "x", "z", "x", "x", "y", "x"],
        "quantity": [1, 2, 1, 1, 1, -1, 1],
        "is_cancelled": [False, False, False, False, True, False, False],
        "ordered_at": [at + pd.Timedelta(days=2)] * 2 + [at, at + pd.Timedelta(days=9), at, at, at],
    })

    history, times = timed_baskets_of(lines, date(2024, 3, 5))

    # o3 is after the cutoff, o4 cancelled, o5 a return, o6 has no customer
    assert history == {"a": [["z"], ["x", "y"]]} == baskets_of(lines, date(2024, 3, 5))
    assert times == {"a": [day_number(at), day_number(at) + 2.0]}


def test_timed_baskets_are_the_orders_with_their_days(lines, as_of):
    history, times = timed_baskets_of(lines, as_of)
    for customer, days in times.items():
        assert len(days) == len(history[customer]) and days == sorted(days)
        assert days[-1] < day_number(pd.Timestamp(as_of, tz="UTC"))
