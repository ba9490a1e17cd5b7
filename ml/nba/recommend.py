"""Which products to offer a customer: baselines and a learned ranker over their baskets.

Everything works on a `Purchases` table: one row per (basket, item) with the basket's
customer, position in the customer's history and day. Per (customer, item) figures are
aggregated from it once (`PairTable`), and every score is computed for a chunk of customers
at a time as a sparse matrix — only the items a customer, their neighbours or their items'
neighbours touch are stored — keeping a bounded set of candidates per customer: memory grows
with the purchases and one chunk, never with customers × products. The same code serves the
benchmarks (Ta-Feng, UCI Online Retail) and the nightly job.

Baselines (`BASELINES`), each filled up with the most popular items:

* `personal`: how often (decayed by 0.9 per basket since) the customer bought the item — "buy again";
* `popularity`: how many customers bought the item;
* `item_knn`: items bought by the same customers (cosine over buyers, each item's
  `ITEM_NEIGHBOURS` nearest among the `MAX_NEIGHBOUR_ITEMS` most bought) as what the customer
  bought, weighted by the personal score; the buyers are TIFU-KNN's neighbour pool (below):
  everyone, up to `MAX_NEIGHBOUR_POOL`;
* `tifu_knn`: TIFU-KNN as in Hu et al. (SIGIR 2020) and the authors' code: each basket is a
  0/1 vector decayed by 0.9 per basket up to the latest; the history is cut into 7 groups
  of nearly equal size (when fewer than 7 baskets, one group each), each group the mean of
  its baskets, groups decayed by 0.7 (the newest weighing 0.7^0 only when there are 7) and
  averaged; the score is 0.7 × the customer's vector + 0.3 × the mean vector of the 300
  nearest customers by Euclidean distance (the customer itself excluded). The search is
  exact up to `MAX_NEIGHBOUR_POOL` customers; a larger business looks for neighbours among a
  fixed random sample of that many (the search is quadratic in the pool).

`NextBasketRanker` is a LightGBM LambdaRank over the union of the baselines' top candidates
(`CANDIDATES_PER_SOURCE` each), with their scores and ranks as features. Without basket
days (Ta-Feng) it learns from each customer's last known basket; with days (the nightly job)
it learns the task it is used for — what a customer buys in the next `HORIZON_DAYS` — posed
at each month of the past year (`horizon_training_sets`), with repeat-cycle features, from at
most `MAX_QUERIES_PER_WINDOW` customers per month (`MAX_TRAINING_QUERIES` in all). It never
sees the baskets it is evaluated or used on.

Cancelled orders follow `ml.cancellations`: a `Purchases` built from order lines holds the
baskets not cancelled now (the truth a target window is read from), and keeps aside those
cancelled at a known date (`Purchases.cancelled`); `Purchases.before(day)`, the history a
ranker learns from or ranks with at a past day, counts those cancelled on or after that day as
bought then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
from lightgbm import LGBMRanker
from scipy import sparse

from ml.cancellations import ALWAYS, NEVER, cancelled_since, cancelled_then

Baskets = dict[str, list[list[str]]]
Times = dict[str, list[float]]  # per user, the day (days since 1970, fractional) of each basket, oldest first

TIFU_GROUPS = 7
TIFU_WITHIN_DECAY = 0.9
TIFU_GROUP_DECAY = 0.7
TIFU_NEIGHBOURS = 300
TIFU_ALPHA = 0.7
ITEM_NEIGHBOURS = 100
PERSONAL_DECAY = 0.9
TIME_DECAY_DAYS = 90.0
HORIZON_DAYS = 56.0  # the job recommends what a customer will buy in the next 8 weeks
TRAINING_WINDOWS = 11  # windows seen a month apart: the task posed at every month of the past year
WINDOW_STEP_DAYS = 28.0
MAX_TRAINING_QUERIES = 22_000  # customers the ranker learns from in all, drawn at random beyond that
MAX_QUERIES_PER_WINDOW = MAX_TRAINING_QUERIES // TRAINING_WINDOWS
QUERY_WEIGHT_POWER = 0.5  # a user's rows weigh 1/sqrt(target size): recall and hit-rate count users, not items
CANDIDATES_PER_SOURCE = 30
CELLS_PER_CHUNK = 8_000_000  # customers per chunk × max(products, neighbour pool): the dense scores of a chunk
MAX_NEIGHBOUR_POOL = 20_000  # TIFU-KNN looks for neighbours among at most this many customers (drawn at random)
MAX_NEIGHBOUR_ITEMS = 20_000  # item-kNN looks for an item's neighbours among at most this many, the most bought
RANDOM_SEED = 42
BASELINES = ("popularity", "personal", "item_knn", "tifu_knn")
MODEL = "model"

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
class Purchases:
    """A purchase history in long form.

    Baskets are numbered in (customer, time) order; `basket_user` is each basket's customer
    row in `users`, `basket_day` its day (days since 1970, None for histories without days).
    Each (basket, item) appears once: `event_basket`, `event_item` (column in `items`).

    `cancelled`, from order lines with a dated cancellation (`from_lines`), holds the baskets
    left out as cancelled now, in the same users and items, each with `basket_since` (the
    instant from which it counts as cancelled, `ml.cancellations.cancelled_since`): `before`
    puts back those a past day did not yet see cancelled.
    """

    users: pd.Index
    items: pd.Index
    basket_user: np.ndarray
    basket_day: np.ndarray | None
    event_basket: np.ndarray
    event_item: np.ndarray
    basket_since: np.ndarray | None = None
    cancelled: Purchases | None = None

    @classmethod
    def from_baskets(cls, history: Baskets, times: Times | None = None, items: pd.Index | None = None) -> Purchases:
        """From each user's baskets (oldest first) and, optionally, the day of each."""
        users = pd.Index(sorted(history))
        basket_user, basket_day, event_basket, event_ids = [], [], [], []
        for row, user in enumerate(users):
            for position, basket in enumerate(history[user]):
                number = len(basket_user)
                basket_user.append(row)
                if times is not None:
                    basket_day.append(times[user][position])
                unique = set(basket)
                event_basket.extend([number] * len(unique))
                event_ids.extend(unique)
        if items is None:
            items = pd.Index(sorted(set(event_ids)))
        columns = items.get_indexer(pd.Index(event_ids, dtype=object)) if event_ids else np.array([], dtype=np.int64)
        known = columns >= 0
        return cls(
            users=users,
            items=items,
            basket_user=np.asarray(basket_user, dtype=np.int64),
            basket_day=np.asarray(basket_day, dtype="float64") if times is not None else None,
            event_basket=np.asarray(event_basket, dtype=np.int64)[known],
            event_item=np.asarray(columns, dtype=np.int64)[known],
        )

    @classmethod
    def from_lines(cls, lines: pd.DataFrame, end: pd.Timestamp, items: pd.Index | None = None) -> Purchases:
        """The orders before `end` as baskets: lines with a customer and a positive quantity of orders not cancelled.

        A basket's day is its order's first line's `ordered_at` (days since 1970, fractional).
        Cancelled means cancelled now (`is_cancelled`): these baskets are the truth of every
        day before `end`. The orders cancelled at a known date (`cancelled_at`) are kept aside
        in `cancelled`, for `before`; their customers and items are among `users` and `items`.
        """
        placed = lines.loc[(lines["ordered_at"] < end) & (lines["quantity"] > 0) & lines["customer_id"].notna()]
        placed = placed.assign(customer_id=placed["customer_id"].astype(str), product_id=placed["product_id"].astype(str))
        since = cancelled_since(placed)
        bought = placed.loc[since == NEVER]
        dated = (since != NEVER) & (since != ALWAYS)  # cancelled now, at a known date: bought before it
        dated = placed.loc[dated].assign(since=since[dated])
        users = pd.Index(sorted(set(bought["customer_id"]) | set(dated["customer_id"])))
        if items is None:
            items = pd.Index(sorted(set(bought["product_id"]) | set(dated["product_id"])))
        purchases = cls._from_order_lines(bought, users, items)
        if not len(dated):
            return purchases
        return replace(purchases, cancelled=cls._from_order_lines(dated, users, items))

    @classmethod
    def _from_order_lines(cls, bought: pd.DataFrame, users: pd.Index, items: pd.Index) -> Purchases:
        """`from_lines` of the lines `bought`, in `users` and `items` (with `basket_since` when they have `since`)."""
        aggregated = {"customer_id": ("customer_id", "first"), "ordered_at": ("ordered_at", "min")}
        if "since" in bought.columns:
            aggregated["since"] = ("since", "min")
        orders = bought.groupby("order_id", sort=False).agg(**aggregated)
        orders = orders.reset_index().sort_values(["customer_id", "ordered_at", "order_id"], kind="stable")
        basket_of = pd.Series(np.arange(len(orders)), index=orders["order_id"].to_numpy())
        events = bought.drop_duplicates(["order_id", "product_id"])
        columns = items.get_indexer(events["product_id"])
        known = columns >= 0
        return cls(
            users=users,
            items=items,
            basket_user=users.get_indexer(orders["customer_id"]).astype(np.int64),
            basket_day=day_numbers(orders["ordered_at"]),
            event_basket=basket_of.reindex(events["order_id"].to_numpy()).to_numpy(dtype=np.int64)[known],
            event_item=columns[known].astype(np.int64),
            basket_since=orders["since"].to_numpy(dtype=np.int64) if "since" in orders.columns else None,
        )

    # --- what the table holds -------------------------------------------------------------

    @cached_property
    def basket_count(self) -> np.ndarray:
        """Baskets per user row."""
        return np.bincount(self.basket_user, minlength=len(self.users)).astype("float64")

    @cached_property
    def basket_position(self) -> np.ndarray:
        """Each basket's position in its user's history (0: the oldest)."""
        first = np.concatenate([[0], np.cumsum(self.basket_count)[:-1]]).astype(np.int64)
        return np.arange(len(self.basket_user)) - first[self.basket_user]

    @cached_property
    def basket_size(self) -> np.ndarray:
        return np.bincount(self.event_basket, minlength=len(self.basket_user)).astype("float64")

    def baskets(self) -> tuple[Baskets, Times | None]:
        """Back to each user's baskets (items sorted) and days: for tests and small histories."""
        history: Baskets = {}
        times: Times | None = {} if self.basket_day is not None else None
        order = np.lexsort((self.event_item, self.event_basket))
        items = self.items.to_numpy()[self.event_item[order]]
        starts = np.searchsorted(self.event_basket[order], np.arange(len(self.basket_user) + 1))
        for basket, row in enumerate(self.basket_user):
            user = self.users[row]
            history.setdefault(user, []).append(sorted(items[starts[basket]:starts[basket + 1]].tolist()))
            if times is not None:
                times.setdefault(user, []).append(float(self.basket_day[basket]))
        return history, times

    def select_baskets(self, keep: np.ndarray) -> Purchases:
        """The same users and items with only the baskets where `keep` is true (renumbered, order kept).

        The baskets set aside as `cancelled` are not carried.
        """
        renumber = np.cumsum(keep) - 1
        kept_events = keep[self.event_basket]
        return Purchases(
            users=self.users,
            items=self.items,
            basket_user=self.basket_user[keep],
            basket_day=None if self.basket_day is None else self.basket_day[keep],
            event_basket=renumber[self.event_basket[kept_events]],
            event_item=self.event_item[kept_events],
            basket_since=None if self.basket_since is None else self.basket_since[keep],
        )

    def before(self, day: float) -> Purchases:
        """The baskets of days before `day`, as seen at `day`: the history of a ranker posed there.

        A basket set aside as `cancelled` counts as bought when its order was cancelled at or
        after `day` (`ml.cancellations`); those still cancelled then stay aside, so that a later
        `before` of an earlier day sees its own.
        """
        earlier = self.select_baskets(self.basket_day < day)
        late = self.cancelled
        if late is None or not len(late.basket_user):
            return earlier
        placed = late.basket_day < day
        still = cancelled_then(late.basket_since, pd.Timestamp(round(day * 86_400e9), unit="ns", tz="UTC"))
        return replace(earlier._merged(late.select_baskets(placed & ~still)),
                       cancelled=late.select_baskets(placed & still))

    def _merged(self, other: Purchases) -> Purchases:
        """These baskets and `other`'s (same users and items, with days), renumbered in (customer, day) order."""
        if not len(other.basket_user):
            return self
        count = len(self.basket_user)
        user = np.concatenate([self.basket_user, other.basket_user])
        day = np.concatenate([self.basket_day, other.basket_day])
        order = np.lexsort((np.arange(len(user)), day, user))  # ties: these baskets first
        number = np.empty(len(user), dtype=np.int64)
        number[order] = np.arange(len(user))
        event_basket = number[np.concatenate([self.event_basket, other.event_basket + count])]
        event_item = np.concatenate([self.event_item, other.event_item])
        events = np.argsort(event_basket, kind="stable")
        return Purchases(users=self.users, items=self.items, basket_user=user[order], basket_day=day[order],
                         event_basket=event_basket[events], event_item=event_item[events])

    def items_bought(self, keep: np.ndarray) -> sparse.csr_matrix:
        """Users × items, 1 where the user bought the item in a basket where `keep` is true."""
        events = keep[self.event_basket]
        matrix = sparse.csr_matrix(
            (np.ones(int(events.sum())), (self.basket_user[self.event_basket[events]], self.event_item[events])),
            shape=(len(self.users), len(self.items)),
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix

    def last_baskets(self) -> np.ndarray:
        """True for each user's latest basket."""
        return self.basket_position == self.basket_count[self.basket_user] - 1


def day_numbers(moments: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 UTC, fractional: the time axis of `Purchases.basket_day`."""
    stamps = pd.to_datetime(moments, utc=True)
    return (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype="float64") / 86_400.0


# --- per (user, item) figures ---------------------------------------------------------------


def tifu_basket_weights(position: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Each basket's weight in its user's TIFU-KNN vector (see the module docstring).

    `position` counts from the user's oldest basket (0), `count` is the user's number of
    baskets. With L >= 7 baskets, base = L // 7, the first 7 - (L mod 7) groups hold `base`
    baskets and the others base + 1, oldest first.
    """
    groups = TIFU_GROUPS
    length = count.astype(np.int64)
    base = np.maximum(length // groups, 1)
    extra = length - base * groups
    boundary = (groups - extra) * base
    few = length < groups
    group = np.where(few, position, np.where(position < boundary, position // base,
                                              groups - extra + (position - boundary) // (base + 1)))
    size = np.where(few, 1, np.where(position < boundary, base, base + 1))
    real_groups = np.where(few, length, groups)
    return (TIFU_WITHIN_DECAY ** (length - 1 - position) / size
            * TIFU_GROUP_DECAY ** (groups - 1 - group) / real_groups)


@dataclass(frozen=True)
class PairTable:
    """Figures per (user row, item column) the user bought, sorted by `key` = row × `items` + column."""

    items: int
    key: np.ndarray
    row: np.ndarray
    column: np.ndarray
    count: np.ndarray  # baskets with the item
    decayed: np.ndarray  # Σ 0.9^(baskets since)
    since_last: np.ndarray  # 1 + baskets since the last with the item
    tifu: np.ndarray  # the TIFU-KNN vector's entry
    age_last: np.ndarray | None  # days from the last basket with the item to `now`
    age_first: np.ndarray | None
    time_decayed: np.ndarray | None  # Σ exp(-age / TIME_DECAY_DAYS)

    def lookup(self, rows: np.ndarray, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """`values` of the pairs (rows, columns), 0 for pairs never bought."""
        if not len(self.key):
            return np.zeros(len(rows))
        keys = rows.astype(np.int64) * self.items + columns
        where = np.minimum(np.searchsorted(self.key, keys), len(self.key) - 1)
        return np.where(self.key[where] == keys, values[where], 0.0)


def pair_table(purchases: Purchases, now: float | None) -> PairTable:
    """Aggregate the purchases per (user, item); ages need basket days and `now`."""
    items = max(len(purchases.items), 1)
    user = purchases.basket_user[purchases.event_basket]
    key = user * items + purchases.event_item
    order = np.argsort(key, kind="stable")
    key = key[order]
    basket = purchases.event_basket[order]
    new_pair = np.concatenate([[True], key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=bool)
    starts = np.flatnonzero(new_pair)
    group = np.cumsum(new_pair) - 1
    unique = key[starts]
    position = purchases.basket_position[basket]
    count = purchases.basket_count[purchases.basket_user[basket]]

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=weights, minlength=len(unique))

    def reduce(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        return ufunc.reduceat(values, starts) if len(starts) else values[:0]

    timed = purchases.basket_day is not None and now is not None
    age = np.maximum(now - purchases.basket_day[basket], 0.0) if timed else None
    return PairTable(
        items=items,
        key=unique,
        row=unique // items,
        column=unique % items,
        count=total(np.ones(len(key))),
        decayed=total(PERSONAL_DECAY ** (count - 1 - position)),
        since_last=count[starts] - reduce(np.maximum, position),
        tifu=total(tifu_basket_weights(position, count)),
        age_last=reduce(np.minimum, age) if timed else None,
        age_first=reduce(np.maximum, age) if timed else None,
        time_decayed=total(np.exp(-age / TIME_DECAY_DAYS)) if timed else None,
    )


def _csr(pairs: PairTable, values: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pairs.row, minlength=shape[0]))])
    return sparse.csr_matrix((values.astype("float32"), pairs.column.astype(np.int32), indptr), shape=shape)


@dataclass(frozen=True)
class Context:
    """Everything computed once per history before scoring chunks of users."""

    purchases: Purchases
    pairs: PairTable
    now: float | None
    popularity: np.ndarray
    popular_order: np.ndarray  # item columns by popularity, ties by column
    recent_order: np.ndarray  # item columns by popularity in the last HORIZON_DAYS, then popularity
    customers: int  # users with a basket
    repeat_rate: np.ndarray
    tifu_vectors: sparse.csr_matrix  # users × items
    pool: np.ndarray  # user rows TIFU-KNN may pick neighbours among (`_neighbour_pool`)
    pool_vectors: sparse.csr_matrix  # pool users × items: their TIFU vectors
    pool_vectors_t: sparse.csr_matrix  # the same, transposed
    pool_norms: np.ndarray  # their squared lengths
    personal: sparse.csr_matrix  # users × items, decayed counts
    time_decayed: sparse.csr_matrix | None  # users × items, Σ exp(-age / TIME_DECAY_DAYS)
    item_similarity: sparse.csr_matrix  # items × items, each row its ITEM_NEIGHBOURS nearest (over the pool's buyers)
    mean_basket: np.ndarray
    popularity_recent: np.ndarray | None = None
    users_recent: int = 0
    item_rebuy: np.ndarray | None = None
    user_rebuy: np.ndarray | None = None
    first_day_age: np.ndarray | None = None  # per user: days since the first basket
    last_day_age: np.ndarray | None = None

    @property
    def timed(self) -> bool:
        return self.pairs.age_last is not None


def context(purchases: Purchases, now: float | None = None) -> Context:
    """The shared scores of a history (`now`: the day recommendations are for, needed for the time features)."""
    shape = (len(purchases.users), len(purchases.items))
    pairs = pair_table(purchases, now)
    popularity = np.bincount(pairs.column, minlength=shape[1]).astype("float64")
    repeaters = np.bincount(pairs.column[pairs.count > 1], minlength=shape[1])
    tifu = _csr(pairs, pairs.tifu, shape)
    with_baskets = np.flatnonzero(purchases.basket_count > 0)
    pool = _neighbour_pool(with_baskets)
    pool_vectors = tifu[pool]
    sizes = np.bincount(purchases.basket_user, weights=purchases.basket_size, minlength=shape[0])
    extra = {}
    if pairs.age_last is not None:
        ages = np.maximum(now - purchases.basket_day, 0.0)
        first_age = np.full(shape[0], np.nan)
        last_age = np.full(shape[0], np.nan)
        np.fmax.at(first_age, purchases.basket_user, ages)
        np.fmin.at(last_age, purchases.basket_user, ages)
        recent = pairs.age_last <= HORIZON_DAYS
        users_recent = int(np.count_nonzero(last_age <= HORIZON_DAYS))
        item_rebuy, user_rebuy = rebuy_rates(purchases, now, HORIZON_DAYS)
        extra = {
            "popularity_recent": np.bincount(pairs.column[recent], minlength=shape[1]).astype("float64"),
            "users_recent": users_recent,
            "item_rebuy": item_rebuy,
            "user_rebuy": user_rebuy,
            "first_day_age": first_age,
            "last_day_age": last_age,
        }
    return Context(
        purchases=purchases,
        pairs=pairs,
        now=now,
        popularity=popularity,
        popular_order=np.lexsort((np.arange(shape[1]), -popularity)),
        recent_order=np.lexsort((np.arange(shape[1]), -popularity,
                                 -extra.get("popularity_recent", np.zeros(shape[1])))),
        customers=len(with_baskets),
        repeat_rate=np.divide(repeaters, popularity, out=np.zeros(shape[1]), where=popularity > 0),
        tifu_vectors=tifu,
        pool=pool,
        pool_vectors=pool_vectors,
        pool_vectors_t=pool_vectors.T.tocsr(),
        pool_norms=np.asarray(pool_vectors.multiply(pool_vectors).sum(axis=1)).ravel().astype("float32"),
        personal=_csr(pairs, pairs.decayed, shape),
        time_decayed=None if pairs.time_decayed is None else _csr(pairs, pairs.time_decayed, shape),
        item_similarity=item_neighbours(_csr(pairs, np.ones(len(pairs.key)), shape)[pool]),
        mean_basket=np.divide(sizes, purchases.basket_count, out=np.zeros(shape[0]), where=purchases.basket_count > 0),
        **extra,
    )


def rebuy_rates(purchases: Purchases, now: float, days: float, prior_weight: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """How often a purchase is followed by another of the same item within `days`: per item, per user.

    Only purchases at least `days` before `now` count (the later ones cannot be judged yet).
    Rates are shrunk towards the overall rate with the weight of `prior_weight` purchases.
    """
    user = purchases.basket_user[purchases.event_basket]
    day = purchases.basket_day[purchases.event_basket]
    order = np.lexsort((day, purchases.event_item, user))
    user, item, day = user[order], purchases.event_item[order], day[order]
    same_next = np.concatenate([(user[1:] == user[:-1]) & (item[1:] == item[:-1]), [False]])
    next_day = np.concatenate([day[1:], [np.inf]])
    judged = day <= now - days
    again = (same_next & (next_day - day <= days) & judged).astype("float64")
    item_events = np.bincount(item, weights=again, minlength=len(purchases.items))
    item_trials = np.bincount(item, weights=judged.astype("float64"), minlength=len(purchases.items))
    user_events = np.bincount(user, weights=again, minlength=len(purchases.users))
    user_trials = np.bincount(user, weights=judged.astype("float64"), minlength=len(purchases.users))
    overall = item_events.sum() / max(item_trials.sum(), 1.0)
    return ((item_events + prior_weight * overall) / (item_trials + prior_weight),
            (user_events + prior_weight * overall) / (user_trials + prior_weight))


def _row_top(block: sparse.csr_matrix, k: int, itself: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, values) of each row's `k` largest positive values, the column `itself[row]` left out."""
    own = np.flatnonzero(itself >= 0)
    if block.nnz > block.shape[0] * block.shape[1] // 16 and block.shape[1] > k:  # dense enough: partition
        dense = block.toarray()
        dense[own, itself[own]] = 0.0
        top = np.argpartition(-dense, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(dense, top, axis=1).ravel()
        rows, columns = np.repeat(np.arange(block.shape[0]), k), top.ravel()
    else:
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        columns, values = block.indices, block.data
        keep = columns != itself[rows]
        rows, columns, values = rows[keep], columns[keep], values[keep]
        order = np.lexsort((-values, rows))
        rows, columns, values = rows[order], columns[order], values[order]
        first = np.searchsorted(rows, rows)
        keep = np.arange(len(rows)) - first < k
        rows, columns, values = rows[keep], columns[keep], values[keep]
    positive = values > 0
    return rows[positive], columns[positive], values[positive]


def item_neighbours(bought: sparse.csr_matrix, neighbours: int = ITEM_NEIGHBOURS) -> sparse.csr_matrix:
    """Items × items: each item's `neighbours` most similar items by cosine over their buyers (itself excluded).

    The neighbours are looked for among the `MAX_NEIGHBOUR_ITEMS` most bought items, a block of
    items at a time on sparse products: only items bought together are ever compared.
    """
    binary = bought.tocsc().astype("float32")
    buyers = np.asarray(binary.sum(axis=0)).ravel()
    normalised = (binary @ sparse.diags(1.0 / np.sqrt(np.maximum(buyers, 1e-12)))).tocsc()
    count = bought.shape[1]
    eligible = np.sort(np.lexsort((np.arange(count), -buyers))[:MAX_NEIGHBOUR_ITEMS])
    among = np.full(count, -1)
    among[eligible] = np.arange(len(eligible))
    candidates = normalised[:, eligible].tocsr()
    transposed = normalised.T.tocsr()
    found_rows, found_columns, found_values = [], [], []
    chunk = max(1, CELLS_PER_CHUNK // max(bought.shape[0], len(eligible), 1))
    for start in range(0, count if len(eligible) > 1 else 0, chunk):
        block = (transposed[start : start + chunk] @ candidates).tocsr()
        rows, columns, values = _row_top(block, neighbours, among[start : start + chunk])
        found_rows.append(start + rows)
        found_columns.append(eligible[columns])
        found_values.append(values)
    if not found_rows:
        return sparse.csr_matrix((count, count), dtype="float32")
    return sparse.csr_matrix(
        (np.concatenate(found_values), (np.concatenate(found_rows), np.concatenate(found_columns))),
        shape=(count, count), dtype="float32",
    )


def _neighbour_pool(ctx_pool: np.ndarray) -> np.ndarray:
    """The users TIFU-KNN looks for neighbours among: every user with a basket, or a fixed random
    `MAX_NEIGHBOUR_POOL` of them in larger businesses (the search is quadratic in the pool)."""
    if len(ctx_pool) <= MAX_NEIGHBOUR_POOL:
        return ctx_pool
    return np.sort(np.random.default_rng(RANDOM_SEED).choice(ctx_pool, MAX_NEIGHBOUR_POOL, replace=False))


def tifu_neighbour_part(ctx: Context, rows: np.ndarray, neighbours: int = TIFU_NEIGHBOURS) -> np.ndarray:
    """The mean TIFU vector of each of `rows`' nearest users (Euclidean, itself excluded): dense rows × items."""
    pool = ctx.pool
    k = min(neighbours, len(pool) - 1)
    if k <= 0 or not len(rows):
        return np.zeros((len(rows), len(ctx.purchases.items)), dtype="float32")
    own = ctx.tifu_vectors[rows].toarray()
    dot = (ctx.pool_vectors @ own.T).T  # sparse × dense: cheaper than a sparse product with a dense result
    # ||q - v||^2 = ||q||^2 + ||v||^2 - 2 q.v; ||q||^2 is the same along a row
    distance = ctx.pool_norms[None, :] - 2.0 * dot
    position_in_pool = np.searchsorted(pool, rows)
    is_self = (position_in_pool < len(pool)) & (pool[np.minimum(position_in_pool, len(pool) - 1)] == rows)
    distance[np.flatnonzero(is_self), position_in_pool[is_self]] = np.inf
    nearest = np.argpartition(distance, k - 1, axis=1)[:, :k]
    weights = sparse.csr_matrix(
        (np.full(nearest.size, 1.0 / k, dtype="float32"), nearest.ravel(), np.arange(0, nearest.size + 1, k)),
        shape=(len(rows), len(pool)),
    )
    return (ctx.pool_vectors_t @ weights.T.toarray()).T


# --- candidates and their features, a chunk of users at a time --------------------------


@dataclass(frozen=True)
class CandidateFrame:
    """Candidate (user row, item column) pairs with the ranker's features; `rows` index the chunk's users."""

    rows: np.ndarray
    columns: np.ndarray
    features: pd.DataFrame


@dataclass(frozen=True)
class Chunk:
    """The scores of a chunk of user rows (`users`, rows of the context's purchases)."""

    users: np.ndarray
    candidates: CandidateFrame | None
    baselines: dict[str, np.ndarray]  # name -> (users × k) item columns, -1 where none


@dataclass(frozen=True)
class _Allowed:
    """What a chunk's users may be recommended: `items` (None: all), minus what each bought when `bought` is given.

    `bought` is the chunk's rows × items of what they bought; `pairs` and `users` look the same up by pair.
    """

    items: np.ndarray | None
    bought: sparse.csr_matrix | None
    pairs: PairTable
    users: np.ndarray

    def mask(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        keep = np.ones(len(rows), dtype=bool) if self.items is None else self.items[columns]
        if self.bought is not None:
            keep &= self.pairs.lookup(self.users[rows], columns, self.pairs.count) == 0
        return keep


def _top(scores: sparse.csr_matrix | np.ndarray | None, k: int, allowed: _Allowed, popular: np.ndarray,
         popularity: np.ndarray, users: int) -> np.ndarray:
    """Per row, the `k` allowed items with the highest positive score, then the most popular allowed ones.

    Ties are broken by popularity, then column; -1 where fewer than `k` items are allowed.
    `popular` lists item columns by popularity (the fill order).
    """
    if isinstance(scores, np.ndarray):
        return _dense_top(scores, k, allowed, popularity)
    result = np.full((users, k), -1, dtype=np.int64)
    filled = np.zeros(users, dtype=np.int64)
    if scores is not None and scores.nnz:
        coo = scores.tocoo()
        keep = (coo.data > 0) & allowed.mask(coo.row, coo.col)
        rows, columns = coo.row[keep], coo.col[keep]
        # ties by popularity, then column (the entries of a row come in column order; the sort is stable)
        score = coo.data[keep].astype("float64") + 1e-6 * popularity[columns] / max(popularity.max(), 1.0)
        order = np.lexsort((-score, rows))
        rows, columns = rows[order], columns[order]
        place = np.arange(len(rows)) - np.searchsorted(rows, rows)
        chosen = place < k
        result[rows[chosen], place[chosen]] = columns[chosen]
        filled = np.bincount(rows[chosen], minlength=users)
    missing = np.flatnonzero(filled < k)
    if len(missing):
        fill = popular if allowed.items is None else popular[allowed.items[popular]]
        fill = fill[: 2 * k + 100]
        width = np.int64(len(popularity))
        taken_rows, taken_places = np.nonzero(result >= 0)
        taken = taken_rows * width + result[taken_rows, taken_places]
        rows, columns = np.repeat(missing, len(fill)), np.tile(fill, len(missing))
        keep = allowed.mask(rows, columns) & ~np.isin(rows * width + columns, taken)
        rows, columns = rows[keep], columns[keep]
        place = filled[rows] + np.arange(len(rows)) - np.searchsorted(rows, rows)
        chosen = place < k
        result[rows[chosen], place[chosen]] = columns[chosen]
    return result


def _dense_top(scores: np.ndarray, k: int, allowed: _Allowed, popularity: np.ndarray) -> np.ndarray:
    """`_top` of dense `scores`: the same order (popularity breaks ties and fills)."""
    score = scores + (1e-6 * popularity / max(popularity.max(), 1.0)).astype(scores.dtype)
    if allowed.items is not None:
        score[:, ~allowed.items] = -np.inf
    if allowed.bought is not None:
        score[allowed.bought.nonzero()] = -np.inf
    k = min(k, score.shape[1])
    part = np.argpartition(-score, k - 1, axis=1)[:, :k]
    part.sort(axis=1)  # column order, so that equal scores rank by column
    chosen = np.take_along_axis(score, part, axis=1)
    order = np.argsort(-chosen, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    return np.where(np.isfinite(np.take_along_axis(chosen, order, axis=1)), top, -1)


def chunks(
    ctx: Context,
    users: np.ndarray,
    *,
    k: int = 10,
    exclude_bought: bool = False,
    allowed: np.ndarray | None = None,
    with_candidates: bool = True,
    baselines: tuple[str, ...] = BASELINES,
) -> Iterator[Chunk]:
    """For chunks of `users` (user rows with a history): candidates with features, and each baseline's top `k`.

    `exclude_bought` removes what a user already bought (cross-sell); `allowed` (a boolean
    per item) keeps only the items that may be recommended. Every score is a sparse matrix of
    the chunk: only items a user, their neighbours or the items they bought touch are stored.
    """
    size = max(1, CELLS_PER_CHUNK // max(len(ctx.pool), len(ctx.purchases.items), 1))
    for start in range(0, len(users), size):
        rows = users[start : start + size]
        own = ctx.tifu_vectors[rows]
        neighbour = tifu_neighbour_part(ctx, rows)
        scores = {
            "popularity": None,
            "personal": ctx.personal[rows],
            "item_knn": (ctx.personal[rows] @ ctx.item_similarity).toarray(),
            "tifu_knn": TIFU_ALPHA * own.toarray() + (1 - TIFU_ALPHA) * neighbour,
        }
        rules = _Allowed(allowed, own if exclude_bought else None, ctx.pairs, rows)
        tops = {name: _top(scores[name], k, rules, ctx.popular_order, ctx.popularity, len(rows)) for name in baselines}
        frame = _candidate_frame(ctx, rows, scores, neighbour, rules) if with_candidates else None
        yield Chunk(rows, frame, tops)


def _candidate_frame(ctx: Context, rows: np.ndarray, scores: dict[str, sparse.csr_matrix | np.ndarray | None],
                     neighbour: np.ndarray, rules: _Allowed) -> CandidateFrame:
    """The union of the sources' top `CANDIDATES_PER_SOURCE` of `rows`, with the ranker's features."""
    def top(matrix: sparse.csr_matrix | np.ndarray | None, order: np.ndarray = ctx.popular_order) -> np.ndarray:
        return _top(matrix, CANDIDATES_PER_SOURCE, rules, order, ctx.popularity, len(rows))

    sources = [top(scores["personal"]), top(scores["tifu_knn"]), top(scores["item_knn"]), top(None)]
    if ctx.timed:
        sources.append(top(ctx.time_decayed[rows]))
        sources.append(top(None, ctx.recent_order))
    chosen = np.concatenate(sources, axis=1)
    local = np.repeat(np.arange(len(rows)), chosen.shape[1])
    pairs = np.unique(np.column_stack([local, chosen.ravel()]), axis=0)
    pairs = pairs[pairs[:, 1] >= 0]
    local, columns = pairs[:, 0], pairs[:, 1]
    user = rows[local]
    table = ctx.pairs
    count = table.lookup(user, columns, table.count)
    features = pd.DataFrame(
        {
            "personal_decayed": table.lookup(user, columns, table.decayed),
            "personal_share": count / np.maximum(ctx.purchases.basket_count[user], 1),
            "personal_count": count,
            "baskets_since_last": table.lookup(user, columns, table.since_last),
            "tifu": scores["tifu_knn"][local, columns],
            "tifu_neighbours": neighbour[local, columns],
            "item_knn": scores["item_knn"][local, columns],
            "popularity": ctx.popularity[columns],
            "item_repeat_rate": ctx.repeat_rate[columns],
            "user_baskets": ctx.purchases.basket_count[user],
            "user_mean_basket": ctx.mean_basket[user],
        }
    )
    by_user = features.groupby(local)
    features["personal_rank"] = by_user["personal_decayed"].rank(ascending=False, method="min")
    features["tifu_rank"] = by_user["tifu"].rank(ascending=False, method="min")
    features["item_knn_rank"] = by_user["item_knn"].rank(ascending=False, method="min")
    features["tifu_relative"] = features["tifu"] / np.maximum(by_user["tifu"].transform("max"), 1e-12)
    features = features.join(_cycle_features(ctx, user, columns, count))
    return CandidateFrame(rows=local, columns=columns, features=features.loc[:, list(RANKER_FEATURES)])


def _cycle_features(ctx: Context, user: np.ndarray, columns: np.ndarray, count: np.ndarray) -> pd.DataFrame:
    """Repeat-purchase cycle and recency features in days (missing without basket days, or for an item never bought)."""
    names = ("days_since_item", "item_gap_days", "item_due", "item_time_decayed", "item_per_30_days",
             "days_since_last_basket", "days_as_customer", "baskets_per_30_days", "popularity_recent",
             "popularity_trend", "item_rebuy_rate", "user_rebuy_rate")
    if not ctx.timed:
        return pd.DataFrame({name: np.full(len(user), np.nan) for name in names})
    table = ctx.pairs
    bought = count > 0
    since = np.where(bought, table.lookup(user, columns, table.age_last), np.nan)
    first = np.where(bought, table.lookup(user, columns, table.age_first), np.nan)
    gap = np.where(count >= 2, (first - since) / np.maximum(count - 1, 1), np.nan)
    tenure = np.maximum(ctx.first_day_age[user], 1.0)
    everyone = max(ctx.customers, 1)
    return pd.DataFrame(
        {
            "days_since_item": since,
            "item_gap_days": gap,
            "item_due": since / np.maximum(gap, 1.0),
            "item_time_decayed": table.lookup(user, columns, table.time_decayed),
            "item_per_30_days": 30.0 * count / tenure,
            "days_since_last_basket": ctx.last_day_age[user],
            "days_as_customer": ctx.first_day_age[user],
            "baskets_per_30_days": 30.0 * ctx.purchases.basket_count[user] / tenure,
            "popularity_recent": ctx.popularity_recent[columns],
            "popularity_trend": (ctx.popularity_recent[columns] / max(ctx.users_recent, 1))
            / np.maximum(ctx.popularity[columns] / everyone, 1e-12),
            "item_rebuy_rate": ctx.item_rebuy[columns],
            "user_rebuy_rate": ctx.user_rebuy[user],
        }
    )


# --- the ranker -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextBasketRanker:
    """A fitted LambdaRank over candidates."""

    ranker: LGBMRanker
    features: tuple[str, ...] = RANKER_FEATURES


@dataclass(frozen=True)
class TrainingSet:
    """What the ranker learns from: the `earlier` purchases (seen at `now`) and each user's target items."""

    earlier: Purchases
    targets: sparse.csr_matrix  # users × items of `earlier`, 1 for a target item
    now: float | None = None
    window: int = 1  # 1: the latest window of `horizon_training_sets`


def fit_ranker(purchases: Purchases, *, exclude_bought: bool = False,
               max_queries: int = MAX_TRAINING_QUERIES) -> NextBasketRanker:
    """Learn from each user's last basket, with features from the baskets before it (histories without days)."""
    last = purchases.last_baskets()
    targets = purchases.items_bought(last)
    earlier = purchases.select_baskets(~last)
    if exclude_bought:
        targets = _minus(targets, earlier.items_bought(np.ones(len(earlier.basket_user), dtype=bool)))
    return fit_ranker_sets([TrainingSet(earlier, targets)], exclude_bought=exclude_bought, max_queries=max_queries)


def horizon_training_sets(
    purchases: Purchases,
    now: float,
    *,
    horizon_days: float = HORIZON_DAYS,
    windows: int = TRAINING_WINDOWS,
    step_days: float = WINDOW_STEP_DAYS,
    exclude_bought: bool = False,
    first_window: int = 1,
) -> list[TrainingSet]:
    """The task "what will each customer buy in the next `horizon_days`", posed at earlier days.

    Window w (1 = the latest) is seen at `now - horizon_days - (w - 1) · step_days`, for w from
    `first_window` to `first_window + windows - 1`: the baskets before that day, as seen that
    day (`Purchases.before`: an order cancelled later still counts), are the history; the items
    bought in the following `horizon_days` the target, with the cancellations known now (the
    truth the ranker is judged by; only the items new to the customer when `exclude_bought`).
    Nothing at or after `now` is read.
    """
    sets = []
    for window in range(first_window, first_window + windows):
        split = now - horizon_days - (window - 1) * step_days
        earlier = purchases.before(split)
        targets = purchases.items_bought((purchases.basket_day >= split) & (purchases.basket_day < split + horizon_days))
        if exclude_bought:
            targets = _minus(targets, earlier.items_bought(np.ones(len(earlier.basket_user), dtype=bool)))
        if targets.nnz and len(earlier.basket_user):
            sets.append(TrainingSet(earlier, targets, split, window))
    return sets


def _minus(targets: sparse.csr_matrix, bought: sparse.csr_matrix) -> sparse.csr_matrix:
    left = (targets - targets.multiply(bought)).tocsr()
    left.eliminate_zeros()
    return left


def query_users(training: TrainingSet, max_queries: int) -> np.ndarray:
    """User rows that have both a history and a target, at most `max_queries` of them drawn at random."""
    has_target = np.diff(training.targets.indptr) > 0
    users = np.flatnonzero(has_target & (training.earlier.basket_count > 0))
    if len(users) > max_queries:
        users = np.sort(np.random.default_rng(RANDOM_SEED).choice(users, max_queries, replace=False))
    return users


def training_rows(training: TrainingSet, *, exclude_bought: bool, max_queries: int, ctx: Context | None = None
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray] | None:
    """The ranker's rows of one training set: features, labels, query sizes and weights (None: nothing to learn).

    `ctx`, when the caller has it, is `context(training.earlier, training.now)`.
    """
    users = query_users(training, max_queries)
    if not len(users):
        return None
    ctx = ctx or context(training.earlier, training.now)
    parts, labels, groups, weights = [], [], [], []
    for chunk in chunks(ctx, users, exclude_bought=exclude_bought, baselines=()):
        frame = chunk.candidates
        user = chunk.users[frame.rows]
        label = np.asarray(training.targets[user, frame.columns]).ravel() > 0
        # Users whose target no candidate holds teach the ranker nothing.
        useful = pd.Series(label).groupby(frame.rows).transform("any").to_numpy()
        rows = frame.rows[useful]
        sizes = np.diff(training.targets.indptr)[chunk.users].astype("float64")
        parts.append(frame.features.loc[useful].astype("float32"))
        labels.append(label[useful].astype(int))
        groups.append(np.bincount(rows)[np.unique(rows)])
        weights.append(np.maximum(sizes, 1.0)[rows] ** -QUERY_WEIGHT_POWER)
    if not sum(len(label) for label in labels):
        return None
    return (pd.concat(parts, ignore_index=True), np.concatenate(labels), np.concatenate(groups),
            np.concatenate(weights))


def fit_ranker_sets(sets: list[TrainingSet], *, exclude_bought: bool = False,
                    max_queries: int = MAX_QUERIES_PER_WINDOW) -> NextBasketRanker:
    """One ranker learnt from several training sets (each user of each set is one query)."""
    return fit_ranker_rows([training_rows(training, exclude_bought=exclude_bought, max_queries=max_queries)
                            for training in sets])


def fit_ranker_rows(rows: list[tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray] | None]) -> NextBasketRanker:
    """Fit the LambdaRank on the rows of `training_rows` (None entries are skipped)."""
    rows = [part for part in rows if part is not None]
    if not rows:
        raise ValueError("no user of the training sets has a target among their candidates: nothing to learn")
    features = pd.concat([part[0] for part in rows], ignore_index=True)
    ranker = LGBMRanker(**RANKER_PARAMS).fit(
        features, np.concatenate([part[1] for part in rows]), group=np.concatenate([part[2] for part in rows]),
        sample_weight=np.concatenate([part[3] for part in rows]),
    )
    return NextBasketRanker(ranker=ranker, features=tuple(RANKER_FEATURES))


def rank(model: NextBasketRanker, frame: CandidateFrame, users: int, k: int) -> np.ndarray:
    """The top `k` item columns per user row of the chunk (-1 where a user has fewer candidates)."""
    result = np.full((users, k), -1)
    if not len(frame.rows):
        return result
    score = model.ranker.predict(frame.features.loc[:, list(model.features)].astype("float32"))
    order = np.lexsort((frame.columns, -score, frame.rows))
    rows, columns = frame.rows[order], frame.columns[order]
    starts = np.searchsorted(rows, np.arange(users))
    place = np.arange(len(rows)) - starts[rows]
    keep = place < k
    result[rows[keep], place[keep]] = columns[keep]
    return result


def recommend(
    ctx: Context,
    users: np.ndarray,
    k: int,
    *,
    model: NextBasketRanker | None = None,
    baselines: tuple[str, ...] = BASELINES,
    exclude_bought: bool = False,
    allowed: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The top `k` item columns of each of `users` (rows) by the ranker (`MODEL`, when given) and by each baseline."""
    result: dict[str, list[np.ndarray]] = {name: [] for name in ((MODEL,) if model else ()) + tuple(baselines)}
    for chunk in chunks(ctx, users, k=k, exclude_bought=exclude_bought, allowed=allowed,
                        with_candidates=model is not None, baselines=baselines):
        if model is not None:
            frame = chunk.candidates
            if allowed is not None:
                keep = allowed[frame.columns]
                frame = CandidateFrame(frame.rows[keep], frame.columns[keep], frame.features.loc[keep])
            result[MODEL].append(rank(model, frame, len(chunk.users), k))
        for name in baselines:
            result[name].append(chunk.baselines[name])
    return {name: np.concatenate(parts) if parts else np.zeros((0, k), dtype=np.int64) for name, parts in result.items()}


def recall_ndcg_hit(recommended: np.ndarray, targets: list[set[int]], k: int,
                    target_sizes: np.ndarray | None = None) -> dict[str, float]:
    """Mean recall@k, NDCG@k and hit-rate@k.

    By default over users with a non-empty `targets` set, each as large as it is (items the
    history never saw cannot be in `targets`: this drops them). With `target_sizes` (each
    user's whole target, items never seen included) recall and NDCG divide by those and every
    user with a target counts, even one whose items were all new: the standard convention.
    """
    recalls, ndcgs, hits = [], [], []
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for row, target in enumerate(targets):
        size = len(target) if target_sizes is None else int(target_sizes[row])
        if not size:
            continue
        gains = np.array([column in target for column in recommended[row, :k]], dtype="float64")
        recalls.append(gains.sum() / size)
        ideal = discounts[: min(size, k)].sum()
        ndcgs.append((gains * discounts[: len(gains)]).sum() / ideal)
        hits.append(float(gains.any()))
    return {
        "recall": float(np.mean(recalls)) if recalls else float("nan"),
        "ndcg": float(np.mean(ndcgs)) if ndcgs else float("nan"),
        "hit_rate": float(np.mean(hits)) if hits else float("nan"),
        "users": len(recalls),
    }
