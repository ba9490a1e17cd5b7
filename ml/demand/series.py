"""Which demand series to forecast: one per product, or one per product and warehouse.

When the order lines and the stock name the ERP's warehouses, each product gets a series
per warehouse that sold or stocks it, so that days of cover and the reorder quantity compare
a warehouse's own demand with its own stock (with one warehouse, that is one series per
product, as the model was benchmarked); when they name none, one series per product:

- a line takes its order's warehouse (`fct_order_lines.warehouse_id`); a web order not yet
  in the ERP has none and counts for the product's main warehouse: the one that shipped most
  of its units, else the one holding most of its stock, else the one that shipped most units
  overall;
- stock is the on-hand quantity of the warehouse's internal locations
  (`fct_stock_by_location`), none where the ERP has no quant of a product it stocks
  elsewhere; quants outside any warehouse count for the product's main warehouse;
- a product has a series in each warehouse that holds a quant of it or sold it in the last
  `ACTIVE_DAYS` days (a warehouse that stopped selling it and holds none gets no forecast).

A series is named `<product_id>@<warehouse_id>`, so the global model, which only sees series
ids, is unchanged; `split_series` turns the forecasts back into product and warehouse.
"""

from __future__ import annotations

import pandas as pd

from ml.cancellations import cancelled_at

SEPARATOR = "@"
NO_WAREHOUSE = ""  # warehouse_id of a per-product series: all warehouses together
ACTIVE_DAYS = 365


def _largest(frame: pd.DataFrame, value: str) -> pd.Series:
    """Per product, the warehouse with the largest `value` (ties: the first warehouse id)."""
    totals = frame.groupby(["product_id", "warehouse_id"])[value].sum().reset_index()
    totals = totals.sort_values(["product_id", value, "warehouse_id"], ascending=[True, False, True])
    return totals.drop_duplicates("product_id").set_index("product_id")["warehouse_id"]


def _main_warehouse(sold: pd.DataFrame, stock: pd.DataFrame) -> pd.Series:
    """Per product, the warehouse to count unassigned sales and stock for (see the module)."""
    shipped = sold.dropna(subset=["warehouse_id"])
    held = stock.dropna(subset=["warehouse_id", "stock_on_hand"])
    if len(shipped):
        overall = shipped.groupby("warehouse_id")["quantity"].sum().sort_index().idxmax()
    else:
        overall = min(stock["warehouse_id"].dropna(), default=NO_WAREHOUSE)
    main = _largest(shipped, "quantity").combine_first(_largest(held, "stock_on_hand"))
    return main.reindex(sorted(set(sold["product_id"]) | set(stock["product_id"]))).fillna(overall)


def demand_series(lines: pd.DataFrame, stock: pd.DataFrame, end: pd.Timestamp | None = None
                  ) -> tuple[pd.DataFrame, pd.Series]:
    """`lines` with `product_id` replaced by the series id, and the stock on hand per series.

    `stock` has one row per product (and warehouse, when known): `product_id`,
    `warehouse_id` (None for none) and `stock_on_hand` (NaN when unknown). The series are the
    stock's products, per warehouse that sold or holds it; the returned stock's index is the
    series to forecast, sorted. Which warehouse sold a product, and whether it sold lately, is
    decided by the sales as seen at `end`, the scoring cutoff the series are forecast from
    (`ml.cancellations`; by default the cancellations known now). Every line is returned, the
    cancelled ones too: the sales matrix decides what each cutoff counts.
    """
    lines = lines.assign(warehouse_id=lines.get("warehouse_id")).astype({"warehouse_id": object})
    stock = stock.astype({"warehouse_id": object})
    warehouses = set(lines["warehouse_id"].dropna()) | set(stock["warehouse_id"].dropna())
    if not warehouses:
        per_product = stock.groupby("product_id")["stock_on_hand"].sum(min_count=1).sort_index()
        return lines.drop(columns="warehouse_id"), per_product.rename_axis("product_id")
    sold = lines.loc[lines["quantity"] > 0]
    if "is_cancelled" in sold.columns:
        cancelled = sold["is_cancelled"].astype(bool).to_numpy() if end is None else cancelled_at(sold, end)
        sold = sold.loc[~cancelled]
    main = _main_warehouse(sold, stock)
    lines = lines.assign(warehouse_id=lines["warehouse_id"].fillna(lines["product_id"].map(main)))
    stock = stock.assign(warehouse_id=stock["warehouse_id"].fillna(stock["product_id"].map(main)))
    lines = lines.loc[lines["product_id"].isin(stock["product_id"])]
    on_hand = stock.groupby(["product_id", "warehouse_id"])["stock_on_hand"].sum(min_count=1)
    recent = lines.loc[lines.index.isin(sold.index)]
    if len(recent):
        recent = recent.loc[recent["ordered_at"] > recent["ordered_at"].max() - pd.Timedelta(days=ACTIVE_DAYS)]
    selling = recent.drop_duplicates(["product_id", "warehouse_id"]).set_index(["product_id", "warehouse_id"]).index
    on_hand = on_hand.reindex(on_hand.index.union(selling))
    # a warehouse without quants of a product the ERP stocks elsewhere holds none of it
    stocked = on_hand.index.get_level_values("product_id").isin(stock.loc[stock["stock_on_hand"].notna(), "product_id"])
    on_hand = on_hand.mask(stocked & on_hand.isna(), 0.0)
    on_hand.index = [f"{product}{SEPARATOR}{warehouse}" for product, warehouse in on_hand.index]
    keyed = lines.assign(product_id=lines["product_id"] + SEPARATOR + lines["warehouse_id"].astype(str))
    return keyed.drop(columns="warehouse_id"), on_hand.sort_index().rename_axis("product_id")


def split_series(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Forecasts by series id back to `product_id` and `warehouse_id` (`NO_WAREHOUSE` if per product)."""
    if forecasts.empty:
        return forecasts.assign(warehouse_id=pd.Series(dtype=object))
    parts = forecasts["product_id"].astype(str).str.rsplit(SEPARATOR, n=1, expand=True)
    warehouse = parts[1].fillna(NO_WAREHOUSE) if parts.shape[1] > 1 else NO_WAREHOUSE
    return forecasts.assign(product_id=parts[0], warehouse_id=warehouse)
