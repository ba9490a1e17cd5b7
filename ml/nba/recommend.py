"""Which products to offer a customer: baselines and a learned ranker over their baskets.

Everything here works on *baskets*: for each user, the ordered list of their past baskets
(each a list of item ids). Items are mapped to columns of sparse user × item matrices, so
the same code serves the benchmarks (Ta-Feng, UCI Online Retail) and the nightly job.

* `personal_scores`: how often (time-decayed) the user bought the item — "buy again".
* `popularity`: how many users bought the item.
* `item_knn_scores`: items that co-occur (cosine over buyers) with what the user bought.
* `tifu_knn_scores`: TIFU-KNN (Hu et al., SIGIR 2020): the user's time-decayed basket
  vector blended with the mean vector of the most similar users.
* `NextBasketRanker`: a LightGBM LambdaRank over the union of the candidates above, with
  their scores and ranks as features. Without basket times (Ta-Feng) it learns from each
  user's last known basket (features from the baskets before it). With times (the nightly
  job) it learns the task it is used for — what a customer buys in the next `HORIZON_DAYS` —
  posed at each month of the past year (`horizon_training_sets`), with repeat-cycle features
  (days since the item was last bought against the customer's usual gap for it, how often a
  purchase of it is followed by another within the horizon, recent popularity). Either way it
  never sees the baskets it is evaluated or used on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lightgbm import LGBMRanker
from scipy import sparse

Baskets = dict[str, list[list[str]]]
Times = dict[str, list[float]]  # per user, the day (days since 1970, fractional) of each basket, oldest first

TIFU_GROUP_SIZE = 7
TIFU_WITHIN_DECAY = 0.9
TIFU_GROUP_DECAY = 0.7
TIFU_NEIGHBOURS = 300
TIFU_ALPHA = 0.7
PERSONAL_DECAY = 0.9
TIME_DECAY_DAYS = 90.0
HORIZON_DAYS = 56.0  # the job recommends what a customer will buy in the next 8 weeks
TRAINING_WINDOWS = 11  # windows seen a month apart: the task posed at every month of the past year
WINDOW_STEP_DAYS = 28.0
QUERY_WEIGHT_POWER = 0.5  # a user's rows weigh 1/sqrt(target size): recall and hit-rate count users, not items
TIFU_BLEND = 0.25  # the horizon ranker's order: its per-user percentile + 0.25 × TIFU-KNN's (repeat purchases)
CANDIDATES_PER_SOURCE = 30
RANDOM_SEED = 42
CHUNK = 2000

RANKER_FEATURES = (
    "personal_decayed",
    "personal_share",
    "personal_count",
    "baskets_since_last",
    "tifu",
    "tifu_neighbours",
    "item_knn",
    "popularity",
    "item_repeat_rate",
    "user_baskets",
    "user_mean_basket",
    "personal_rank",
    "tifu_rank",
    "item_knn_rank",
    "tifu_relative",
    "days_since_item",
    "item_gap_days",
    "item_due",
    "item_time_decayed",
    "item_per_30_days",
    "days_since_last_basket",
    "days_as_customer",
    "baskets_per_30_days",
    "popularity_recent",
    "popularity_trend",
    "item_rebuy_rate",
    "user_rebuy_rate",
)

RANKER_PARAMS = {
    "objective": "lambdarank",
    "n_estimators": 200,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 50,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "random_state": RANDOM_SEED,
    "n_jobs": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
    "lambdarank_truncation_level": 20,
}


@dataclass(frozen=True)
class ItemSpace:
    """Item ids and their column numbers."""

    items: pd.Index

    @classmethod
    def of(cls, *histories: Baskets) -> ItemSpace:
        seen = {item for history in histories for baskets in history.values() for basket in baskets for item in basket}
        return cls(pd.Index(sorted(seen)))

    @property
    def _lookup(self) -> dict[str, int]:
        lookup = self.__dict__.get("_lookup_cache")
        if lookup is None:
            lookup = {item: column for column, item in enumerate(self.items)}
            object.__setattr__(self, "_lookup_cache", lookup)
        return lookup

    def columns(self, items: list[str]) -> np.ndarray:
        """Column numbers of the known `items`, in order (unknown items are skipped)."""
        lookup = self._lookup
        return np.array([lookup[item] for item in items if item in lookup], dtype="int64")


@dataclass(frozen=True)
class UserItemScores:
    """Per-user sparse or dense score matrices over `space`, rows in `users` order.

    The time matrices and arrays are None when the baskets come without times (Ta-Feng).
    Days are counted back from `now`; a pair never bought holds 0 in every matrix.
    """

    users: list[str]
    space: ItemSpace
    personal_decayed: sparse.csr_matrix
    personal_count: sparse.csr_matrix
    baskets_since_last: sparse.csr_matrix  # 1 + baskets since the last containing the item; 0 if never
    tifu_self: sparse.csr_matrix
    basket_counts: np.ndarray
    mean_basket: np.ndarray
    days_since_item_last: sparse.csr_matrix | None = None  # days from the last basket with the item to `now`
    days_since_item_first: sparse.csr_matrix | None = None
    item_time_decayed: sparse.csr_matrix | None = None  # Σ exp(-age / TIME_DECAY_DAYS) over its baskets
    days_since_last: np.ndarray | None = None  # per user: days since their last basket
    days_since_first: np.ndarray | None = None


def user_item_scores(
    history: Baskets, users: list[str], space: ItemSpace, times: Times | None = None, now: float | None = None
) -> UserItemScores:
    """The personal matrices of `users` from their baskets in `history` (and their `times`, seen at `now`)."""
    timed = times is not None and now is not None
    rows_d, cols_d, vals_d, vals_c, vals_l, vals_t = [], [], [], [], [], []
    vals_last, vals_first, vals_td = [], [], []
    counts, mean_sizes = np.zeros(len(users)), np.zeros(len(users))
    since_last, since_first = np.full(len(users), np.nan), np.full(len(users), np.nan)
    for row, user in enumerate(users):
        baskets = history.get(user, [])
        n = len(baskets)
        counts[row] = n
        mean_sizes[row] = np.mean([len(basket) for basket in baskets]) if n else 0.0
        ages = [max(now - day, 0.0) for day in times[user]] if timed and n else None
        if ages:
            since_last[row], since_first[row] = ages[-1], ages[0]
        decayed: dict[int, float] = {}
        count: dict[int, float] = {}
        last: dict[int, float] = {}
        first_age: dict[int, float] = {}
        last_age: dict[int, float] = {}
        time_decayed: dict[int, float] = {}
        tifu = _tifu_vector(baskets, space)
        for position, basket in enumerate(baskets):
            for column in set(space.columns(basket).tolist()):
                decayed[column] = decayed.get(column, 0.0) + PERSONAL_DECAY ** (n - 1 - position)
                count[column] = count.get(column, 0.0) + 1
                last[column] = float(n - position)
                if ages:
                    age = ages[position]
                    first_age.setdefault(column, age)
                    last_age[column] = age
                    time_decayed[column] = time_decayed.get(column, 0.0) + np.exp(-age / TIME_DECAY_DAYS)
        for column, value in decayed.items():
            rows_d.append(row)
            cols_d.append(column)
            vals_d.append(value)
            vals_c.append(count[column])
            vals_l.append(last[column])
            vals_t.append(tifu.get(column, 0.0))
            if ages:
                vals_last.append(last_age[column])
                vals_first.append(first_age[column])
                vals_td.append(time_decayed[column])
    shape = (len(users), len(space.items))

    def matrix(values: list[float]) -> sparse.csr_matrix:
        return sparse.csr_matrix((values, (rows_d, cols_d)), shape=shape)

    return UserItemScores(
        users=users,
        space=space,
        personal_decayed=matrix(vals_d),
        personal_count=matrix(vals_c),
        baskets_since_last=matrix(vals_l),
        tifu_self=matrix(vals_t),
        basket_counts=counts,
        mean_basket=mean_sizes,
        days_since_item_last=matrix(vals_last) if timed else None,
        days_since_item_first=matrix(vals_first) if timed else None,
        item_time_decayed=matrix(vals_td) if timed else None,
        days_since_last=since_last if timed else None,
        days_since_first=since_first if timed else None,
    )


def _tifu_vector(baskets: list[list[str]], space: ItemSpace) -> dict[int, float]:
    """TIFU's user vector: baskets averaged with decay within groups of 7, groups with decay."""
    if not baskets:
        return {}
    groups = [baskets[start : start + TIFU_GROUP_SIZE] for start in range(0, len(baskets), TIFU_GROUP_SIZE)]
    vector: dict[int, float] = {}
    for group_index, group in enumerate(groups):
        group_weight = TIFU_GROUP_DECAY ** (len(groups) - 1 - group_index) / len(groups)
        for position, basket in enumerate(group):
            weight = group_weight * TIFU_WITHIN_DECAY ** (len(group) - 1 - position) / len(group)
            for column in set(space.columns(basket).tolist()):
                vector[column] = vector.get(column, 0.0) + weight
    return vector


def tifu_knn_scores(scores: UserItemScores, neighbours: int = TIFU_NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """TIFU-KNN: (alpha · own vector + (1 - alpha) · mean of the nearest users' vectors, neighbour part).

    Neighbours by cosine similarity of the TIFU vectors (the user itself excluded). Dense
    results, users × items.
    """
    vectors = scores.tifu_self.tocsr().astype("float64")
    norms = np.sqrt(vectors.multiply(vectors).sum(axis=1)).A.ravel()
    normalised = sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ vectors
    k = min(neighbours, vectors.shape[0] - 1)
    rows, columns = [], []
    for start in range(0, vectors.shape[0] if k > 0 else 0, CHUNK):
        block = (normalised[start : start + CHUNK] @ normalised.T).toarray()
        block[np.arange(block.shape[0]), start + np.arange(block.shape[0])] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        rows.append(np.repeat(np.arange(start, start + block.shape[0]), k))
        columns.append(top.ravel())
    if rows:
        weights = sparse.csr_matrix(
            (np.full(sum(len(r) for r in rows), 1.0 / k), (np.concatenate(rows), np.concatenate(columns))),
            shape=(vectors.shape[0], vectors.shape[0]),
        )
        neighbour_part = (weights @ vectors).toarray()
    else:
        neighbour_part = np.zeros(vectors.shape)
    own = vectors.toarray()
    return TIFU_ALPHA * own + (1 - TIFU_ALPHA) * neighbour_part, neighbour_part


def item_knn_scores(scores: UserItemScores, buyers: sparse.csr_matrix) -> np.ndarray:
    """Σ over the user's items j of cosine(i, j) over buyers, weighted by the user's decayed count."""
    binary = (buyers > 0).astype("float64").tocsc()
    norms = np.sqrt(np.asarray(binary.sum(axis=0)).ravel())
    normalised = binary @ sparse.diags(1.0 / np.maximum(norms, 1e-12))
    similarity = (normalised.T @ normalised).tocsr()
    similarity.setdiag(0.0)
    return np.asarray((scores.personal_decayed @ similarity).todense())


def popularity(history: Baskets, space: ItemSpace) -> np.ndarray:
    """Number of users who bought each item."""
    counts = np.zeros(len(space.items))
    for baskets in history.values():
        counts[space.columns(sorted({item for basket in baskets for item in basket}))] += 1
    return counts


def recent_popularity(history: Baskets, times: Times, now: float, space: ItemSpace, days: float) -> np.ndarray:
    """Number of users who bought each item in the `days` before `now`."""
    counts = np.zeros(len(space.items))
    for user, baskets in history.items():
        recent = {item for basket, day in zip(baskets, times[user], strict=True) if now - days <= day < now
                  for item in basket}
        counts[space.columns(sorted(recent))] += 1
    return counts


def rebuy_rates(
    history: Baskets, times: Times, now: float, space: ItemSpace, users: list[str], days: float, prior_weight: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """How often a purchase is followed by another of the same item within `days`: per item, per user of `users`.

    Only purchases at least `days` before `now` count (the later ones cannot be judged yet).
    Rates are shrunk towards the overall rate with the weight of `prior_weight` purchases.
    """
    item_events, item_trials = np.zeros(len(space.items)), np.zeros(len(space.items))
    user_events: dict[str, float] = {}
    user_trials: dict[str, float] = {}
    for user, baskets in history.items():
        seen: dict[int, list[float]] = {}
        for basket, day in zip(baskets, times[user], strict=True):
            for column in set(space.columns(basket).tolist()):
                seen.setdefault(column, []).append(day)
        events = trials = 0.0
        for column, days_bought in seen.items():
            for position, day in enumerate(days_bought):
                if day > now - days:
                    break
                again = float(position + 1 < len(days_bought) and days_bought[position + 1] - day <= days)
                item_events[column] += again
                item_trials[column] += 1
                events += again
                trials += 1
        user_events[user], user_trials[user] = events, trials
    overall = item_events.sum() / max(item_trials.sum(), 1.0)
    item_rate = (item_events + prior_weight * overall) / (item_trials + prior_weight)
    user_rate = np.array(
        [(user_events.get(user, 0.0) + prior_weight * overall) / (user_trials.get(user, 0.0) + prior_weight) for user in users]
    )
    return item_rate, user_rate


def repeat_rate(scores: UserItemScores) -> np.ndarray:
    """Per item: share of its buyers who bought it in two baskets or more."""
    count = scores.personal_count.tocsc()
    buyers = np.asarray((count > 0).sum(axis=0)).ravel()
    repeaters = np.asarray((count > 1).sum(axis=0)).ravel()
    return np.divide(repeaters, buyers, out=np.zeros(len(buyers)), where=buyers > 0)


def top_k(score: np.ndarray, k: int, exclude: sparse.csr_matrix | None = None) -> np.ndarray:
    """Column numbers of the `k` best scores per row (ties by column), optionally excluding some."""
    score = np.array(score, dtype="float64", copy=True)
    if exclude is not None:
        rows, columns = exclude.nonzero()
        score[rows, columns] = -np.inf
    k = min(k, score.shape[1])
    part = np.argpartition(-score, k - 1, axis=1)[:, :k]
    part.sort(axis=1)  # column order, so that equal scores rank by column
    chosen = np.take_along_axis(score, part, axis=1)
    order = np.argsort(-chosen, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


@dataclass(frozen=True)
class CandidateFrame:
    """Candidate (user row, item column) pairs with the ranker's features."""

    rows: np.ndarray
    columns: np.ndarray
    features: pd.DataFrame


def candidates(
    history: Baskets,
    users: list[str],
    space: ItemSpace,
    *,
    exclude_bought: bool = False,
    times: Times | None = None,
    now: float | None = None,
) -> tuple[CandidateFrame, dict[str, np.ndarray]]:
    """Candidates and features for `users` from `history`; also the baseline score matrices.

    With basket `times` and the day `now` the recommendations are for, the repeat-cycle
    features are filled in (days since the item was last bought against the customer's usual
    gap between two purchases of it); without, they are missing and the ranker does without.
    """
    scores = user_item_scores(history, users, space, times, now)
    everyone = sorted(history)
    all_scores = scores if everyone == list(users) else user_item_scores(history, everyone, space)
    pop = popularity(history, space)
    tifu, tifu_neighbours = tifu_knn_scores(scores)
    knn = item_knn_scores(scores, all_scores.personal_count)
    decayed = scores.personal_decayed.toarray()
    baselines = {
        "popularity": np.broadcast_to(pop, decayed.shape),
        "personal": decayed + 1e-6 * pop / max(pop.max(), 1),  # personal first, then popular
        "item_knn": knn + 1e-6 * pop / max(pop.max(), 1),
        "tifu_knn": tifu + 1e-9 * pop / max(pop.max(), 1),
    }
    exclude = scores.personal_count if exclude_bought else None
    if exclude is None:
        most_popular = top_k(pop[None, :], CANDIDATES_PER_SOURCE)
        popular = np.broadcast_to(most_popular, (len(users), most_popular.shape[1]))
    else:
        popular = top_k(baselines["popularity"], CANDIDATES_PER_SOURCE, exclude)
    sources = [top_k(baselines[name], CANDIDATES_PER_SOURCE, exclude) for name in ("personal", "tifu_knn", "item_knn")]
    timed = scores.item_time_decayed is not None
    if timed:
        pop_recent = recent_popularity(history, times, now, space, HORIZON_DAYS)
        if exclude is None:
            recent = scores.item_time_decayed.toarray() + 1e-6 * pop / max(pop.max(), 1)
            sources.append(top_k(recent, CANDIDATES_PER_SOURCE))
        sources.append(top_k(np.broadcast_to(pop_recent + 1e-6 * pop / max(pop.max(), 1), decayed.shape),
                             CANDIDATES_PER_SOURCE, exclude))
    chosen = np.concatenate(sources + [popular], axis=1)
    pairs = np.unique(
        np.column_stack([np.repeat(np.arange(len(users)), chosen.shape[1]), chosen.ravel()]), axis=0
    )
    if exclude is not None:
        bought = scores.personal_count[pairs[:, 0], pairs[:, 1]].A.ravel() > 0
        pairs = pairs[~bought]
    rows, columns = pairs[:, 0], pairs[:, 1]
    count = scores.personal_count[rows, columns].A.ravel()
    features = pd.DataFrame(
        {
            "personal_decayed": decayed[rows, columns],
            "personal_share": count / np.maximum(scores.basket_counts[rows], 1),
            "personal_count": count,
            "baskets_since_last": scores.baskets_since_last[rows, columns].A.ravel(),
            "tifu": tifu[rows, columns],
            "tifu_neighbours": tifu_neighbours[rows, columns],
            "item_knn": knn[rows, columns],
            "popularity": pop[columns],
            "item_repeat_rate": repeat_rate(all_scores)[columns],
            "user_baskets": scores.basket_counts[rows],
            "user_mean_basket": scores.mean_basket[rows],
        }
    )
    features = features.join(_rank_features(features, rows))
    features = features.join(_cycle_features(scores, rows, columns, count))
    users_recent = sum(1 for user in history if any(now - HORIZON_DAYS <= day < now for day in times[user])) if timed else 0
    features["popularity_recent"] = pop_recent[columns] if timed else np.nan
    if timed:
        item_rebuy, user_rebuy = rebuy_rates(history, times, now, space, users, HORIZON_DAYS)
    features["item_rebuy_rate"] = item_rebuy[columns] if timed else np.nan
    features["user_rebuy_rate"] = user_rebuy[rows] if timed else np.nan
    features["popularity_trend"] = (
        (pop_recent[columns] / max(users_recent, 1)) / np.maximum(pop[columns] / max(len(history), 1), 1e-12)
        if timed else np.nan
    )
    return CandidateFrame(rows=rows, columns=columns, features=features), baselines


def _rank_features(features: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Each candidate's rank among the user's candidates by the baselines' scores, and TIFU relative to the best."""
    by_user = features.groupby(rows)
    return pd.DataFrame(
        {
            "personal_rank": by_user["personal_decayed"].rank(ascending=False, method="min"),
            "tifu_rank": by_user["tifu"].rank(ascending=False, method="min"),
            "item_knn_rank": by_user["item_knn"].rank(ascending=False, method="min"),
            "tifu_relative": features["tifu"] / np.maximum(by_user["tifu"].transform("max"), 1e-12),
        },
        index=features.index,
    )


def _cycle_features(scores: UserItemScores, rows: np.ndarray, columns: np.ndarray, count: np.ndarray) -> pd.DataFrame:
    """Repeat-purchase cycle features in days (missing without basket times, or for an item never bought)."""
    names = ("days_since_item", "item_gap_days", "item_due", "item_time_decayed", "item_per_30_days",
             "days_since_last_basket", "days_as_customer", "baskets_per_30_days")
    if scores.days_since_item_last is None:
        return pd.DataFrame({name: np.full(len(rows), np.nan) for name in names})
    bought = count > 0
    since = np.where(bought, scores.days_since_item_last[rows, columns].A.ravel(), np.nan)
    first = np.where(bought, scores.days_since_item_first[rows, columns].A.ravel(), np.nan)
    gap = np.where(count >= 2, (first - since) / np.maximum(count - 1, 1), np.nan)
    tenure = np.maximum(scores.days_since_first[rows], 1.0)
    return pd.DataFrame(
        {
            "days_since_item": since,
            "item_gap_days": gap,
            "item_due": since / np.maximum(gap, 1.0),
            "item_time_decayed": scores.item_time_decayed[rows, columns].A.ravel(),
            "item_per_30_days": 30.0 * count / tenure,
            "days_since_last_basket": scores.days_since_last[rows],
            "days_as_customer": scores.days_since_first[rows],
            "baskets_per_30_days": 30.0 * scores.basket_counts[rows] / tenure,
        }
    )


@dataclass(frozen=True)
class NextBasketRanker:
    """A fitted LambdaRank over candidates; `space` is the item space it was trained in."""

    ranker: LGBMRanker
    features: tuple[str, ...] = RANKER_FEATURES
    tifu_weight: float = 0.0  # > 0: rank by percentile within the user + tifu_weight × TIFU-KNN's percentile


@dataclass(frozen=True)
class TrainingSet:
    """What the ranker learns from: `earlier` baskets (with `times`, seen at `now`) and each user's target items."""

    earlier: Baskets
    targets: dict[str, list[str]]
    times: Times | None = None
    now: float | None = None


def fit_ranker(history: Baskets, *, exclude_bought: bool = False, max_users: int | None = None) -> NextBasketRanker:
    """Learn from each user's last basket, with features from the baskets before it (baskets without times)."""
    earlier = {user: baskets[:-1] for user, baskets in history.items() if len(baskets) >= 2}
    targets = {user: history[user][-1] for user in earlier}
    return fit_ranker_on(earlier, targets, exclude_bought=exclude_bought, max_users=max_users)


def fit_ranker_on(
    earlier: Baskets,
    targets: dict[str, list[str]],
    *,
    exclude_bought: bool = False,
    max_users: int | None = None,
) -> NextBasketRanker:
    """Learn to rank, for each user of `targets`, the items of their target from `earlier` baskets.

    `targets` may be one next basket per user, or everything a user bought in a later time
    window (what the nightly job and the UCI benchmark predict): the ranker learns what it will be asked.
    """
    return fit_ranker_sets([TrainingSet(earlier, targets)], exclude_bought=exclude_bought, max_users=max_users)


def fit_ranker_sets(
    sets: list[TrainingSet], *, exclude_bought: bool = False, max_users: int | None = None
) -> NextBasketRanker:
    """One ranker learnt from several training sets (each user of each set is one query)."""
    parts, labels, groups, weights = [], [], [], []
    for training in sets:
        users = sorted(user for user in training.targets if training.earlier.get(user))
        if max_users is not None and len(users) > max_users:
            users = sorted(np.random.default_rng(RANDOM_SEED).choice(users, max_users, replace=False).tolist())
        if not users:
            continue
        space = ItemSpace.of(training.earlier, {user: [training.targets[user]] for user in users})
        frame, _ = candidates(
            training.earlier, users, space, exclude_bought=exclude_bought, times=training.times, now=training.now
        )
        target_sets = [set(space.columns(training.targets[user]).tolist()) for user in users]
        label = np.array([column in target_sets[row] for row, column in zip(frame.rows, frame.columns, strict=True)])
        # Users whose target no candidate holds teach the ranker nothing.
        useful = pd.Series(label).groupby(frame.rows).transform("any").to_numpy()
        rows = frame.rows[useful]
        parts.append(frame.features.loc[useful])
        sizes = np.array([max(len(target), 1) for target in target_sets], dtype="float64")
        weights.append(sizes[rows] ** -QUERY_WEIGHT_POWER)
        labels.append(label[useful].astype(int))
        groups.append(np.bincount(rows)[np.unique(rows)])
    if not parts:
        raise ValueError("no user of the training sets has a target among their candidates: nothing to learn")
    features = pd.concat(parts, ignore_index=True).loc[:, list(RANKER_FEATURES)]
    ranker = LGBMRanker(**RANKER_PARAMS).fit(
        features, np.concatenate(labels), group=np.concatenate(groups), sample_weight=np.concatenate(weights)
    )
    return NextBasketRanker(ranker=ranker, features=tuple(RANKER_FEATURES))


def horizon_training_sets(
    history: Baskets,
    times: Times,
    now: float,
    *,
    horizon_days: float = HORIZON_DAYS,
    windows: int = TRAINING_WINDOWS,
    step_days: float = WINDOW_STEP_DAYS,
    exclude_bought: bool = False,
) -> list[TrainingSet]:
    """The task "what will each customer buy in the next `horizon_days`", posed at `windows` earlier days.

    Window w (1 = the latest) is seen at `now - horizon_days - (w - 1) · step_days`: the
    baskets before that day are the history, the items bought in the following `horizon_days` the target (only the
    items new to the customer when `exclude_bought`). Nothing at or after `now` is read.
    """
    sets = []
    for window in range(1, windows + 1):
        split = now - horizon_days - (window - 1) * step_days
        stop = split + horizon_days
        earlier: Baskets = {}
        earlier_times: Times = {}
        targets: dict[str, list[str]] = {}
        for user, baskets in history.items():
            days = times[user]
            before = [position for position, day in enumerate(days) if day < split]
            if not before:
                continue
            later = {item for basket, day in zip(baskets, days, strict=True) if split <= day < stop for item in basket}
            if exclude_bought:
                later -= {item for position in before for item in baskets[position]}
            earlier[user] = [baskets[position] for position in before]
            earlier_times[user] = [days[position] for position in before]
            if later:
                targets[user] = sorted(later)
        if targets:
            sets.append(TrainingSet(earlier, targets, earlier_times, split))
    return sets


def fit_ranker_for_horizon(
    history: Baskets,
    times: Times,
    now: float,
    *,
    horizon_days: float = HORIZON_DAYS,
    windows: int = TRAINING_WINDOWS,
    step_days: float = WINDOW_STEP_DAYS,
    exclude_bought: bool = False,
    min_users: int = 1,
) -> NextBasketRanker | None:
    """The nightly job's ranker: learnt on `horizon_training_sets`; None when fewer than `min_users` queries.

    For all products (not `exclude_bought`) its order blends in TIFU-KNN's (`TIFU_BLEND`,
    chosen on the 8 weeks before the UCI benchmark's hold-out, never on the hold-out).
    """
    sets = horizon_training_sets(
        history, times, now, horizon_days=horizon_days, windows=windows, step_days=step_days,
        exclude_bought=exclude_bought,
    )
    if sum(len(training.targets) for training in sets) < min_users:
        return None
    model = fit_ranker_sets(sets, exclude_bought=exclude_bought)
    return model if exclude_bought else NextBasketRanker(model.ranker, model.features, tifu_weight=TIFU_BLEND)


def rank(model: NextBasketRanker, frame: CandidateFrame, users: int, k: int) -> np.ndarray:
    """The top `k` item columns per user row (-1 where a user has fewer candidates)."""
    score = model.ranker.predict(frame.features.loc[:, list(model.features)])
    if model.tifu_weight and len(score):
        by_user = frame.features.assign(score=score).groupby(frame.rows)
        score = (by_user["score"].rank(pct=True) + model.tifu_weight * by_user["tifu"].rank(pct=True)).to_numpy()
    order = np.lexsort((frame.columns, -score, frame.rows))
    result = np.full((users, k), -1)
    rows, columns = frame.rows[order], frame.columns[order]
    starts = np.searchsorted(rows, np.arange(users))
    ends = np.searchsorted(rows, np.arange(users), side="right")
    for row in range(users):
        chosen = columns[starts[row] : ends[row]][:k]
        result[row, : len(chosen)] = chosen
    return result


def recall_ndcg_hit(recommended: np.ndarray, targets: list[set[int]], k: int) -> dict[str, float]:
    """Mean recall@k, NDCG@k and hit-rate@k over users with a non-empty target."""
    recalls, ndcgs, hits = [], [], []
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for row, target in enumerate(targets):
        if not target:
            continue
        gains = np.array([column in target for column in recommended[row, :k]], dtype="float64")
        recalls.append(gains.sum() / len(target))
        ideal = discounts[: min(len(target), k)].sum()
        ndcgs.append((gains * discounts[: len(gains)]).sum() / ideal)
        hits.append(float(gains.any()))
    return {
        "recall": float(np.mean(recalls)),
        "ndcg": float(np.mean(ndcgs)),
        "hit_rate": float(np.mean(hits)),
        "users": len(recalls),
    }
