"""Next-best-action recommendations: Ta-Feng next basket, and UCI Online Retail's last 8 weeks.

The model is `ml.nba.recommend.NextBasketRanker` (LightGBM LambdaRank over the candidates
of the baselines). On Ta-Feng (baskets without dates) it learns from each user's last known
basket; on UCI it is the nightly job's ranker, which learns what customers buy in the next 8
weeks at each month of the year before the hold-out, with repeat-cycle features. The baselines are computed by
the same module: global popularity, personal (time-decayed) frequency with popularity to
fill, item-kNN, and TIFU-KNN (Hu et al. 2020; group size 7, decays 0.9 / 0.7, 300
neighbours, alpha 0.7 — the paper's Ta-Feng settings, neighbours by cosine).
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench.ml_data import tafeng, uci_retail
from bench.results import markdown_table
from ml.nba import actions, recommend

K = 10
HOLDOUT_WEEKS = 8
LABELS = {
    "model": "LambdaRank over candidates (NBA job)",
    "tifu_knn": "TIFU-KNN",
    "personal": "personal frequency (+ popularity)",
    "item_knn": "item-kNN",
    "popularity": "global popularity",
}


def _evaluate(history, users, targets_by_user, *, exclude_bought, progress, name, times=None, now=None):
    """With `times` and `now`, the nightly job's ranker (`fit_ranker_for_horizon`); else each user's last basket."""
    started = time.perf_counter()
    space = recommend.ItemSpace.of(history)
    if times is None:
        model = recommend.fit_ranker(history, exclude_bought=exclude_bought)
    else:
        model = recommend.fit_ranker_for_horizon(history, times, now, exclude_bought=exclude_bought)
    progress(f"{name}: ranker fitted ({time.perf_counter() - started:.0f} s)")
    frame, baselines = recommend.candidates(history, users, space, exclude_bought=exclude_bought, times=times, now=now)
    targets = [set(space.columns(targets_by_user[user]).tolist()) for user in users]
    bought = recommend.user_item_scores(history, users, space).personal_count if exclude_bought else None
    results = {"model": recommend.recall_ndcg_hit(recommend.rank(model, frame, len(users), K), targets, K)}
    for baseline, score in baselines.items():
        results[baseline] = recommend.recall_ndcg_hit(recommend.top_k(score, K, bought), targets, K)
    progress(
        f"{name}: recall@10 model {results['model']['recall']:.4f}, TIFU-KNN {results['tifu_knn']['recall']:.4f} "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return results


def _tafeng(progress):
    history, future = tafeng()
    history = {user: [[str(item) for item in basket] for basket in baskets] for user, baskets in history.items()}
    users = sorted(user for user in future if history.get(user))
    targets = {user: [str(item) for item in future[user]] for user in users}
    return _evaluate(history, users, targets, exclude_bought=False, progress=progress, name="Ta-Feng")


def _uci(progress):
    lines = uci_retail().lines
    bought = lines.loc[(lines["quantity"] > 0) & ~lines["order_id"].str.startswith("C")]
    holdout_start = (bought["ordered_at"].max().normalize() - timedelta(weeks=HOLDOUT_WEEKS)).tz_convert("UTC")
    # The job's own baskets and times, and its own horizon: what a customer buys in the next 8 weeks.
    assert recommend.HORIZON_DAYS == 7 * HOLDOUT_WEEKS
    history, times = actions.timed_baskets_of(bought, holdout_start)
    after = bought.loc[bought["ordered_at"] >= holdout_start]
    future = after.groupby("customer_id")["product_id"].agg(lambda items: sorted(set(items)))
    users = sorted(user for user in future.index if user in history)
    known = {user: {item for basket in history[user] for item in basket} for user in users}
    all_targets = {user: future[user] for user in users}
    new_targets = {user: [item for item in future[user] if item not in known[user]] for user in users}
    now = actions.day_number(holdout_start)
    progress(f"UCI: {len(history)} customers before {holdout_start.date()}, {len(users)} buy again in the last 8 weeks")
    return (
        _evaluate(history, users, all_targets, exclude_bought=False, progress=progress, name="UCI all products",
                  times=times, now=now),
        _evaluate(history, users, new_targets, exclude_bought=True, progress=progress, name="UCI new products",
                  times=times, now=now),
        holdout_start.date(),
    )


def run(progress) -> tuple[str, dict]:
    tafeng_results = _tafeng(progress)
    uci_all, uci_new, holdout_start = _uci(progress)
    sections = []
    rows = [[LABELS[name], values["recall"], values["ndcg"], values["hit_rate"], values["users"]]
            for name, values in tafeng_results.items()]
    sections.append(
        "### Ta-Feng (split of Li et al. 2023)\n\nEvery user's history baskets; target = the next basket. "
        "Reference measured here before: personal+global top-frequency 0.125 recall@10, TIFU-KNN 0.129.\n\n"
        + markdown_table(["method", "recall@10", "NDCG@10", "hit-rate@10", "users"], rows)
        + "\n\n"
        + _verdict(tafeng_results)
    )
    rows = []
    for label, results in (("all products", uci_all), ("new to the customer", uci_new)):
        rows += [[label, LABELS[name], values["recall"], values["ndcg"], values["hit_rate"], values["users"]]
                 for name, values in results.items()]
    sections.append(
        f"### UCI Online Retail, last {HOLDOUT_WEEKS} weeks held out (from {holdout_start})\n\n"
        "Baskets = invoices (cancellations excluded) of known customers before the hold-out; target = the "
        "products a customer bought in the hold-out. \"New to the customer\": products they had never "
        "bought, with every method forbidden to recommend what they already bought (cross-sell). The ranker "
        "is the nightly job's (`ml.nba.recommend.fit_ranker_for_horizon`): it learns the same task (what a "
        "customer buys in the next 8 weeks) posed at each month of the year before the hold-out, from the "
        "baskets before each of those days, with their times (repeat-cycle features); for all products its "
        "order blends in TIFU-KNN's at the weight chosen on the 8 weeks before the hold-out.\n\n"
        + markdown_table(["target", "method", "recall@10", "NDCG@10", "hit-rate@10", "users"], rows)
        + "\n\n"
        + "All products: " + _verdict(uci_all) + "\n\nNew to the customer: " + _verdict(uci_new)
    )
    return "\n\n".join(sections), {"tafeng": tafeng_results, "uci_all": uci_all, "uci_new": uci_new}


def _verdict(results: dict[str, dict[str, float]]) -> str:
    baselines = [name for name in results if name != "model"]
    parts = []
    for metric, label in (("recall", "recall@10"), ("ndcg", "NDCG@10"), ("hit_rate", "hit-rate@10")):
        best = max(baselines, key=lambda name: results[name][metric])
        margin = results["model"][metric] - results[best][metric]
        word = "beats" if margin > 0 else "does NOT beat"
        parts.append(f"{label}: the model {word} the best baseline ({best}) by {margin:+.4f}")
    return "; ".join(parts) + "."


