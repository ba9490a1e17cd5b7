"""One next-best-action per customer, with its reason, and the rules no action may break.

The action is one of:

* `win_back_offer` — no purchase in the last year: an offer to bring them back;
* `retention_call` — a high churn risk (or a medium one with nothing to offer): a salesperson calls;
* `offer_product` — a product to offer: *replenishment* when they bought it before, *cross-sell*
  when not; chosen by the next-basket ranker (`ml.nba.recommend`) among the products that may
  be offered;
* `none` — nothing worth a salesperson's time, or nothing allowed.

Every action other than `none` is a marketing contact. `enforce_rules` runs last on every
action, whatever produced it: an action for a customer without marketing consent becomes
`none`, and so does an offer of a product that is inactive, out of stock in the ERP, or whose
margin at list price is below the floor (`PUENTE_MARGIN_FLOOR`, default 0.15) or unknown.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.nba import recommend

ACTIONS = ("offer_product", "retention_call", "win_back_offer", "none")
MARKETING_ACTIONS = frozenset({"offer_product", "retention_call", "win_back_offer"})
DEFAULT_MARGIN_FLOOR = 0.15
ACTIVE_DAYS = 365
RANKED_PER_CUSTOMER = 30
MIN_RANKER_USERS = 30
ACTION_COLUMNS = ("action", "product_id", "reason", "churn_probability", "is_marketing")


def margin_floor(env: dict[str, str] | None = None) -> float:
    """The lowest margin at list price an offered product may have (`PUENTE_MARGIN_FLOOR`)."""
    value = (os.environ if env is None else env).get("PUENTE_MARGIN_FLOOR", "")
    if not value:
        return DEFAULT_MARGIN_FLOOR
    try:
        floor = float(value)
    except ValueError as bad:
        raise ValueError(f"PUENTE_MARGIN_FLOOR must be a share such as 0.15, not {value!r}") from bad
    if not 0 <= floor < 1:
        raise ValueError(f"PUENTE_MARGIN_FLOOR must be between 0 and 1 (a share such as 0.15), not {floor}")
    return floor


def offerable(products: pd.DataFrame, floor: float) -> pd.Series:
    """True for products that may be offered: active, in stock, margin at list price >= `floor`."""
    price = products["list_price"].astype("float64")
    cost = products["unit_cost"].astype("float64")
    margin = (price - cost) / price.where(price > 0)
    return (
        products["is_active"].fillna(False).astype(bool)
        & (products["stock_on_hand"].astype("float64").fillna(0) > 0)
        & (margin >= floor).fillna(False)
    )


def enforce_rules(actions: pd.DataFrame, customers: pd.DataFrame, products: pd.DataFrame, floor: float) -> pd.DataFrame:
    """The final filter: turn every action that breaks a rule into `none`, saying which rule.

    `actions` is indexed by customer_id; `customers` has `has_marketing_consent`; `products`
    (indexed by product_id) has `list_price`, `unit_cost`, `stock_on_hand`, `is_active`.
    """
    actions = actions.copy()
    consent = customers["has_marketing_consent"].reindex(actions.index).fillna(False).astype(bool)
    allowed = offerable(products, floor)
    offered = actions["action"] == "offer_product"
    product_ok = actions["product_id"].map(allowed).fillna(False).astype(bool)
    bad_product = offered & ~product_ok
    no_consent = actions["action"].isin(MARKETING_ACTIONS) & ~consent
    actions.loc[bad_product, "reason"] = (
        "withheld: the product is out of stock, inactive or below the margin floor"
    )
    actions.loc[no_consent, "reason"] = "no marketing consent: " + actions.loc[no_consent, "reason"].astype(str)
    blocked = bad_product | no_consent
    actions.loc[blocked, "action"] = "none"
    actions.loc[blocked, "product_id"] = None
    actions["is_marketing"] = actions["action"].isin(MARKETING_ACTIONS)
    return actions


def baskets_of(lines: pd.DataFrame, cutoff: date) -> recommend.Baskets:
    """Each customer's baskets (orders, oldest first) from the lines before `cutoff`, cancellations excluded."""
    return timed_baskets_of(lines, cutoff)[0]


def timed_baskets_of(lines: pd.DataFrame, cutoff: date | pd.Timestamp) -> tuple[recommend.Baskets, recommend.Times]:
    """`baskets_of`, with the day of each basket (days since 1970, fractional; the order's first line)."""
    end = pd.Timestamp(cutoff)
    end = end.tz_localize("UTC") if end.tzinfo is None else end
    bought = lines.loc[(lines["ordered_at"] < end) & (lines["quantity"] > 0) & lines["customer_id"].notna()]
    if "is_cancelled" in bought.columns:
        bought = bought.loc[~bought["is_cancelled"].astype(bool)]
    bought = bought.sort_values(["ordered_at", "order_id"], kind="stable")
    history: recommend.Baskets = {}
    times: recommend.Times = {}
    for (customer, _), basket in bought.groupby(["customer_id", "order_id"], sort=False):
        history.setdefault(str(customer), []).append(sorted(set(map(str, basket["product_id"]))))
        times.setdefault(str(customer), []).append(day_number(basket["ordered_at"].iloc[0]))
    customers = sorted(history)
    return {customer: history[customer] for customer in customers}, {customer: times[customer] for customer in customers}


def day_number(moment: pd.Timestamp | date) -> float:
    """Days since 1970-01-01 UTC, fractional: the time axis of `recommend.Times`."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.value / 86_400e9


def recommend_products(
    history: recommend.Baskets,
    allowed: pd.Index,
    times: recommend.Times | None = None,
    now: float | None = None,
) -> pd.Series:
    """The best allowed product per customer (id), from the ranker, or by frequency and popularity.

    With basket `times` and `now` (the day the actions are for, `day_number`), the ranker
    learns what customers buy in the next `recommend.HORIZON_DAYS`, posed at each month of the
    past year (`recommend.fit_ranker_for_horizon`), provided `MIN_RANKER_USERS` customers can
    teach it; otherwise (or without times) it learns each customer's last basket when at least
    `MIN_RANKER_USERS` customers have two baskets or more; below that it has too little to learn
    from, and the personal score (time-decayed frequency, then popularity) decides.
    """
    users = sorted(history)
    if not users or len(allowed) == 0:
        return pd.Series(dtype="object")
    timed = times is not None and now is not None
    model = recommend.fit_ranker_for_horizon(history, times, now, min_users=MIN_RANKER_USERS) if timed else None
    if model is None and sum(len(baskets) >= 2 for baskets in history.values()) >= MIN_RANKER_USERS:
        model = recommend.fit_ranker(history)
        timed = False  # it learnt without times: rank on the same features
    space = recommend.ItemSpace.of(history)
    frame, baselines = recommend.candidates(history, users, space, times=times if timed else None,
                                            now=now if timed else None)
    eligible = space.items.isin(allowed)
    if model is not None:
        keep = eligible[frame.columns]
        kept = recommend.CandidateFrame(
            rows=frame.rows[keep], columns=frame.columns[keep], features=frame.features.loc[keep].reset_index(drop=True)
        )
        best = recommend.rank(model, kept, len(users), 1)[:, 0]
    else:
        score = np.where(eligible[None, :], baselines["personal"], -np.inf)
        best = recommend.top_k(score, 1)[:, 0]
        best = np.where(np.isfinite(score[np.arange(len(users)), best]), best, -1)
    chosen = {user: space.items[column] for user, column in zip(users, best, strict=True) if column >= 0}
    return pd.Series(chosen, dtype="object")


def decide_actions(
    customers: pd.DataFrame,
    churn: pd.DataFrame,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    products: pd.DataFrame,
    as_of: date,
    floor: float,
) -> pd.DataFrame:
    """One action per customer of `customers` (indexed by customer_id), after the final filter.

    `churn` holds the day's `churn_probability`, `risk_band` and `reasons` per customer;
    `orders` and `lines` are `marts.fct_orders` and `marts.fct_order_lines` (only rows before
    the end of `as_of` are read); `products` is `marts.dim_products` indexed by product_id.
    """
    cutoff = as_of + timedelta(days=1)
    end = pd.Timestamp(cutoff).tz_localize("UTC")
    purchases = orders.loc[(orders["ordered_at"] < end) & ~orders["is_cancelled"].astype(bool)]
    last_purchase = purchases.groupby("customer_id")["ordered_at"].max()
    history, times = timed_baskets_of(lines, cutoff)
    allowed = products.index[offerable(products, floor)]
    offers = recommend_products(history, allowed, times, day_number(end))
    names = products["product_name"] if "product_name" in products.columns else pd.Series(dtype="object")
    known = lines.loc[(lines["ordered_at"] < end) & lines["customer_id"].notna()]
    last_bought = known.groupby([known["customer_id"], known["product_id"].astype(str)])["ordered_at"].max()

    rows = []
    for customer in customers.index:
        probability = churn["churn_probability"].get(customer, np.nan) if len(churn) else np.nan
        band = churn["risk_band"].get(customer) if len(churn) else None
        reasons = churn["reasons"].get(customer) if len(churn) and "reasons" in churn else None
        last = last_purchase.get(customer)
        product = offers.get(customer)
        if last is None:
            rows.append(("none", None, "no purchase yet", probability))
        elif (end - last).days > ACTIVE_DAYS:
            rows.append(
                ("win_back_offer", None, f"no order in {(end - last).days} days (last on {last.date()}): "
                 "a win-back offer may bring them back", probability)
            )
        elif band == "high" or (band == "medium" and product is None):
            because = f": {reasons}" if reasons else ""
            rows.append(("retention_call", None, f"{band} churn risk ({probability:.0%}){because}", probability))
        elif product is not None:
            reason = _offer_reason(product, history.get(customer, []), names, last_bought.get((customer, product)), end)
            rows.append(("offer_product", product, reason, probability))
        else:
            rows.append(("none", None, "low churn risk and no product to offer (in stock, above the margin floor)", probability))
    actions = pd.DataFrame(rows, index=customers.index, columns=["action", "product_id", "reason", "churn_probability"])
    return enforce_rules(actions, customers, products, floor).loc[:, list(ACTION_COLUMNS)]


def _offer_reason(
    product: str, baskets: list[list[str]], names: pd.Series, last_bought: pd.Timestamp | None, end: pd.Timestamp
) -> str:
    """Why this product: bought before (replenishment), or what they buy most (cross-sell)."""
    name = names.get(product, product)
    times = sum(product in basket for basket in baskets)
    if times:
        when = f", last {(end - last_bought).days} days ago" if last_bought is not None else ""
        return f"replenishment: bought {name} in {times} order{'s' if times > 1 else ''}{when}"
    counts: dict[str, int] = {}
    for basket in baskets:
        for item in basket:
            counts[item] = counts.get(item, 0) + 1
    favourite = min(counts, key=lambda item: (-counts[item], item)) if counts else None
    if favourite is None:
        return f"cross-sell: {name} is popular with customers like them"
    return f"cross-sell: customers who buy {names.get(favourite, favourite)} often also buy {name}"
