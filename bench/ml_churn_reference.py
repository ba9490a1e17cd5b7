"""Churn models that know the reported cutoff's own labels: a reference for issue 16's goal.

Issue 16 asks the churn job's model to beat the best baseline by 0.02 ROC-AUC on the full sets,
and `bench.ml_churn` measures it short of that on UCI Online Retail and on CDNOW. This section
measures models no nightly job can have, since they learn from the labels the benchmark scores. At
each reported cutoff of `bench.ml_churn` (the full sets only), the job's training gives the
customers the benchmark scores, their features as the job computes them, their labels and the
baselines' ROC-AUC; then each model below is fitted out of fold on those customers (stratified
5-fold cross-validation, `SPLITS` different splits, the ROC-AUC of each split's out-of-fold scores
averaged):

- *regression*: the job's logistic regression (its inputs and regularisation) on the cutoff's rows;
- *earlier and own*: the same regression on the job's own training cutoffs and the cutoff's rows
  (an intercept per cutoff, as the job fits it): what the job learns, and the cutoff's labels too;
- *shallow* and *deeper* LightGBM on every feature the job computes
  (`ml.churn.features.FEATURE_COLUMNS`, the line features with UCI's lines) and the customer's
  year before the cutoff in 13 four-week bins (purchase days and amount in each: a picture of the
  history that most timing features summarise), untuned;
- *blend*: the rank average of the regression and the shallow LightGBM.

These are references, not a bound: a fold learns from four fifths of one cutoff's customers (or,
for *earlier and own*, those and the job's cutoffs), other model families or inputs could do
better, and a margin's uncertainty on one cutoff is the gate's (a few thousandths of ROC-AUC,
`bench.ml_churn`), larger than the spread over splits shown here. Nothing of the job is chosen here.
"""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from scipy.stats import rankdata
from sklearn.model_selection import StratifiedKFold

from bench.ml_churn import CDNOW_CUTOFFS, CUTOFFS, LABELS, train_at
from bench.ml_data import cdnow, uci_retail
from bench.results import markdown_table
from ml.cancellations import as_seen_at
from ml.churn.evaluate import roc_auc_or_nan
from ml.churn.features import cutoff_instant
from ml.churn.model import RobustLogistic
from ml.churn.train import labelled_snapshot
from ml.promotion import MODEL

SPLITS = 3
FOLDS = 5
BIN_DAYS = 28
BINS = 13  # 13 x 28 days: the year before the cutoff
BOOSTERS = {
    "shallow": {"n_estimators": 200, "learning_rate": 0.03, "num_leaves": 4, "min_child_samples": 50},
    "deeper": {"n_estimators": 400, "learning_rate": 0.02, "num_leaves": 15, "min_child_samples": 40,
               "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8},
}
REFERENCES = {
    "regression": "the job's logistic regression on the cutoff's own rows",
    "earlier_and_own": "the same on the job's training cutoffs and the cutoff's own rows",
    "shallow": "LightGBM on every feature and the year in four-week bins (4 leaves, 200 trees)",
    "deeper": "the same, deeper (15 leaves, 400 trees)",
    "blend": "rank average of the regression and the shallow LightGBM",
}


def history_bins(orders: pd.DataFrame, cutoff: date, customers: pd.Index) -> pd.DataFrame:
    """Each customer's purchase days and amount in each 28-day bin of the year before `cutoff`
    (`days_0`/`amount_0`: the 28 days just before it), orders as seen at the cutoff, cancelled ones
    aside, days in UTC; 0 where they bought nothing."""
    end = cutoff_instant(cutoff)
    seen = as_seen_at(orders, end)
    ordered_at = seen["ordered_at"].dt.tz_convert("UTC")
    age = (end - ordered_at).dt.days  # whole days before the cutoff (0: its eve)
    kept = ~seen["is_cancelled"].astype(bool) & (ordered_at < end) & (age < BIN_DAYS * BINS)
    history = pd.DataFrame({
        "customer_id": seen["customer_id"].to_numpy()[kept.to_numpy()],
        "bin": (age[kept] // BIN_DAYS).to_numpy(),
        "day": ordered_at[kept].dt.floor("D").to_numpy(),
        "amount": seen["amount_total"].to_numpy()[kept.to_numpy()],
    })
    days = (history.drop_duplicates(["customer_id", "day"]).groupby(["customer_id", "bin"]).size()
            .unstack("bin").reindex(columns=range(BINS)).add_prefix("days_"))
    amounts = (history.groupby(["customer_id", "bin"])["amount"].sum()
               .unstack("bin").reindex(columns=range(BINS)).add_prefix("amount_"))
    return pd.concat([days, amounts], axis=1).reindex(customers).fillna(0.0)


def reference_scores(evaluation, earlier, bins: pd.DataFrame, inputs: tuple[str, ...], seed: int) -> dict[str, np.ndarray]:
    """Out-of-fold scores of every model of REFERENCES over one stratified split of the cutoff's
    customers (`evaluation`: the job's evaluation snapshot; `earlier`: its training cutoffs' snapshot)."""
    features, labels = evaluation.features, evaluation.labels
    y = labels.to_numpy().astype(int)
    columns = [c for c in features.columns if features[c].nunique(dropna=True) > 1]
    table = np.hstack([features[columns].to_numpy(dtype=float), bins.to_numpy()])
    scores = {name: np.zeros(len(y)) for name in ("regression", "earlier_and_own", *BOOSTERS)}
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(table, y):
        own = RobustLogistic.fit(features.iloc[train], labels.iloc[train], inputs)
        scores["regression"][test] = own.raw_score(features.iloc[test])
        both = RobustLogistic.fit(pd.concat([earlier.features, features.iloc[train]]),
                                  pd.concat([earlier.labels, labels.iloc[train]]), inputs)
        scores["earlier_and_own"][test] = both.raw_score(features.iloc[test])
        for name, params in BOOSTERS.items():
            booster = LGBMClassifier(**params, random_state=seed, verbose=-1).fit(table[train], y[train])
            scores[name][test] = booster.predict_proba(table[test])[:, 1]
    scores["blend"] = rankdata(scores["regression"]) + rankdata(scores["shallow"])
    return scores


def measure(name: str, orders: pd.DataFrame, lines: pd.DataFrame | None, cutoffs, progress) -> list[dict]:
    rows = []
    for cutoff in cutoffs:
        started = time.perf_counter()
        trained = train_at(orders, lines, cutoff)
        evaluation = trained.evaluation
        earlier = labelled_snapshot(orders, trained.evaluation_model_cutoffs, "training", lines)
        customers = evaluation.features.index.get_level_values("customer_id")
        bins = history_bins(orders, cutoff, customers)
        inputs = trained.inputs
        aucs: dict[str, list[float]] = {reference: [] for reference in REFERENCES}
        for seed in range(SPLITS):
            for reference, scores in reference_scores(evaluation, earlier, bins, inputs, seed).items():
                aucs[reference].append(roc_auc_or_nan(evaluation.labels.to_numpy(), scores))
        best = trained.gate.best_baseline  # the best of the baselines, the one the gate measures against
        rows.append({"data": name, "cutoff": cutoff, "customers": len(customers), "best": best,
                     "best_auc": trained.baselines[best]["roc_auc"], MODEL: trained.metrics["roc_auc"],
                     "uncertainty": trained.gate.uncertainty,
                     **{reference: float(np.mean(values)) for reference, values in aucs.items()},
                     **{f"{reference}_spread": float(np.std(values)) for reference, values in aucs.items()}})
        progress(f"churn references {name} {cutoff}: best baseline {rows[-1]['best_auc']:.4f}, job's model "
                 f"{rows[-1][MODEL]:.4f}, " + ", ".join(f"{r} {rows[-1][r]:.4f}" for r in REFERENCES)
                 + f" ({time.perf_counter() - started:.0f} s)")
    return rows


def _margin(rows: list[dict], data: str, key: str) -> float:
    """`key`'s mean margin over the best baseline across `data`'s cutoffs."""
    return float(np.mean([row[key] - row["best_auc"] for row in rows if row["data"] == data]))


def _table(rows: list[dict]) -> str:
    header = ["data", "cutoff", "customers", "best baseline", "job's model (its gate's uncertainty)",
              *(f"{reference}" for reference in REFERENCES)]
    body = []
    for row in rows:
        body.append([row["data"], row["cutoff"].isoformat(), f"{row['customers']:,}",
                     f"{LABELS[row['best']]}: {row['best_auc']:.4f}",
                     f"{row[MODEL]:.4f} ({row[MODEL] - row['best_auc']:+.4f} ±{row['uncertainty']:.4f})",
                     *(f"{row[r]:.4f} ({row[r] - row['best_auc']:+.4f}) ±{row[f'{r}_spread']:.4f}" for r in REFERENCES)])
    for data in dict.fromkeys(row["data"] for row in rows):
        body.append([f"**{data}, average margin**", "", "", "", f"{_margin(rows, data, MODEL):+.4f}",
                     *(f"{_margin(rows, data, r):+.4f}" for r in REFERENCES)])
    return markdown_table(header, body)


def run(progress) -> tuple[str, dict]:
    retail = uci_retail()
    rows = measure("UCI Online Retail", retail.orders, retail.lines, CUTOFFS, progress)
    rows += measure("CDNOW", cdnow(), None, CDNOW_CUTOFFS, progress)
    best = {data: max(_margin(rows, data, r) for r in REFERENCES) for data in dict.fromkeys(row["data"] for row in rows)}
    text = "\n".join([
        "Models that learn from the labels the benchmark scores, which no nightly job can: at each reported "
        "cutoff of the two churn sections (full sets), fitted out of fold on the cutoff's own customers "
        f"(stratified {FOLDS}-fold cross-validation; the mean ROC-AUC over {SPLITS} splits, ± their standard "
        "deviation, which is not the margin's uncertainty: the job's gate's, beside its model, is). In "
        "brackets, the margin over the best baseline of the cutoff. " + "; ".join(
            f"*{r}*: {label}" for r, label in REFERENCES.items()) + ". The job's model learns from earlier "
        "cutoffs only (`bench.ml_churn`'s figure). A reference, not a bound: other families or inputs could "
        "do better.",
        "",
        _table(rows),
        "",
        "Best average margin of a model that knows the cutoffs' labels: " + "; ".join(
            f"{data} {margin:+.4f}" for data, margin in best.items()) + " (the goal asks +0.02 of the job's "
        "model).",
    ])
    return text, {"rows": len(rows)}
