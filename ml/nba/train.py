"""Weekly training of the next-best-action ranker, its out-of-time evaluation and promotion gate.

The ranker learns "what will this customer buy in the next 8 weeks", posed at monthly
windows of the past (`ml.nba.recommend.horizon_training_sets`; window 1 is seen 8 weeks
before `now`, its target the 8 weeks up to `now`):

* the *evaluation ranker* learns from windows 3 to 13, whose targets all end before window 1
  starts, and is measured on window 1 beside the baselines;
* it ranks the products the CRM offers only if its recall@10 beats the better of personal
  frequency and TIFU-KNN by more than the bootstrap uncertainty over customers
  (`ml.promotion.gate`); otherwise that baseline orders the products;
* when it wins, the *scoring ranker* learns the same recipe one step later, from windows 1
  to 11, and ranks tonight's candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ml.artifacts import run_metadata
from ml.nba import recommend
from ml.promotion import MODEL, GateResult, gate

K = 10
GATE_BASELINES = ("personal", "tifu_knn")
MIN_QUERIES = 30  # customers with a target the latest window must hold for a ranker to learn anything
MAX_GATE_USERS = 10_000  # customers the gate measures, drawn at random beyond that
EVALUATION_FIRST_WINDOW = 3  # the first window whose target ends before window 1 starts (8 weeks = 2 steps)


class NotEnoughData(RuntimeError):
    """Too few customers bought in the latest windows for a ranker to learn and be measured."""


@dataclass(frozen=True)
class Recommender:
    """What a next-best-action artifact holds: the ranker, or the name of the baseline that beat it."""

    ranker: recommend.NextBasketRanker | None
    scored_by: str = MODEL

    def describe(self) -> str:
        if self.scored_by == MODEL:
            return ("8-week LambdaRank over personal, recent, TIFU-KNN, item-kNN and popular candidates with "
                    "repeat-cycle features, learnt at each month of the past year (ml.nba.recommend)")
        return f"{self.scored_by} (the ranker did not beat it clearly on the last 8 weeks; ml.nba.train)"


@dataclass(frozen=True)
class RecommenderTrainingResult:
    model: Recommender
    as_of: date
    data_window: tuple[date, date]
    evaluation_split: float  # the day window 1 is seen at
    metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    gate: GateResult
    row_counts: dict[str, int]

    @property
    def scored_by(self) -> str:
        return self.model.scored_by

    def metadata(self) -> dict[str, Any]:
        return {
            **run_metadata(self.as_of, self.data_window, self.metrics, self.baselines, self.gate, self.row_counts),
            "training_cutoffs": [],
            "evaluation_split_day": self.evaluation_split,
            "horizon_days": recommend.HORIZON_DAYS,
            "features": list(recommend.RANKER_FEATURES),
            "params": dict(recommend.RANKER_PARAMS),
        }


def per_user_recall(recommended: np.ndarray, targets: list[set[int]], k: int = K) -> np.ndarray:
    """Each user's recall@k (the share of their target items in the top `k`)."""
    return np.array([len(target.intersection(row[:k].tolist())) / len(target)
                     for row, target in zip(recommended, targets, strict=True)])


def evaluate(ctx: recommend.Context, users: np.ndarray, targets: list[set[int]], ranker: recommend.NextBasketRanker
             ) -> tuple[dict[str, float], dict[str, dict[str, float]], GateResult]:
    """Recall, NDCG and hit-rate at `K` of the ranker and every baseline on `users`, and the gate on recall."""
    ranked = recommend.recommend(ctx, users, K, model=ranker)
    measured = {name: recommend.recall_ndcg_hit(ranked[name], targets, K) for name in ranked}
    recalls = {name: per_user_recall(ranked[name], targets) for name in (MODEL, *GATE_BASELINES)}
    verdict = gate(
        "recall_at_10", float(recalls[MODEL].mean()), {name: float(recalls[name].mean()) for name in GATE_BASELINES},
        lambda name, rows: float(recalls[name][rows].mean()), len(users),
    )
    return measured.pop(MODEL), measured, verdict


def train_recommender(purchases: recommend.Purchases, now: float, as_of: date) -> RecommenderTrainingResult:
    """Learn, measure and gate the ranker on `purchases` (with basket days) for recommendations made at `now`."""
    windows = recommend.TRAINING_WINDOWS + EVALUATION_FIRST_WINDOW - 1
    sets = {training.window: training for training in recommend.horizon_training_sets(purchases, now, windows=windows)}
    latest = sets.get(1)
    queries = 0 if latest is None else int(np.count_nonzero(
        (np.diff(latest.targets.indptr) > 0) & (latest.earlier.basket_count > 0)))
    if queries < MIN_QUERIES:
        raise NotEnoughData(
            f"{queries} customers with a history bought in the last {recommend.HORIZON_DAYS:.0f} days before {as_of}; "
            f"the next-best-action ranker needs at least {MIN_QUERIES} to learn and be measured. Until then "
            "products are offered by personal purchase frequency."
        )
    latest_context = recommend.context(latest.earlier, latest.now)  # window 1: learnt from, and measured on
    rows = {window: recommend.training_rows(training, exclude_bought=False,
                                            max_queries=recommend.MAX_QUERIES_PER_WINDOW,
                                            ctx=latest_context if window == 1 else None)
            for window, training in sets.items()}
    evaluation_windows = [window for window in rows if window >= EVALUATION_FIRST_WINDOW]
    if not any(rows[window] is not None for window in evaluation_windows):
        raise NotEnoughData(
            f"no customer bought in the windows before {as_of} the evaluation ranker learns from "
            f"(windows {EVALUATION_FIRST_WINDOW} and older): the history is too short to measure a ranker. "
            "Until then products are offered by personal purchase frequency."
        )
    evaluation_ranker = recommend.fit_ranker_rows([rows[window] for window in evaluation_windows])
    users = recommend.query_users(latest, MAX_GATE_USERS)
    targets = [set(latest.targets[row].indices.tolist()) for row in users]
    metrics, baselines, verdict = evaluate(latest_context, users, targets, evaluation_ranker)
    scoring_ranker = None
    if verdict.model_wins:
        scoring_ranker = recommend.fit_ranker_rows([rows[window] for window in sorted(rows)
                                                    if window < 1 + recommend.TRAINING_WINDOWS])
    first_day = float(purchases.basket_day.min())
    return RecommenderTrainingResult(
        model=Recommender(scoring_ranker, verdict.winner),
        as_of=as_of,
        data_window=(date.fromordinal(date(1970, 1, 1).toordinal() + int(first_day)), as_of),
        evaluation_split=float(latest.now),
        metrics=metrics,
        baselines=baselines,
        gate=verdict,
        row_counts={
            "customers": len(purchases.users),
            "products": len(purchases.items),
            "baskets": len(purchases.basket_user),
            "evaluation_customers": len(users),
            "training_rows": int(sum(len(part[1]) for part in rows.values() if part is not None)),
        },
    )
