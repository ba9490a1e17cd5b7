"""Churn on UCI Online Retail: the churn job's own training at each benchmark cutoff.

For a benchmark cutoff C the job is trained with `as_of = C + 89 days`, so that its
evaluation cutoff is C: it sees only orders before C + 90 days, its evaluation model only
labels that end before C, and it is measured on the customers active in the year before C
(label: no purchase in [C, C + 90 days)). The baselines are scored on the same customers:
recency, and BG/NBD's expected purchases in the label window (fitted on the orders before C).

Calibration error (ECE, 10 bins) needs probabilities: the model's are its own; a baseline's
score is turned into one by the same out-of-time Platt sigmoid the model uses, fitted on the
model's calibration cutoff (the latest training cutoff, 90 days before C).
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from bench.ml_data import uci_retail
from bench.results import markdown_table
from ml.churn.evaluate import classification_metrics, expected_calibration_error
from ml.churn.features import LABEL_WINDOW_DAYS
from ml.churn.train import labelled_snapshot, train_churn_model

CUTOFFS = (date(2011, 6, 11), date(2011, 7, 11), date(2011, 9, 10))
METRICS = ("roc_auc", "pr_auc", "top_decile_lift", "calibration_error")


def _baseline_scores(features: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        "recency": features["recency_days"],
        "bgnbd": -features["bgnbd_expected_90d"].fillna(0.0),
    }


def _platt(calibration_score: pd.Series, calibration_labels: pd.Series, score: pd.Series) -> pd.Series:
    sigmoid = LogisticRegression(C=1e6).fit(calibration_score.to_numpy().reshape(-1, 1), calibration_labels)
    return pd.Series(sigmoid.predict_proba(score.to_numpy().reshape(-1, 1))[:, 1], index=score.index)


def run(progress) -> tuple[str, dict]:
    retail = uci_retail()
    results: dict[date, dict[str, dict[str, float]]] = {}
    for cutoff in CUTOFFS:
        started = time.perf_counter()
        as_of = cutoff + timedelta(days=LABEL_WINDOW_DAYS - 1)
        trained = train_churn_model(retail.orders, as_of, retail.lines)
        assert trained.evaluation.cutoffs == (cutoff,)
        evaluation = trained.evaluation
        calibration_cutoff = trained.evaluation_model_cutoffs[-1]
        calibration = labelled_snapshot(
            retail.orders.loc[retail.orders["ordered_at"] < pd.Timestamp(cutoff, tz="UTC")],
            (calibration_cutoff,),
            "calibration",
            retail.lines.loc[retail.lines["ordered_at"] < pd.Timestamp(cutoff, tz="UTC")],
        )
        at_cutoff = {"model": dict(trained.metrics)}
        calibration_scores = _baseline_scores(calibration.features)
        for name, score in _baseline_scores(evaluation.features).items():
            metrics = classification_metrics(evaluation.labels, score)
            probability = _platt(calibration_scores[name], calibration.labels, score)
            metrics["calibration_error"] = expected_calibration_error(evaluation.labels, probability)
            at_cutoff[name] = metrics
        results[cutoff] = at_cutoff
        progress(
            f"churn {cutoff}: {len(evaluation.labels)} customers, churn rate {evaluation.labels.mean():.3f}; "
            + ", ".join(f"{name} {values['roc_auc']:.4f}" for name, values in at_cutoff.items())
            + f" ROC-AUC ({time.perf_counter() - started:.0f} s)"
        )
    return _report(results), results


def _report(results: dict[date, dict[str, dict[str, float]]]) -> str:
    methods = ("model", "bgnbd", "recency")
    labels = {"model": "LightGBM (churn job)", "bgnbd": "BG/NBD expected purchases", "recency": "recency"}
    rows = []
    for cutoff, at_cutoff in results.items():
        for method in methods:
            values = at_cutoff[method]
            rows.append([str(cutoff), labels[method], values["customers"], values["churn_rate"],
                         *(values[metric] for metric in METRICS)])
    for method in methods:
        rows.append(["**average**", labels[method], "", "",
                     *(float(np.mean([results[c][method][metric] for c in results])) for metric in METRICS)])
    table = markdown_table(
        ["cutoff", "method", "customers", "churn rate", "ROC-AUC", "PR-AUC", "top-decile lift", "ECE"], rows
    )
    verdict = []
    for cutoff, at_cutoff in results.items():
        best = max(("bgnbd", "recency"), key=lambda name: at_cutoff[name]["roc_auc"])
        margin = at_cutoff["model"]["roc_auc"] - at_cutoff[best]["roc_auc"]
        word = "beats" if margin > 0 else "does NOT beat"
        verdict.append(f"- {cutoff}: the model {word} the best baseline ({best}) by {margin:+.4f} ROC-AUC.")
    average = {
        method: float(np.mean([results[c][method]["roc_auc"] for c in results])) for method in methods
    }
    best_average = max(average["bgnbd"], average["recency"])
    verdict.append(
        f"- Average over the cutoffs: model {average['model']:.4f} against the best baseline "
        f"{best_average:.4f} ({average['model'] - best_average:+.4f})."
    )
    for metric, label in (("pr_auc", "PR-AUC"), ("top_decile_lift", "top-decile lift")):
        losses = [
            f"{cutoff} ({at_cutoff['model'][metric]:.3f} vs {max(at_cutoff['bgnbd'][metric], at_cutoff['recency'][metric]):.3f})"
            for cutoff, at_cutoff in results.items()
            if at_cutoff["model"][metric] < max(at_cutoff["bgnbd"][metric], at_cutoff["recency"][metric])
        ]
        if losses:
            verdict.append(f"- On {label} the model is behind the best baseline at " + ", ".join(losses) + ".")
    return (
        "Customers active in the 365 days before each cutoff; label = no purchase in the 90 days after. "
        "The model is the churn job's own training (`ml.churn.train.train_churn_model` with "
        "`as_of` = cutoff + 89 days: fitted on earlier cutoffs only, Platt sigmoid out of time), on "
        "invoices as `fct_orders` and invoice lines as `fct_order_lines`. ECE: 10 equal-width bins; the "
        "baselines' scores are mapped to probabilities by a Platt sigmoid fitted on the model's "
        "calibration cutoff, so their ECE is as good as a one-feature calibration makes it.\n\n"
        + table
        + "\n\n"
        + "\n".join(verdict)
    )
