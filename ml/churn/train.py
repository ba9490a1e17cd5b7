"""Time-based training, model choice, evaluation and promotion gate of the churn model.

`as_of` is the last business day the warehouse holds, so the model may see every order
before the *scoring cutoff* S = as_of + 1 day. The last cutoff whose 90-day label window is
fully observed is S - 90 days: the *evaluation cutoff* E. Training snapshots are taken every
30 days going back from there, up to a year of them:

    ... c-60  c-30  c          E = S - 90              S = as_of + 1
    ----|-----|-----|---------|----------------------|
    fit the model    calibrate  evaluate (labels in [E, S))

* **The evaluation model** (`ml.churn.model`: a regularised logistic regression anchored on
  BG/NBD) is fitted on its cutoffs but the latest, c, scores c held out, which fits the
  Platt sigmoid; it is then refitted on all of them and keeps that sigmoid
  (`ml.churn.model.fit_calibrated`). Nothing it learns from has a label after c + 90 days = E.
* **Does it ship.** The evaluation model is measured on E beside the baselines (recency,
  BG/NBD's expected purchases and its probability of no purchase in the 90 days,
  `ml.churn.baselines`). The model scores customers only if its
  ROC-AUC beats the best baseline's by more than the bootstrap uncertainty of the difference
  (`ml.promotion.gate`); otherwise the better of BG/NBD's two scores does, unless recency beats
  it by more than its uncertainty (`PREFERRED_BASELINES`), with its own Platt sigmoid fitted on E.
* **The scoring model** (when the model ships) repeats the recipe one step later, on cutoffs
  up to E itself (the sigmoid fitted on E). It scores the customers at S.

Calibrating on the most recent labelled cutoff, rather than an older one, keeps the
probabilities closest to the churn rate of the period being scored (churn is seasonal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ml.artifacts import run_metadata
from ml.churn.evaluate import classification_metrics, expected_calibration_error, roc_auc_or_nan
from ml.churn.features import (
    FEATURE_COLUMNS,
    LABEL_WINDOW_DAYS,
    build_features,
    build_labels,
    cutoff_after,
    cutoff_instant,
    validate_orders,
)
from ml.churn.model import (
    BASELINES,
    LINE_INPUTS,
    LOGISTIC_C,
    PREFERRED_BASELINES,
    PRODUCT_INPUT_MIN_CUSTOMERS,
    PRODUCT_INPUTS,
    ROBUST_INPUTS,
    TICKET_INPUTS,
    CalibratedBaseline,
    ChurnModel,
    churn_probability,
    fit_calibrated,
)
from ml.promotion import MODEL, GateResult, gate

CUTOFF_SPACING_DAYS = 30
MAX_TRAINING_CUTOFFS = 12
MIN_TRAINING_CUTOFFS = 2  # one to fit the booster, one to calibrate it
MIN_LABELLED_CUSTOMERS = 50


class NotEnoughData(RuntimeError):
    """The warehouse does not yet hold enough order history to train a churn model."""


@dataclass(frozen=True)
class LabelledSnapshot:
    """Features and churn labels of the active customers at one or more cutoffs.

    Rows are indexed by (cutoff, customer_id): a customer appears once per cutoff.
    """

    cutoffs: tuple[date, ...]
    features: pd.DataFrame
    labels: pd.Series


@dataclass(frozen=True)
class ChurnTrainingResult:
    """A trained churn model with everything its artifact metadata records."""

    model: ChurnModel
    as_of: date
    data_window: tuple[date, date]
    evaluation: LabelledSnapshot
    evaluation_model_cutoffs: tuple[date, ...]
    scoring_model_cutoffs: tuple[date, ...]
    metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    row_counts: dict[str, int]
    gate: GateResult  # the evaluation model against the best baseline, on the evaluation cutoff
    inputs: tuple[str, ...] = ROBUST_INPUTS  # the logistic regression's

    @property
    def scored_by(self) -> str:
        return self.model.scored_by

    def metadata(self) -> dict[str, Any]:
        """The training facts of this run as JSON-ready values (dates as ISO strings)."""
        return {
            **run_metadata(self.as_of, self.data_window, self.metrics, self.baselines, self.gate, self.row_counts),
            "evaluation_cutoff": self.evaluation.cutoffs[0].isoformat(),
            "evaluation_model_cutoffs": [cutoff.isoformat() for cutoff in self.evaluation_model_cutoffs],
            "training_cutoffs": [cutoff.isoformat() for cutoff in self.scoring_model_cutoffs],
            "label_window_days": LABEL_WINDOW_DAYS,
            "features": list(self.model.features),
            "params": {"model": "logistic regression", "C": LOGISTIC_C, "inputs": list(self.inputs)},
        }


def train_churn_model(orders: pd.DataFrame, as_of: date, lines: pd.DataFrame | None = None,
                      tickets: pd.DataFrame | None = None) -> ChurnTrainingResult:
    """Train, evaluate and gate the churn model on `orders` placed up to the end of `as_of`.

    `lines` (`marts.fct_order_lines`), when given, adds the features of what customers buy, the
    model's price input (`LINE_INPUTS`), and its product input (`PRODUCT_INPUTS`) when at least `PRODUCT_INPUT_MIN_CUSTOMERS` customers
    are active at the evaluation cutoff; `tickets` (`marts.fct_service_tickets`) the service inputs (`TICKET_INPUTS`), each as of its cutoff.
    Raises `NotEnoughData` when the history is too short or too small to train on.
    """
    validate_orders(orders)
    end = cutoff_instant(cutoff_after(as_of))
    history = orders.loc[orders["ordered_at"] < end]
    lines = None if lines is None else lines.loc[lines["ordered_at"] < end]
    snapshots = _SnapshotCache(history, lines, tickets)
    if history.empty:
        raise NotEnoughData(
            f"no orders up to {as_of} in marts.fct_orders: load the sources and build the marts first."
        )
    first_order = history["ordered_at"].min().date()
    evaluation_cutoff = cutoff_after(as_of) - timedelta(days=LABEL_WINDOW_DAYS)

    evaluation_cutoffs = cutoff_schedule(evaluation_cutoff - timedelta(days=LABEL_WINDOW_DAYS), first_order)
    fit, calibration = _fit_and_calibration(snapshots, evaluation_cutoffs, as_of)
    evaluation = snapshots.get((evaluation_cutoff,), "evaluation")
    inputs = (*ROBUST_INPUTS,
              *(LINE_INPUTS if lines is not None else ()),
              *(PRODUCT_INPUTS if lines is not None and len(evaluation.features) >= PRODUCT_INPUT_MIN_CUSTOMERS else ()),
              *(TICKET_INPUTS if tickets is not None else ()))
    evaluation_model = fit_calibrated(fit.features, fit.labels, calibration.features, calibration.labels, inputs)

    model_scores = evaluation_model.raw_score(evaluation.features)
    metrics = _metrics(evaluation.labels, model_scores, churn_probability(evaluation_model, evaluation.features))
    baselines, baseline_scores = {}, {}
    for name in BASELINES:
        scorer = CalibratedBaseline.fit(name, calibration.features, calibration.labels)
        baseline_scores[name] = scorer.raw_score(evaluation.features)
        baselines[name] = _metrics(evaluation.labels, baseline_scores[name],
                                   churn_probability(scorer, evaluation.features))
    verdict = roc_auc_gate(evaluation.labels, {MODEL: model_scores, **baseline_scores})

    row_counts = {
        "orders": len(history),
        "evaluation_model_fit_rows": len(fit.labels),
        "evaluation_model_calibration_rows": len(calibration.labels),
        "evaluation_rows": len(evaluation.labels),
    }
    if verdict.model_wins:
        scoring_cutoffs = cutoff_schedule(evaluation_cutoff, first_order)
        scoring_fit, scoring_calibration = _fit_and_calibration(snapshots, scoring_cutoffs, as_of)
        scoring = fit_calibrated(scoring_fit.features, scoring_fit.labels, scoring_calibration.features,
                                 scoring_calibration.labels, inputs)
        row_counts |= {"scoring_model_fit_rows": len(scoring_fit.labels),
                       "scoring_model_calibration_rows": len(scoring_calibration.labels)}
    else:
        scoring_cutoffs = [evaluation_cutoff]
        scoring = CalibratedBaseline.fit(verdict.winner, evaluation.features, evaluation.labels)
        row_counts |= {"scoring_model_fit_rows": 0, "scoring_model_calibration_rows": len(evaluation.labels)}

    return ChurnTrainingResult(
        model=ChurnModel(scoring=scoring, evaluation=evaluation_model, features=FEATURE_COLUMNS,
                         scored_by=verdict.winner),
        as_of=as_of,
        data_window=(first_order, as_of),
        evaluation=evaluation,
        evaluation_model_cutoffs=tuple(evaluation_cutoffs),
        scoring_model_cutoffs=tuple(scoring_cutoffs),
        metrics=metrics,
        baselines=baselines,
        row_counts=row_counts,
        gate=verdict,
        inputs=inputs,
    )


def _metrics(labels: pd.Series, scores: np.ndarray, probability: pd.Series) -> dict[str, float]:
    """The ranking metrics of `scores` on `labels`, and the calibration error of `probability`."""
    return {
        **classification_metrics(labels, pd.Series(scores, index=labels.index)),
        "calibration_error": expected_calibration_error(labels, probability),
    }


def roc_auc_gate(labels: pd.Series, scores: dict[str, np.ndarray]) -> GateResult:
    """`ml.promotion.gate` on ROC-AUC: `scores[MODEL]` against every other entry, paired bootstrap over customers.

    When the model loses, the better of BG/NBD's scores ships (`winner`), unless recency beats it by more than
    its uncertainty (`PREFERRED_BASELINES`).
    """
    truth = labels.to_numpy()
    auc = {name: roc_auc_or_nan(truth, values) for name, values in scores.items()}
    return gate(
        "roc_auc",
        auc[MODEL],
        {name: value for name, value in auc.items() if name != MODEL},
        lambda name, rows: roc_auc_or_nan(truth[rows], scores[name][rows]),
        len(truth),
        preferred=PREFERRED_BASELINES,
    )


def cutoff_schedule(latest: date, first_order: date) -> list[date]:
    """Cutoffs every 30 days back from `latest`, oldest first, only those after `first_order`."""
    cutoffs = (latest - timedelta(days=CUTOFF_SPACING_DAYS * step) for step in range(MAX_TRAINING_CUTOFFS))
    return sorted(cutoff for cutoff in cutoffs if cutoff > first_order)


def labelled_snapshot(
    orders: pd.DataFrame, cutoffs: tuple[date, ...], role: str, lines: pd.DataFrame | None = None
) -> LabelledSnapshot:
    """Features and labels at each of `cutoffs`; `role` names the set in a `NotEnoughData` error."""
    return _SnapshotCache(orders, lines).get(cutoffs, role)


class _SnapshotCache:
    """Features and labels per cutoff, computed once: the evaluation and scoring schedules overlap."""

    def __init__(self, orders: pd.DataFrame, lines: pd.DataFrame | None, tickets: pd.DataFrame | None = None) -> None:
        self.orders, self.lines, self.tickets = orders, lines, tickets
        self._by_cutoff: dict[date, tuple[pd.DataFrame, pd.Series]] = {}

    def at(self, cutoff: date) -> tuple[pd.DataFrame, pd.Series]:
        if cutoff not in self._by_cutoff:
            features = build_features(self.orders, cutoff, self.lines, self.tickets)
            self._by_cutoff[cutoff] = (features, build_labels(self.orders, cutoff, features.index))
        return self._by_cutoff[cutoff]

    def get(self, cutoffs: tuple[date, ...], role: str) -> LabelledSnapshot:
        return _snapshot(cutoffs, [self.at(cutoff) for cutoff in cutoffs], role)


def _snapshot(
    cutoffs: tuple[date, ...], frames: list[tuple[pd.DataFrame, pd.Series]], role: str
) -> LabelledSnapshot:
    features = [frame[0] for frame in frames]
    labels = [frame[1] for frame in frames]
    snapshot = LabelledSnapshot(
        cutoffs=cutoffs,
        features=pd.concat(features, keys=cutoffs, names=["cutoff"]),
        labels=pd.concat(labels, keys=cutoffs, names=["cutoff"]),
    )
    _require_enough(snapshot, role)
    return snapshot


def _fit_and_calibration(
    snapshots: _SnapshotCache, cutoffs: list[date], as_of: date
) -> tuple[LabelledSnapshot, LabelledSnapshot]:
    """Split `cutoffs` into the booster's (all but the latest) and the calibration's (the latest)."""
    if len(cutoffs) < MIN_TRAINING_CUTOFFS:
        earliest_needed = cutoff_after(as_of) - timedelta(
            days=2 * LABEL_WINDOW_DAYS + CUTOFF_SPACING_DAYS * (MIN_TRAINING_CUTOFFS - 1)
        )
        raise NotEnoughData(
            f"churn training for as_of {as_of} needs orders from before {earliest_needed} "
            f"({MIN_TRAINING_CUTOFFS} monthly training cutoffs whose {LABEL_WINDOW_DAYS}-day label windows "
            f"end before the evaluation cutoff), but the earliest order in marts.fct_orders is from "
            f"{snapshots.orders['ordered_at'].min().date()}. Load more order history, or train at a later date."
        )
    return snapshots.get(tuple(cutoffs[:-1]), "training"), snapshots.get(tuple(cutoffs[-1:]), "calibration")


def _require_enough(snapshot: LabelledSnapshot, role: str) -> None:
    """Raise `NotEnoughData` unless `snapshot` has enough customers of both classes."""
    cutoffs = ", ".join(cutoff.isoformat() for cutoff in snapshot.cutoffs)
    customers = len(snapshot.labels)
    if customers < MIN_LABELLED_CUSTOMERS:
        raise NotEnoughData(
            f"the {role} set (cutoffs {cutoffs}) has {customers} labelled customers (customers with a "
            f"purchase in the year before a cutoff, once per cutoff); churn training needs at least "
            f"{MIN_LABELLED_CUSTOMERS}. "
            "Load more order history into marts.fct_orders, or train at a later date."
        )
    if snapshot.labels.nunique() < 2:
        outcome = "churned" if snapshot.labels.iloc[0] == 1 else "bought again"
        raise NotEnoughData(
            f"in the {role} set (cutoffs {cutoffs}) all {customers} customers {outcome} within "
            f"{LABEL_WINDOW_DAYS} days; churn training needs both churned and returning customers. "
            "Check that marts.fct_orders is complete for that period, or train at a later date."
        )
