"""One next-best-action per customer, with its reason, and the rules no action may break.

The action is one of:

* `win_back_offer` — no purchase in the last year: an offer to bring them back;
* `retention_call` — a high churn risk (or a medium one with nothing to offer): a salesperson calls;
* `offer_product` — a product to offer: *replenishment* when they bought it before, *cross-sell*
  when not; chosen among the products that may be offered by the next-basket ranker
  (`ml.nba.recommend`), or by the baseline that beat it on the last 8 weeks (`ml.nba.train`);
* `none` — nothing worth a salesperson's time, or nothing allowed.

Every action other than `none` is a marketing contact, and choosing one is an analysis of the
customer's data. `enforce_rules` runs last on every action, whatever produced it: an action for
a customer who did not authorise analytics or marketing (Habeas Data, marts.customer_authorisations)
becomes `none`, and so does an offer of a product that is inactive, out of stock in the ERP, or whose
margin at list price is below the floor (`PUENTE_MARGIN_FLOOR`, default 0.15) or unknown, and every
sales offer (`SALES_OFFERS`) to a customer with an open complaint in the CRM
(marts.customer_service_summary): the reason says what was withheld and why. A retention call
stays: a salesperson calling about an open complaint is what such a customer needs.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.cancellations import as_seen_at
from ml.nba import recommend
from ml.nba.train import NotEnoughData, Recommender, train_recommender
from ml.promotion import MODEL

ACTIONS = ("offer_product", "retention_call", "win_back_offer", "none")
MARKETING_ACTIONS = frozenset({"offer_product", "retention_call", "win_back_offer"})
SALES_OFFERS = frozenset({"offer_product", "win_back_offer"})  # withheld while the customer has an open complaint
DEFAULT_MARGIN_FLOOR = 0.15
ACTIVE_DAYS = 365
FALLBACK = "personal"  # what orders the products while no ranker can be learnt
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

    `actions` is indexed by customer_id; `customers` has `has_marketing_consent`,
    `has_analytics_authorisation` and, when the service tickets are modelled, `open_complaints`; `products`
    (indexed by product_id) has `list_price`, `unit_cost`, `stock_on_hand`, `is_active`.
    """
    actions = actions.copy()
    consent = customers["has_marketing_consent"].reindex(actions.index).fillna(False).astype(bool)
    analysed = customers["has_analytics_authorisation"].reindex(actions.index).fillna(False).astype(bool)
    allowed = offerable(products, floor)
    offered = actions["action"] == "offer_product"
    product_ok = actions["product_id"].map(allowed).fillna(False).astype(bool)
    bad_product = offered & ~product_ok
    complaints = (customers["open_complaints"] if "open_complaints" in customers.columns
                  else pd.Series(0, index=customers.index)).reindex(actions.index).fillna(0).astype(int)
    complaining = actions["action"].isin(SALES_OFFERS) & (complaints > 0) & ~bad_product
    no_consent = actions["action"].isin(MARKETING_ACTIONS) & ~consent
    actions.loc[bad_product, "reason"] = (
        "withheld: the product is out of stock, inactive or below the margin floor"
    )
    actions.loc[complaining, "reason"] = [
        f"withheld {action}: {n} open complaint{'s' if n > 1 else ''} in the CRM, no sales offer until resolved"
        for action, n in zip(actions.loc[complaining, "action"], complaints.loc[complaining], strict=True)]
    actions.loc[no_consent, "reason"] = "no marketing consent: " + actions.loc[no_consent, "reason"].astype(str)
    unauthorised = (actions["action"] != "none") & ~analysed
    actions.loc[unauthorised, "reason"] = "no authorisation for analytics (Habeas Data)"
    blocked = bad_product | complaining | no_consent | unauthorised
    actions.loc[blocked, "action"] = "none"
    actions.loc[blocked, "product_id"] = None
    actions["is_marketing"] = actions["action"].isin(MARKETING_ACTIONS)
    return actions


def baskets_of(lines: pd.DataFrame, cutoff: date) -> recommend.Baskets:
    """Each customer's baskets (orders, oldest first) from the lines before `cutoff`, cancellations excluded.

    Cancellations as seen at `cutoff` (`ml.cancellations`): an order cancelled at or after it is a basket.
    """
    return timed_baskets_of(lines, cutoff)[0]


def timed_baskets_of(lines: pd.DataFrame, cutoff: date | pd.Timestamp) -> tuple[recommend.Baskets, recommend.Times]:
    """`baskets_of`, with the day of each basket (days since 1970, fractional; the order's first line)."""
    end = _instant(cutoff)
    return recommend.Purchases.from_lines(lines, end).before(day_number(end)).baskets()


def _instant(moment: pd.Timestamp | date) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


def day_number(moment: pd.Timestamp | date) -> float:
    """Days since 1970-01-01 UTC, fractional: the time axis of `recommend.Purchases.basket_day`."""
    return _instant(moment).value / 86_400e9


def fit_recommender(purchases: recommend.Purchases, now: float, as_of: date) -> Recommender:
    """The ranker learnt and gated on `purchases` (`ml.nba.train`), or personal frequency when it cannot learn yet."""
    try:
        return train_recommender(purchases, now, as_of).model
    except NotEnoughData:
        return Recommender(ranker=None, scored_by=FALLBACK)


def recommend_products(
    purchases: recommend.Purchases, allowed: pd.Index, now: float, recommender: Recommender
) -> pd.Series:
    """The best allowed product per customer (id): by the ranker, or by the baseline that beat it."""
    users = np.flatnonzero(purchases.basket_count > 0)
    eligible = purchases.items.isin(allowed)
    if not len(users) or not eligible.any():
        return pd.Series(dtype="object")
    ctx = recommend.context(purchases, now)
    if recommender.scored_by == MODEL:
        best = recommend.recommend(ctx, users, 1, model=recommender.ranker, baselines=(), allowed=eligible)[MODEL]
    else:
        best = recommend.recommend(ctx, users, 1, baselines=(recommender.scored_by,), allowed=eligible)[
            recommender.scored_by]
    chosen = best[:, 0] >= 0
    return pd.Series(purchases.items[best[chosen, 0]], index=purchases.users[users[chosen]], dtype="object")


def decide_actions(
    customers: pd.DataFrame,
    churn: pd.DataFrame,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    products: pd.DataFrame,
    as_of: date,
    floor: float,
    recommender: Recommender | None = None,
    bought: recommend.Purchases | None = None,
) -> pd.DataFrame:
    """One action per customer of `customers` (indexed by customer_id), after the final filter.

    `churn` holds the day's `churn_probability`, `risk_band` and `reasons` per customer;
    `orders` and `lines` are `marts.fct_orders` and `marts.fct_order_lines` (only rows before
    the end of `as_of` are read); `products` is `marts.dim_products` indexed by product_id.
    `recommender` orders the products (the job's weekly one); without it one is learnt here.
    `bought`, when the caller has it, is `recommend.Purchases.from_lines(lines, end of as_of)`.

    The last purchase and the baskets products are ranked from are as seen at the end of
    `as_of` (`ml.cancellations`: an order cancelled later was still a purchase then), as at the
    past days the ranker learnt and was measured at; a ranker learnt here reads the targets of
    those days with the cancellations known now (`recommend.horizon_training_sets`).
    """
    cutoff = as_of + timedelta(days=1)
    end = pd.Timestamp(cutoff).tz_localize("UTC")
    history = as_seen_at(orders, end)
    purchases = history.loc[~history["is_cancelled"].astype(bool)]
    last_purchase = purchases.groupby("customer_id")["ordered_at"].max()
    if bought is None:
        bought = recommend.Purchases.from_lines(lines, end)
    now = day_number(end)
    if recommender is None:
        recommender = fit_recommender(bought, now, as_of)
    seen = bought.before(now)
    allowed = products.index[offerable(products, floor)]
    offers = recommend_products(seen, allowed, now, recommender)
    names = products["product_name"] if "product_name" in products.columns else pd.Series(dtype="object")
    facts = _purchase_facts(seen, offers)

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
            rows.append(("offer_product", product, _offer_reason(product, facts.loc[customer], names, now), probability))
        else:
            rows.append(("none", None, "low churn risk and no product to offer (in stock, above the margin floor)", probability))
    actions = pd.DataFrame(rows, index=customers.index, columns=["action", "product_id", "reason", "churn_probability"])
    return enforce_rules(actions, customers, products, floor).loc[:, list(ACTION_COLUMNS)]


def _purchase_facts(purchases: recommend.Purchases, offers: pd.Series) -> pd.DataFrame:
    """Per customer offered a product: orders with it, the day of the last, and their most bought product."""
    if offers.empty:
        return pd.DataFrame(columns=["times", "last_day", "favourite"])
    pairs = recommend.pair_table(purchases, None)
    rows = purchases.users.get_indexer(offers.index)
    columns = purchases.items.get_indexer(offers.to_numpy())
    last_day = np.full(len(pairs.key), np.nan)
    if purchases.basket_day is not None:
        user = purchases.basket_user[purchases.event_basket]
        keys = user * pairs.items + purchases.event_item
        np.fmax.at(last_day, np.searchsorted(pairs.key, keys), purchases.basket_day[purchases.event_basket])
    # each customer's most bought product: the most orders, ties by product id
    order = np.lexsort((pairs.column, -pairs.count, pairs.row))
    first = order[np.concatenate([[True], pairs.row[order][1:] != pairs.row[order][:-1]])]
    favourite = pd.Series(purchases.items[pairs.column[first]], index=pairs.row[first])
    return pd.DataFrame(
        {
            "times": pairs.lookup(rows, columns, pairs.count).astype(int),
            "last_day": pairs.lookup(rows, columns, last_day),
            "favourite": favourite.reindex(rows).to_numpy(),
        },
        index=offers.index,
    )


def _offer_reason(product: str, facts: pd.Series, names: pd.Series, now: float) -> str:
    """Why this product: bought before (replenishment), or what they buy most (cross-sell)."""
    name = names.get(product, product)
    times = int(facts["times"])
    if times:
        when = f", last {int(now - facts['last_day'])} days ago" if np.isfinite(facts["last_day"]) else ""
        return f"replenishment: bought {name} in {times} order{'s' if times > 1 else ''}{when}"
    favourite = facts["favourite"]
    if favourite is None or (isinstance(favourite, float) and np.isnan(favourite)):
        return f"cross-sell: {name} is popular with customers like them"
    return f"cross-sell: customers who buy {names.get(favourite, favourite)} often also buy {name}"
