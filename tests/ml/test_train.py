"""Time-based training of the churn model: what it learns, when, and when it refuses."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss

from ml.churn.features import LABEL_WINDOW_DAYS, build_features, cutoff_after, cutoff_instant
from ml.churn.model import CalibratedBaseline, CalibratedLogistic, RobustLogistic, churn_probability
from ml.churn.train import NotEnoughData, train_churn_model

LABEL_WINDOW = timedelta(days=LABEL_WINDOW_DAYS)


def test_model_beats_the_baselines_clearly_on_learnable_data_and_ships(trained):
    model, recency = trained.metrics, trained.baselines["recency"]

    assert model["roc_auc"] > 0.9
    assert model["roc_auc"] >= recency["roc_auc"]
    assert model["pr_auc"] >= recency["pr_auc"]
    assert model["top_decile_lift"] > 1.5
    assert model["customers"] == recency["customers"] > 250
    gate = trained.gate
    best = max(trained.baselines, key=lambda name: trained.baselines[name]["roc_auc"])
    assert (gate.best_baseline, gate.baseline, gate.model) == (best, trained.baselines[best]["roc_auc"], model["roc_auc"])
    assert gate.margin > gate.uncertainty > 0 and gate.units == model["customers"]
    assert trained.scored_by == "model" and isinstance(trained.model.scoring, CalibratedLogistic)


@pytest.mark.parametrize(
    ("history", "best", "score"),
    [("bgnbd_history", "bgnbd", "bgnbd_expected_90d"),
     ("no_purchase_history", "bgnbd_no_purchase", "bgnbd_p_no_purchase_90d")],
)
def test_a_small_history_where_a_baseline_is_best_is_scored_by_that_baseline(history, best, score, request, as_of):
    """Drawn from BG/NBD's own process: no model beats it clearly, so the best baseline measured scores customers."""
    orders = request.getfixturevalue(history)
    result = request.getfixturevalue("bgnbd_trained") if history == "bgnbd_history" else train_churn_model(orders, as_of)

    gate = result.gate
    assert set(result.baselines) == {"recency", "bgnbd", "bgnbd_no_purchase"}
    assert max(result.baselines, key=lambda name: result.baselines[name]["roc_auc"]) == best == gate.best_baseline
    assert gate.baseline == result.baselines[best]["roc_auc"] and not gate.model_wins
    assert gate.margin <= gate.uncertainty
    assert result.scored_by == best == result.metadata()["scored_by"]
    assert isinstance(result.model.scoring, CalibratedBaseline) and result.model.scoring.name == best
    assert result.metadata()["gate"]["winner"] == best
    # the churn probability follows the baseline's own ranking: fewer purchases expected, or none likelier
    features = build_features(orders, cutoff_after(as_of))
    probability = churn_probability(result.model.scoring, features)
    direction = -1.0 if best == "bgnbd" else 1.0
    assert probability.corr(features[score].fillna(0), method="spearman") == pytest.approx(direction)
    assert probability.between(0, 1).all()


def test_no_label_the_models_learnt_from_reaches_past_their_cutoff(trained, as_of):
    evaluation_cutoff = trained.evaluation.cutoffs[0]

    assert evaluation_cutoff == cutoff_after(as_of) - LABEL_WINDOW  # labels end with the data
    assert max(trained.evaluation_model_cutoffs) + LABEL_WINDOW <= evaluation_cutoff
    assert max(trained.scoring_model_cutoffs) == evaluation_cutoff  # refitted up to the last labelled cutoff
    assert len(trained.evaluation_model_cutoffs) >= 3


def test_the_gate_needs_a_margin_larger_than_its_uncertainty():
    from ml.promotion import gate

    noise = np.random.default_rng(0).normal(size=400)
    labels = pd.Series((noise + np.random.default_rng(1).normal(size=400) > 0).astype(int))

    def verdict(model_scores, baseline_scores):
        scores = {"model": model_scores, "baseline": baseline_scores}
        from ml.churn.evaluate import roc_auc_or_nan

        truth = labels.to_numpy()
        return gate("roc_auc", roc_auc_or_nan(truth, model_scores), {"baseline": roc_auc_or_nan(truth, baseline_scores)},
                    lambda name, rows: roc_auc_or_nan(truth[rows], scores[name][rows]), len(truth))

    same = verdict(noise, noise)
    assert same.margin == 0 and not same.model_wins and same.winner == "baseline"
    slightly = verdict(noise + 0.01 * np.random.default_rng(2).normal(size=400), noise)
    assert not slightly.model_wins  # a difference within the noise is no win
    clearly = verdict(labels.to_numpy() + noise, noise)
    assert clearly.model_wins and clearly.winner == "model" and clearly.margin > clearly.uncertainty
    lower = gate("wape", 0.8, {"a": 0.9, "b": 1.2}, lambda name, rows: {"model": 0.8, "a": 0.9}[name], 50,
                 higher_is_better=False)
    assert (lower.best_baseline, round(lower.margin, 6), lower.uncertainty, lower.model_wins) == ("a", 0.1, 0.0, True)
    # Preferred baselines: the model is measured against the best of all, and the best preferred one ships
    # unless another beats it by more than its uncertainty.
    noisy = np.random.default_rng(5)
    wape = {"model": 1.0, "a": 0.9, "b": 0.95, "c": 1.2}
    within = gate("wape", 1.0, {"a": 0.9, "b": 0.95, "c": 1.2}, lambda name, rows: wape[name] + noisy.normal(0, 0.3),
                  50, higher_is_better=False, preferred=("b", "c"))
    assert (within.best_baseline, within.fallback, within.winner, within.model_wins) == ("a", "b", "b", False)
    assert within.sentence().startswith("b ships, model did not beat the best baseline")
    clearly_better = gate("wape", 1.0, {"a": 0.9, "b": 0.95, "c": 1.2}, lambda name, rows: wape[name], 50,
                          higher_is_better=False, preferred=("b", "c"))
    assert (clearly_better.best_baseline, clearly_better.winner) == ("a", "a")
    assert gate("wape", 1.0, {"a": 0.9}, lambda name, rows: 0.0, 50, higher_is_better=False).winner == "a"
    with pytest.raises(ValueError, match="none of the preferred baselines"):
        gate("wape", 1.0, {"a": 0.9}, lambda name, rows: 0.0, 50, higher_is_better=False, preferred=("z",))


def test_churn_ships_recency_only_when_it_beats_bg_nbd_clearly():
    """The model is measured against the best baseline, recency included; losing, BG/NBD's better score ships
    unless recency beats it by more than its uncertainty, as the model would have to."""
    from ml.churn.train import roc_auc_gate

    rng = np.random.default_rng(4)
    labels = pd.Series((rng.normal(size=600) > 0).astype(int))
    signal = labels.to_numpy() + rng.normal(size=600)
    bgnbd = signal + rng.normal(size=600)
    weak = {"model": signal * 0.2 + rng.normal(size=600), "bgnbd_no_purchase": signal * 0.5 + rng.normal(size=600),
            "bgnbd": bgnbd}

    # Recency as good as BG/NBD but for its own noise: here it ranks a little better (0.704 against 0.695).
    edged = roc_auc_gate(labels, {**weak, "recency": signal + np.random.default_rng(100).normal(size=600)})
    assert edged.best_baseline == "recency" and edged.baseline > edged.model  # the bar is recency's
    assert not edged.model_wins and edged.fallback == "bgnbd" and edged.winner == "bgnbd"
    assert edged.as_dict()["winner"] == "bgnbd" and edged.as_dict()["best_baseline"] == "recency"

    clear = roc_auc_gate(labels, {**weak, "recency": signal * 3.0 + rng.normal(size=600)})
    assert clear.best_baseline == "recency" and not clear.model_wins and clear.winner == "recency"

    beaten = roc_auc_gate(labels, {**weak, "model": signal * 3.0 + rng.normal(size=600),
                                   "recency": signal * 0.5 + rng.normal(size=600)})
    assert beaten.model_wins and beaten.winner == "model"


def test_the_churn_job_scores_with_what_its_gate_ships(orders, as_of, monkeypatch):
    """Not the best baseline measured, when the gate ships another one in the model's place."""
    import ml.churn.train as train
    from ml.promotion import GateResult

    shipped_instead = GateResult("roc_auc", True, 0.5, "recency", 0.8, -0.3, 0.01, 300, fallback="bgnbd")
    monkeypatch.setattr(train, "roc_auc_gate", lambda labels, scores: shipped_instead)
    result = train.train_churn_model(orders, as_of)

    assert result.scored_by == "bgnbd" and isinstance(result.model.scoring, CalibratedBaseline)
    assert result.model.scoring.name == "bgnbd"


def test_a_churn_rate_that_differs_between_cutoffs_is_not_read_as_an_effect_of_the_inputs():
    """Later cutoff: everyone's last order is older and more churn, but within each cutoff recency says nothing."""
    rng = np.random.default_rng(3)
    customers = pd.Index([f"c{number}" for number in range(1000)], name="customer_id")
    cutoffs = {date(2024, 1, 1): (5, 0.2), date(2024, 2, 1): (60, 0.8)}  # recency from, churn rate
    frames, labels = [], []
    for recency_from, churn_rate in cutoffs.values():
        recency = rng.uniform(recency_from, recency_from + 30, len(customers))
        frames.append(pd.DataFrame({"bgnbd_expected_90d": 1.0, "recency_days": recency, "purchase_days_365d": 3.0,
                                    "purchase_days_90d": 1.0, "amount_sum_365d": 100.0, "tenure_days": 200.0,
                                    "gap_median_days": 30.0, "cancelled_share": 0.0}, index=customers))
        labels.append(pd.Series((rng.uniform(size=len(customers)) < churn_rate).astype(int), index=customers))
    features = pd.concat(frames, keys=list(cutoffs), names=["cutoff"])
    churned = pd.concat(labels, keys=list(cutoffs), names=["cutoff"])
    first = frames[0]

    def spread_within_a_cutoff(model: RobustLogistic) -> float:  # log-odds, from the most recent buyer to the least
        raw = model.raw_score(first)
        return float(raw.max() - raw.min())

    per_cutoff = spread_within_a_cutoff(RobustLogistic.fit(features, churned))
    pooled = spread_within_a_cutoff(RobustLogistic.fit(features.droplevel("cutoff"), churned.droplevel("cutoff")))

    assert pooled > 1.0  # one intercept for both dates: the later date's churn is blamed on recency
    assert per_cutoff < 0.2


def test_probabilities_are_calibrated(trained):
    probability = churn_probability(trained.model.evaluation, trained.evaluation.features)

    assert probability.mean() == pytest.approx(trained.evaluation.labels.mean(), abs=0.05)
    assert brier_score_loss(trained.evaluation.labels, probability) < 0.15


def test_orders_after_as_of_change_nothing(orders, as_of, trained):
    to_next_day = cutoff_instant(cutoff_after(as_of)) - orders["ordered_at"].min()
    future = orders.assign(ordered_at=orders["ordered_at"] + to_next_day)  # the same history, after as_of
    with_future = train_churn_model(pd.concat([orders, future], ignore_index=True), as_of)

    assert with_future.metrics == trained.metrics
    assert with_future.row_counts == trained.row_counts


def test_too_few_customers_is_not_enough(make_orders, as_of):
    with pytest.raises(NotEnoughData, match="labelled customers.*needs at least 50"):
        train_churn_model(make_orders(customers=30), as_of)


def test_too_short_a_history_is_not_enough(make_orders, as_of):
    recent = make_orders(start=as_of - timedelta(days=200))

    with pytest.raises(NotEnoughData, match=r"needs orders from before 2023-12-04.*earliest order"):
        train_churn_model(recent, as_of)


def test_customers_who_all_come_back_are_not_enough(as_of):
    weekly = pd.DataFrame(
        {
            "customer_id": [f"c{number}" for number in range(60) for _ in range(110)],
            "ordered_at": [
                pd.Timestamp(date(2022, 7, 1), tz="UTC") + pd.Timedelta(weeks=week)
                for _ in range(60)
                for week in range(110)
            ],
            "amount_total": 10.0,
            "channel": "web",
            "is_cancelled": False,
        }
    )

    with pytest.raises(NotEnoughData, match="both churned and returning"):
        train_churn_model(weekly, as_of)


def test_no_orders_is_not_enough(orders, as_of):
    with pytest.raises(NotEnoughData, match="no orders up to 2024-06-30"):
        train_churn_model(orders.iloc[0:0], as_of)


def test_the_product_input_is_used_only_with_lines_and_enough_customers(order_orders, lines, as_of, monkeypatch):
    """How popular a customer's products are is read from a few hundred customers' lines too noisily
    (bench/RESULTS.md, fifth round): the model takes it from PRODUCT_INPUT_MIN_CUSTOMERS active customers."""
    import ml.churn.train as train

    popularity = "log_product_popularity"
    small = train_churn_model(order_orders, as_of, lines)
    assert small.evaluation.features.shape[0] < train.PRODUCT_INPUT_MIN_CUSTOMERS
    assert popularity not in small.inputs and popularity not in small.metadata()["params"]["inputs"]

    monkeypatch.setattr(train, "PRODUCT_INPUT_MIN_CUSTOMERS", 100)
    large = train_churn_model(order_orders, as_of, lines)
    assert large.inputs[-1] == popularity and large.metadata()["params"]["inputs"][-1] == popularity
    assert large.model.evaluation.logistic.inputs == large.inputs
    assert popularity not in train_churn_model(order_orders, as_of).inputs  # no lines: no product input


def test_the_price_input_is_used_with_lines_at_any_size(order_orders, lines, as_of):
    """The mean price paid per unit helped on samples of 500 customers too (bench/RESULTS.md, sixth round)."""
    from ml.churn.model import LINE_INPUTS, ROBUST_INPUTS, robust_inputs

    small = train_churn_model(order_orders, as_of, lines)
    assert small.inputs[: len(ROBUST_INPUTS) + 1] == (*ROBUST_INPUTS, "log_unit_price") == (*ROBUST_INPUTS, *LINE_INPUTS)
    assert small.metadata()["params"]["inputs"] == list(small.inputs)
    assert small.model.evaluation.logistic.inputs == small.inputs
    assert "log_unit_price" not in train_churn_model(order_orders, as_of).inputs  # no lines: no price input

    features = small.evaluation.features
    model = small.model.evaluation.logistic
    price = robust_inputs(features, model.fills)["log_unit_price"]
    known = features["unit_price_365d"].notna()
    assert known.any() and np.allclose(price[known], np.log(features.loc[known, "unit_price_365d"]))
    # A customer without a price of their own gets the median the model learnt, whoever else is scored
    # with them: alone or beside the others, the same score.
    lacking = features.iloc[[0]].assign(unit_price_365d=np.nan)
    assert robust_inputs(lacking, model.fills)["log_unit_price"].iloc[0] == model.fills["log_unit_price"]
    assert price.min() <= model.fills["log_unit_price"] <= price.max()
    beside = pd.concat([lacking, features.iloc[1:]])
    assert model.raw_score(lacking)[0] == pytest.approx(model.raw_score(beside)[0])
