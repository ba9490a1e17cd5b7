"""The real data sets of the ML benchmarks, shaped like Puente's marts.

UCI Online Retail becomes `marts.fct_orders` (one row per invoice; an invoice number starting
with ``C`` is a cancellation) and `marts.fct_order_lines` (one row per invoice line), so the
benchmarks run exactly the feature code the nightly jobs run on the warehouse. Lines without a
customer are dropped (a quarter of them: anonymous till sales), as are lines with a
non-positive price (adjustments, samples). Timestamps are read as UTC.

CDNOW (the purchases of the 23,570 customers who first bought at the online music shop CDNOW in
the first quarter of 1997, until June 1998: the cohort whose one-in-ten sample of 2,357 customers
the BG/NBD paper fits) becomes
`marts.fct_orders` alone: it records each purchase's day, number of CDs and amount, not what was
bought. Its file ships in the `lifetimes` package (the `bench` extra), read without importing it.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution

import numpy as np
import pandas as pd

from bench.results import require_data

UCI_FILE = "uci_online_retail.parquet"
TAFENG_HISTORY = "tafeng_history.json"
TAFENG_FUTURE = "tafeng_future.json"
CDNOW_FILE = "lifetimes/datasets/CDNOW_master.txt"
CDNOW_SHA256 = "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef"


@dataclass(frozen=True)
class Retail:
    """UCI Online Retail as marts: invoices (orders), their lines, and the raw daily sales."""

    orders: pd.DataFrame
    lines: pd.DataFrame
    all_lines: pd.DataFrame  # every line with a positive price, customers or not (demand)


@cache
def uci_retail() -> Retail:
    """Load UCI Online Retail once per process."""
    raw = pd.read_parquet(require_data(UCI_FILE))
    raw = raw.loc[raw["UnitPrice"] > 0]
    raw = raw.assign(
        order_id=raw["InvoiceNo"].astype(str),
        product_id=raw["StockCode"].astype(str).str.upper(),
        ordered_at=pd.to_datetime(raw["InvoiceDate"]).dt.tz_localize("UTC"),
        quantity=raw["Quantity"].astype("float64"),
        unit_price=raw["UnitPrice"].astype("float64"),
    )
    raw["amount"] = raw["quantity"] * raw["unit_price"]
    raw["is_cancelled"] = raw["order_id"].str.startswith("C")
    all_lines = raw.loc[:, ["order_id", "product_id", "ordered_at", "quantity", "unit_price", "amount", "is_cancelled"]]

    known = raw.loc[raw["CustomerID"].notna()].copy()
    known["customer_id"] = known["CustomerID"].astype("int64").astype(str)
    known = known.reset_index(drop=True)
    known["order_line_id"] = known.index.astype(str)
    lines = known.loc[
        :,
        ["order_line_id", "order_id", "customer_id", "product_id", "ordered_at", "quantity", "unit_price", "amount"],
    ]
    orders = (
        known.groupby("order_id")
        .agg(
            customer_id=("customer_id", "first"),
            ordered_at=("ordered_at", "min"),
            amount_total=("amount", "sum"),
            is_cancelled=("is_cancelled", "first"),
        )
        .reset_index()
    )
    orders["amount_total"] = orders["amount_total"].abs()
    orders["channel"] = "web"
    orders = orders.sort_values(["ordered_at", "order_id"], ignore_index=True)
    return Retail(orders=orders, lines=lines, all_lines=all_lines)


@cache
def cdnow() -> pd.DataFrame:
    """CDNOW's purchases as `marts.fct_orders`: one order per purchase (a customer may make two in a day)."""
    try:
        path = distribution("lifetimes").locate_file(CDNOW_FILE)
    except PackageNotFoundError:
        raise SystemExit("CDNOW's file ships in the lifetimes package: `make install` installs it (the bench extra)") from None
    if not path.exists():
        raise SystemExit(f"{path} is missing: the lifetimes release installed does not ship CDNOW's file (0.11.3 does)")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != CDNOW_SHA256:
        raise SystemExit(f"{path} is not the CDNOW_master.txt the benchmark was written for (its SHA-256 differs)")
    raw = pd.read_csv(io.BytesIO(data), sep=r"\s+", dtype={"customer_id": str, "date": str})
    orders = pd.DataFrame({
        "order_id": raw.index.astype(str),
        "customer_id": raw["customer_id"],
        "ordered_at": pd.to_datetime(raw["date"], format="%Y%m%d").dt.tz_localize("UTC"),
        "amount_total": raw["dollar_value"].astype("float64"),
        "is_cancelled": False,
        "channel": "web",
    })
    return orders.sort_values("ordered_at", kind="stable", ignore_index=True)


def tafeng() -> tuple[dict[str, list[list[int]]], dict[str, list[int]]]:
    """Ta-Feng in the split of Li et al. 2023: each user's past baskets, and their next basket."""

    def baskets(name: str) -> dict[str, list[list[int]]]:
        with open(require_data(name)) as handle:
            raw = json.load(handle)
        return {user: [basket for basket in seq if basket != [-1]] for user, seq in raw.items()}

    history, future = baskets(TAFENG_HISTORY), baskets(TAFENG_FUTURE)
    targets = {user: sorted(set(seq[0])) for user, seq in future.items() if seq and user in history}
    return history, targets


# Small businesses are Puente's normal case: each benchmark also runs on random samples of a
# data set's customers (several per size, each drawn with its own seed), beside the full set.
SAMPLE_SIZES = (500, 2000, 5000)
SAMPLES_PER_SIZE = {500: 5, 2000: 3, 5000: 3}


def customer_samples(customers: list[str] | pd.Index) -> list[tuple[str, int | None, set[str] | None]]:
    """(size label, seed, sampled customers) for every sample of every size, then the full set (None).

    A size at least as large as the data set is the full set itself and is not drawn again.
    """
    ordered = sorted(customers)
    samples: list[tuple[str, int | None, set[str] | None]] = []
    for size in SAMPLE_SIZES:
        if size >= len(ordered):
            continue
        for seed in range(SAMPLES_PER_SIZE[size]):
            chosen = np.random.default_rng(seed).choice(len(ordered), size, replace=False)
            samples.append((f"{size:,}", seed, {ordered[index] for index in chosen}))
    samples.append((f"full ({len(ordered):,})", None, None))
    return samples


def spread(values: list[float]) -> str:
    """Mean ± standard deviation (the mean alone for one value)."""
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def per_sample(runs: list[dict], value) -> list[float]:
    """`value(run)` averaged over each sample's runs (its cutoffs): one figure per sample (key `seed`)."""
    seeds = sorted({run["seed"] for run in runs}, key=lambda seed: -1 if seed is None else seed)
    return [float(np.mean([value(run) for run in runs if run["seed"] == seed])) for seed in seeds]
