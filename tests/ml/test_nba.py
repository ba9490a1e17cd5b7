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
from ml.nba.train import train_recommender

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
            assert bool(customers.loc[customer, "has_analytics_authorisation"]), customer
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
    unauthorised = ~customers["has_analytics_authorisation"]
    assert no_consent.any() and unauthorised.any() and (~no_consent & ~unauthorised).any()
    assert (blocked.loc[no_consent | unauthorised, "action"] == "none").all()
    proposed_some = proposed["action"] != "none"
    assert blocked.loc[no_consent & ~unauthorised & proposed_some, "reason"].str.startswith("no marketing consent").all()
    assert (blocked.loc[unauthorised & proposed_some, "reason"] == "no authorisation for analytics (Habeas Data)").all()


def test_no_sales_offer_to_a_customer_with_an_open_complaint(actions, customers, products):
    """The night's actions again with open complaints for some customers (customer_service_summary):
    their offers become `none` saying why; retention calls and everyone else's actions stay."""
    offered = actions.index[actions["action"].isin(["offer_product", "win_back_offer"])]
    called = actions.index[actions["action"] == "retention_call"]
    assert len(offered) >= 4 and len(called)
    complaining = [*offered[::2], called[0]]
    with_tickets = customers.assign(open_complaints=0)
    with_tickets.loc[complaining, "open_complaints"] = [2, *[1] * (len(complaining) - 1)]
    after = enforce_rules(actions, with_tickets, products, FLOOR)
    _assert_rules_hold(after, customers, products, FLOOR)
    withheld = offered[::2]
    assert (after.loc[withheld, "action"] == "none").all() and after.loc[withheld, "product_id"].isna().all()
    assert after.loc[withheld[0], "reason"] == (
        f"withheld {actions.loc[withheld[0], 'action']}: 2 open complaints in the CRM, no sales offer until resolved")
    assert after.loc[withheld[1:], "reason"].str.match(r"^withheld (offer_product|win_back_offer): 1 open complaint in").all()
    assert not after.loc[withheld, "is_marketing"].any()
    untouched = actions.index.difference(withheld)
    pd.testing.assert_frame_equal(after.loc[untouched], actions.loc[untouched])
    pd.testing.assert_frame_equal(enforce_rules(actions, customers, products, FLOOR), actions)  # no tickets: as before


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
    purchases = recommend.Purchases.from_baskets(history)
    last = purchases.last_baskets()
    targets = purchases.items_bought(last)
    earlier = purchases.select_baskets(~last)
    model = recommend.fit_ranker(earlier)  # learns from baskets[-2] with features up to baskets[-3]
    users = np.arange(len(earlier.users))
    truth = [set(targets[row].indices.tolist()) for row in users]

    ranked = recommend.recommend(recommend.context(earlier), users, 5, model=model)
    scores = {name: recommend.recall_ndcg_hit(values, truth, 5)["recall"] for name, values in ranked.items()}
    assert scores["model"] > scores["popularity"] + 0.2


def test_results_do_not_depend_on_how_customers_are_chunked(monkeypatch):
    """Memory is bounded by scoring a few customers at a time: the answer is the same in one chunk or many."""
    rng = np.random.default_rng(9)
    history = {f"u{user:03d}": [sorted({f"i{rng.integers(0, 40)}" for _ in range(4)}) for _ in range(1 + user % 7)]
               for user in range(120)}
    times = {user: sorted(rng.uniform(0, 300, len(baskets)).tolist()) for user, baskets in history.items()}
    purchases = recommend.Purchases.from_baskets(history, times)
    model = recommend.fit_ranker(purchases)
    users = np.arange(len(purchases.users))
    whole = recommend.recommend(recommend.context(purchases, 301.0), users, 10, model=model)

    monkeypatch.setattr(recommend, "CELLS_PER_CHUNK", 7 * 120)  # chunks of 7 customers
    chunked = recommend.recommend(recommend.context(purchases, 301.0), users, 10, model=model)

    for name in whole:
        np.testing.assert_array_equal(chunked[name], whole[name])


def test_tifu_knn_vectors_follow_the_papers_grouping():
    """Hu et al. 2020: 7 groups of nearly equal size, decays 0.9 within (over the whole history) and 0.7 between."""
    ten = recommend.tifu_basket_weights(np.arange(10), np.full(10, 10))
    # 10 baskets: groups of 1, 1, 1, 1, 2, 2, 2 (the newest groups take the extra baskets)
    group = np.array([0, 1, 2, 3, 4, 4, 5, 5, 6, 6])
    size = np.array([1, 1, 1, 1, 2, 2, 2, 2, 2, 2])
    expected = 0.9 ** (9 - np.arange(10)) / size * 0.7 ** (6 - group) / 7
    np.testing.assert_allclose(ten, expected)
    three = recommend.tifu_basket_weights(np.arange(3), np.full(3, 3))
    # fewer than 7 baskets: one group each, decayed as the authors' code does (0.7^(7 - 1 - group))
    np.testing.assert_allclose(three, 0.9 ** (2 - np.arange(3)) * 0.7 ** (6 - np.arange(3)) / 3)

    history = {"a": [["x"], ["x", "y"]], "b": [["x"], ["y"]], "c": [["z"]]}
    ctx = recommend.context(recommend.Purchases.from_baskets(history))
    vectors = ctx.tifu_vectors.toarray()  # items x, y, z
    np.testing.assert_allclose(vectors[0], [(0.9 * 0.7 ** 6 + 0.7 ** 5) / 2, 0.7 ** 5 / 2, 0])
    # c's nearest other customer by Euclidean distance is b (both vectors are short), then a
    np.testing.assert_allclose(recommend.tifu_neighbour_part(ctx, np.array([2]), neighbours=1)[0], vectors[1])


def test_a_ranker_that_does_not_beat_the_baselines_clearly_is_not_used(lines, as_of):
    """On 30 products the baselines already find nearly everything: the gate ships one of them."""
    end = pd.Timestamp(as_of + timedelta(days=1), tz="UTC")
    result = train_recommender(recommend.Purchases.from_lines(lines, end), day_number(end), as_of)

    gate = result.gate
    assert gate.best_baseline in ("personal", "tifu_knn") and gate.metric == "recall_at_10"
    assert not gate.model_wins and result.scored_by == gate.best_baseline and result.model.ranker is None
    assert gate.units == result.metrics["users"] == result.baselines["personal"]["users"] > 100
    assert result.metadata()["gate"]["winner"] == gate.best_baseline


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
    purchases = recommend.Purchases.from_baskets(history, times)
    sets = recommend.horizon_training_sets(purchases, 100.0, horizon_days=56.0, windows=3, step_days=28.0)

    def targets(training):
        return {user: sorted(purchases.items[training.targets[row].indices].tolist())
                for row, user in enumerate(purchases.users) if training.targets[row].nnz}

    # windows posed on days 44, 16 (and -12: nobody has a basket before it)
    assert [training.now for training in sets] == [44.0, 16.0] and [training.window for training in sets] == [1, 2]
    latest = sets[0]
    assert latest.earlier.baskets()[0] == {"a": [["x"], ["y"], ["x", "z"]], "b": [["x"]]}
    assert targets(latest) == {"b": ["x"]}  # a's basket of day 100 is not before now = 100: never read
    assert targets(sets[1]) == {"a": ["x", "z"], "b": ["x"]}
    new_only = recommend.horizon_training_sets(purchases, 100.0, horizon_days=56.0, windows=3, step_days=28.0,
                                               exclude_bought=True)
    assert [targets(training) for training in new_only] == [{"a": ["z"]}]  # b bought nothing new


def test_repeat_cycle_features_by_hand():
    history = {"a": [["x"], ["x", "y"], ["x"]], "b": [["y"]]}
    times = {"a": [0.0, 10.0, 30.0], "b": [20.0]}
    purchases = recommend.Purchases.from_baskets(history, times)
    (chunk,) = recommend.chunks(recommend.context(purchases, 40.0), np.arange(2))
    frame = chunk.candidates
    features = frame.features.assign(user=purchases.users[chunk.users[frame.rows]], item=purchases.items[frame.columns])
    ax = features.set_index(["user", "item"]).loc[("a", "x")]
    assert ax["days_since_item"] == 10.0
    assert ax["item_gap_days"] == 15.0  # bought on days 0, 10 and 30
    assert ax["item_due"] == pytest.approx(10.0 / 15.0)
    assert ax["days_since_last_basket"] == 10.0 and ax["days_as_customer"] == 40.0
    assert ax["personal_count"] == 3 and ax["baskets_since_last"] == 1
    ay = features.set_index(["user", "item"]).loc[("a", "y")]
    assert np.isnan(ay["item_gap_days"])  # bought once
    (untimed,) = recommend.chunks(recommend.context(recommend.Purchases.from_baskets(history)), np.arange(2))
    assert untimed.candidates.features["days_since_item"].isna().all()


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


def _cancelled_lines() -> pd.DataFrame:
    """Customer a: o1 (x) on 2024-03-01; o2 (y) on the 2nd, cancelled on the 8th; o3 (z) on the 3rd,
    cancelled on the 4th; o4 (w) on the 4th, cancelled without a date. Customer b: only o5 (y) on
    the 2nd, cancelled on the 8th."""
    at = pd.Timestamp("2024-03-01T10:00", tz="UTC")
    return pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b"],
        "order_id": ["o1", "o2", "o3", "o4", "o5"],
        "product_id": ["x", "y", "z", "w", "y"],
        "quantity": [1, 1, 1, 1, 1],
        "ordered_at": [at, at + pd.Timedelta(days=1), at + pd.Timedelta(days=2), at + pd.Timedelta(days=3),
                       at + pd.Timedelta(days=1)],
        "is_cancelled": [False, True, True, True, True],
        "cancelled_at": pd.to_datetime([None, "2024-03-08", "2024-03-04", None, "2024-03-08"], utc=True),
    })


def test_baskets_at_a_past_cutoff_keep_an_order_cancelled_after_it_and_drop_one_cancelled_before():
    lines = _cancelled_lines()

    history, times = timed_baskets_of(lines, date(2024, 3, 6))

    assert history == {"a": [["x"], ["y"]], "b": [["y"]]}  # o2 and o5 were cancelled on the 8th
    assert times["a"] == [day_number(lines["ordered_at"][0]), day_number(lines["ordered_at"][1])]
    assert baskets_of(lines, date(2024, 3, 9)) == {"a": [["x"]]}  # after the 8th they were cancelled
    # without the column (an older marts) every cancellation counts at every cutoff
    assert baskets_of(lines.drop(columns="cancelled_at"), date(2024, 3, 6)) == {"a": [["x"]]}


def test_purchases_are_cut_as_each_day_saw_them_and_targets_keep_the_cancellations_known_now():
    lines = _cancelled_lines()
    later = pd.DataFrame({"customer_id": ["a", "b"], "order_id": ["o6", "o7"], "product_id": ["y", "x"],
                          "quantity": [1, 1], "ordered_at": pd.Timestamp("2024-03-07T10:00", tz="UTC"),
                          "is_cancelled": [False, True],
                          "cancelled_at": pd.to_datetime(["NaT", "2024-03-09"], utc=True)})
    purchases = recommend.Purchases.from_lines(pd.concat([lines, later], ignore_index=True),
                                               pd.Timestamp("2024-03-10", tz="UTC"))
    split = day_number(pd.Timestamp("2024-03-06", tz="UTC"))

    # w was cancelled at no known date: never bought; z and b's only order were bought before the cancellations
    assert purchases.users.tolist() == ["a", "b"] and purchases.items.tolist() == ["x", "y", "z"]
    assert purchases.baskets()[0] == {"a": [["x"], ["y"]]}  # the truth: o1 and o6
    assert purchases.before(split).baskets()[0] == {"a": [["x"], ["y"]], "b": [["y"]]}  # o1, o2 and o5
    # at midnight starting the 9th: o2 and o5 are cancelled; o7, cancelled at that very instant, not yet
    assert purchases.before(split + 3).baskets()[0] == {"a": [["x"], ["y"]], "b": [["x"]]}
    assert purchases.before(split + 3.5).baskets()[0] == {"a": [["x"], ["y"]]}
    assert purchases.before(split + 3).before(split).baskets()[0] == purchases.before(split).baskets()[0]
    (training,) = recommend.horizon_training_sets(purchases, split + 4, horizon_days=4, windows=1)
    assert training.earlier.baskets()[0] == purchases.before(split).baskets()[0]
    # the target of the window from the 6th: o6 only (o7 is cancelled now)
    assert training.targets.toarray().tolist() == [[0, 1, 0], [0, 0, 0]]
