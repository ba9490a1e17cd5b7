"""Demand on UCI Online Retail: the top 500 products by units, daily, 28 days ahead.

The products are the 500 with the most units sold before the first cutoff (so the choice
knows nothing of the test windows). Units per day count every sale line with a positive
quantity, with or without a known customer, of invoices that are not cancellations. At each
cutoff every method sees the days before it and forecasts the 28 days from it; the demand
job's model (`ml.demand.model`) is fitted there from scratch.
"""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd

from bench.ml_data import uci_retail
from bench.results import markdown_table
from ml.demand.baselines import BASELINES
from ml.demand.evaluate import coverage, forecast_metrics
from ml.demand.features import HORIZON_DAYS, cutoff_instant, sales_matrix
from ml.demand.model import fit_demand_model, forecast

CUTOFFS = (date(2011, 9, 5), date(2011, 10, 3), date(2011, 10, 31))
TOP_PRODUCTS = 500
HISTORY_START = date(2010, 12, 1)
METRICS = ("wape_daily", "wape_weekly", "mase", "bias")
LABELS = {
    "model": "LightGBM + AutoETS (demand job)",
    "booster": "LightGBM alone (tweedie, lags 7-28)",
    "naive": "naive",
    "seasonal_naive_7": "seasonal naive (7)",
    "mean_28": "28-day mean",
    "croston": "Croston (α 0.1)",
    "auto_ets": "AutoETS (additive, damped, weekly)",
}


def run(progress) -> tuple[str, dict]:
    lines = uci_retail().all_lines
    sold = lines.loc[(lines["ordered_at"] < cutoff_instant(CUTOFFS[0])) & (lines["quantity"] > 0)]
    sold = sold.loc[~sold["is_cancelled"]]
    top = sold.groupby("product_id")["quantity"].sum().nlargest(TOP_PRODUCTS).index
    products = pd.Index(sorted(top), name="product_id")
    end = max(CUTOFFS) + pd.Timedelta(days=HORIZON_DAYS).to_pytimedelta()
    full = sales_matrix(lines, end, products, start=HISTORY_START)
    results: dict[date, dict[str, dict[str, float]]] = {}
    for cutoff in CUTOFFS:
        started = time.perf_counter()
        history = full.until(cutoff)
        actual = full.units[:, history.days : history.days + HORIZON_DAYS]
        at_cutoff = {}
        model = fit_demand_model(history)
        predicted = forecast(model, history)
        at_cutoff["model"] = {
            **forecast_metrics(actual, predicted.p50, history.units),
            "coverage_p10_p90": coverage(actual, predicted.p10, predicted.p90),
        }
        at_cutoff["booster"] = forecast_metrics(actual, predicted.booster, history.units)
        for name, method in BASELINES.items():
            at_cutoff[name] = forecast_metrics(actual, method(history.units, HORIZON_DAYS), history.units)
        results[cutoff] = at_cutoff
        progress(
            f"demand {cutoff}: WAPE daily/weekly model {at_cutoff['model']['wape_daily']:.3f}/"
            f"{at_cutoff['model']['wape_weekly']:.3f}, AutoETS {at_cutoff['auto_ets']['wape_daily']:.3f}/"
            f"{at_cutoff['auto_ets']['wape_weekly']:.3f} ({time.perf_counter() - started:.0f} s)"
        )
    return _report(results), results


def _report(results: dict[date, dict[str, dict[str, float]]]) -> str:
    rows = []
    for cutoff, at_cutoff in results.items():
        for method, label in LABELS.items():
            values = at_cutoff[method]
            rows.append([str(cutoff), label, *(values[m] for m in METRICS), values.get("coverage_p10_p90", "")])
    for method, label in LABELS.items():
        rows.append(
            ["**average**", label, *(float(np.mean([results[c][method][m] for c in results])) for m in METRICS), ""]
        )
    table = markdown_table(
        ["cutoff", "method", "WAPE daily", "WAPE weekly", "MASE", "bias", "p10-p90 coverage"], rows
    )
    baselines = list(BASELINES)
    verdict = []
    for metric, label in (("wape_daily", "daily WAPE"), ("wape_weekly", "weekly WAPE"), ("mase", "MASE")):
        for method in ("model", "booster"):
            losses = []
            for cutoff, at_cutoff in results.items():
                best = min(baselines, key=lambda name: at_cutoff[name][metric])
                if at_cutoff[method][metric] >= at_cutoff[best][metric]:
                    losses.append(f"{cutoff} ({at_cutoff[method][metric]:.3f} vs {best} {at_cutoff[best][metric]:.3f})")
            averages = {name: np.mean([results[c][name][metric] for c in results]) for name in [*baselines, method]}
            best_avg = min(baselines, key=lambda name: averages[name])
            state = "beats" if averages[method] < averages[best_avg] else "does NOT beat"
            where = f"; behind the best baseline at {', '.join(losses)}" if losses else "; ahead at every cutoff"
            verdict.append(
                f"- {LABELS[method]}, {label}: average {averages[method]:.3f} {state} the best baseline "
                f"({best_avg}, {averages[best_avg]:.3f}){where}."
            )
    return (
        "Top 500 products by units sold before 2011-09-05; daily units (all sale lines, cancellations "
        "excluded); horizon 28 days from each cutoff. WAPE = Σ|error| / Σ actual over all product-days "
        "(weekly: over the four 7-day sums); MASE scaled by each product's in-sample one-day naive error; "
        "bias = (Σ forecast − Σ actual) / Σ actual. The demand job's point forecast is the mean of a "
        "global LightGBM (tweedie, recursive, lags 7-28, rolling means, weekday, product statistics, "
        "history winsorised at each product's 95th percentile) and AutoETS; the booster alone is shown "
        "too. AutoETS is self-written (statsforecast needs pandas < 3): additive error, weekly "
        "season, no trend or damped trend, parameters per product by AIC on a grid.\n\n"
        + table
        + "\n\n"
        + "\n".join(verdict)
    )
