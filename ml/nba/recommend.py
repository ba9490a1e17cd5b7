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
  their scores as features; it learns from each user's last known basket (features from the
  baskets before it), so it never sees the basket it is evaluated or used on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lightgbm import LGBMRanker
from scipy import sparse

Baskets = dict[str, list[list[str]]]

TIFU_GROUP_SIZE = 7
TIFU_WITHIN_DECAY = 0.9
TIFU_GROUP_DECAY = 0.7
TIFU_NEIGHBOURS = 300
TIFU_ALPHA = 0.7
PERSONAL_DECAY = 0.9
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
    """Per-user sparse or dense score matrices over `space`, rows in `users` order."""

    users: list[str]
    space: ItemSpace
    personal_decayed: sparse.csr_matrix
    personal_count: sparse.csr_matrix
    baskets_since_last: sparse.csr_matrix  # 1 + baskets since the last containing the item; 0 if never
    tifu_self: sparse.csr_matrix
    basket_counts: np.ndarray
    mean_basket: np.ndarray


def user_item_scores(history: Baskets, users: list[str], space: ItemSpace) -> UserItemScores:
    """The personal matrices of `users` from their baskets in `history`."""
    rows_d, cols_d, vals_d, vals_c, vals_l, vals_t = [], [], [], [], [], []
    counts, mean_sizes = np.zeros(len(users)), np.zeros(len(users))
    for row, user in enumerate(users):
        baskets = history.get(user, [])
        n = len(baskets)
        counts[row] = n
        mean_sizes[row] = np.mean([len(basket) for basket in baskets]) if n else 0.0
        decayed: dict[int, float] = {}
        count: dict[int, float] = {}
        last: dict[int, float] = {}
        tifu = _tifu_vector(baskets, space)
        for position, basket in enumerate(baskets):
            for column in set(space.columns(basket).tolist()):
                decayed[column] = decayed.get(column, 0.0) + PERSONAL_DECAY ** (n - 1 - position)
                count[column] = count.get(column, 0.0) + 1
                last[column] = float(n - position)
        for column, value in decayed.items():
            rows_d.append(row)
            cols_d.append(column)
            vals_d.append(value)
            vals_c.append(count[column])
            vals_l.append(last[column])
            vals_t.append(tifu.get(column, 0.0))
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


def candidates(history: Baskets, users: list[str], space: ItemSpace, *, exclude_bought: bool = False) -> tuple[
    CandidateFrame, dict[str, np.ndarray]
]:
    """Candidates and features for `users` from `history`; also the baseline score matrices."""
    scores = user_item_scores(history, users, space)
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
    chosen = np.concatenate(
        [top_k(baselines[name], CANDIDATES_PER_SOURCE, exclude) for name in ("personal", "tifu_knn", "item_knn")]
        + [popular],
        axis=1,
    )
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
    return CandidateFrame(rows=rows, columns=columns, features=features), baselines


@dataclass(frozen=True)
class NextBasketRanker:
    """A fitted LambdaRank over candidates; `space` is the item space it was trained in."""

    ranker: LGBMRanker
    features: tuple[str, ...] = RANKER_FEATURES


def fit_ranker(history: Baskets, *, exclude_bought: bool = False, max_users: int | None = None) -> NextBasketRanker:
    """Learn from each user's last basket, with features from the baskets before it."""
    earlier = {user: baskets[:-1] for user, baskets in history.items() if len(baskets) >= 2}
    targets = {user: history[user][-1] for user in earlier}
    return fit_ranker_on(earlier, targets, exclude_bought=exclude_bought, max_users=max_users)


def fit_ranker_on(
    earlier: Baskets, targets: dict[str, list[str]], *, exclude_bought: bool = False, max_users: int | None = None
) -> NextBasketRanker:
    """Learn to rank, for each user of `targets`, the items of their target from `earlier` baskets.

    `targets` may be one next basket per user, or everything a user bought in a later time
    window (what the UCI benchmark predicts): the ranker learns what it will be asked.
    """
    users = sorted(user for user in targets if earlier.get(user))
    if max_users is not None and len(users) > max_users:
        users = sorted(np.random.default_rng(RANDOM_SEED).choice(users, max_users, replace=False).tolist())
    space = ItemSpace.of(earlier, {user: [targets[user]] for user in users})
    frame, _ = candidates(earlier, users, space, exclude_bought=exclude_bought)
    target_sets = [set(space.columns(targets[user]).tolist()) for user in users]
    labels = np.array([column in target_sets[row] for row, column in zip(frame.rows, frame.columns, strict=True)])
    # Users whose target no candidate holds teach the ranker nothing.
    useful = pd.Series(labels).groupby(frame.rows).transform("any").to_numpy()
    features = frame.features.loc[useful].reset_index(drop=True)
    rows = frame.rows[useful]
    group_sizes = np.bincount(rows)[np.unique(rows)]
    ranker = LGBMRanker(**RANKER_PARAMS).fit(features, labels[useful].astype(int), group=group_sizes)
    return NextBasketRanker(ranker=ranker)


def rank(model: NextBasketRanker, frame: CandidateFrame, users: int, k: int) -> np.ndarray:
    """The top `k` item columns per user row (-1 where a user has fewer candidates)."""
    score = model.ranker.predict(frame.features.loc[:, list(model.features)])
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
