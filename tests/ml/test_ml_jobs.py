"""The demand and next-best-action jobs against a real PostgreSQL, with churn reasons."""

from __future__ import annotations

import dataclasses

import pandas as pd
import psycopg
import pytest

from ml import registry
from ml.churn.jobs import read_order_lines, score_churn, train_churn
from ml.demand import jobs as demand_jobs
from ml.demand.jobs import read_stock, score_demand, train_demand, train_demand_if_due
from ml.nba.jobs import score_next_best_actions
from ml.schema import ensure_ml_schema

FCT_ORDERS_DDL = """
create schema if not exists marts;
create table marts.fct_orders (
    order_id text primary key, customer_id text, ordered_at timestamptz not null, order_date date not null,
    channel text not null, amount_total numeric(14, 2) not null, currency_code text not null, status text not null,
    is_cancelled boolean not null, cancelled_at timestamptz
)
"""
MARTS_DDL = """
create table marts.fct_order_lines (
    order_line_id text primary key, order_id text not null, customer_id text, product_id text not null,
    ordered_at timestamptz not null, quantity numeric not null, unit_price numeric not null, amount numeric not null
);
create table marts.dim_products (
    product_id text primary key, sku text, product_name text, list_price numeric, unit_cost numeric,
    stock_on_hand numeric, is_active boolean, is_shipping boolean not null default false
);
create table marts.dim_customers (customer_id text primary key, has_marketing_consent boolean,
                                  authorised_purposes text[] not null default '{}');
"""
SHIPPING = "p-envio"


@pytest.fixture
def warehouse(fresh_db, order_orders, lines, products, customers, tmp_path, monkeypatch):
    """marts.fct_orders, fct_order_lines, dim_products and dim_customers from the synthetic business."""
    monkeypatch.setenv("PUENTE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("PUENTE_MARGIN_FLOOR", "0.15")
    with psycopg.connect(fresh_db) as connection:
        connection.execute(FCT_ORDERS_DDL)
        connection.execute(MARTS_DDL)
        with connection.cursor() as cursor:
            cursor.executemany(
                "insert into marts.fct_orders values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (o.order_id, o.customer_id, o.ordered_at, o.ordered_at.date(), o.channel, o.amount_total, "COP",
                     "cancelled" if o.is_cancelled else "sale", o.is_cancelled)
                    for o in order_orders.itertuples()
                ],
            )
            cursor.executemany(
                "insert into marts.fct_order_lines values (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (x.order_line_id, x.order_id, x.customer_id, x.product_id, x.ordered_at, x.quantity,
                     x.unit_price, x.amount)
                    for x in lines.itertuples()
                ],
            )
            cursor.executemany(
                "insert into marts.dim_products values (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (p.Index, p.sku, p.product_name, p.list_price, None if p.unit_cost != p.unit_cost else p.unit_cost,
                     p.stock_on_hand, bool(p.is_active))
                    for p in products.itertuples()
                ],
            )
            # every other order charges shipping: the ERP service ENVIO, active, no stock, no cost
            cursor.execute("insert into marts.dim_products values (%s, 'ENVIO', 'Envío', 12000, null, 0, true, true)",
                           (SHIPPING,))
            cursor.executemany(
                "insert into marts.fct_order_lines values (%s, %s, %s, %s, %s, 1, 12000, 12000)",
                [(f"{o.order_id}-envio", o.order_id, o.customer_id, SHIPPING, o.ordered_at)
                 for o in order_orders.iloc[::2].itertuples()],
            )
            cursor.executemany(
                "insert into marts.dim_customers values (%s, %s, %s)",
                [(c.Index, bool(c.has_marketing_consent),
                  ["analytics"] * bool(c.has_analytics_authorisation) + ["marketing"] * bool(c.has_marketing_consent))
                 for c in customers.itertuples()],
            )
    ensure_ml_schema(fresh_db)
    return fresh_db


def _fetch(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchall()


def test_ml_schema_is_idempotent(warehouse):
    ensure_ml_schema(warehouse)
    columns = {row[0] for row in _fetch(
        warehouse, "select column_name from information_schema.columns where table_name = 'churn_scores'")}
    assert "reasons" in columns


def test_shipping_lines_are_not_goods_to_any_ml_job(warehouse, as_of, lines, products):
    """The lines every ML job reads and the products demand forecasts leave the shipping charge out
    (the demand and next-best-action tests below check their outputs too)."""
    with registry.engine(warehouse) as engine:
        read = read_order_lines(engine, as_of)
        stock = read_stock(engine)
    assert SHIPPING not in set(read["product_id"]) and len(read) == len(lines)
    assert set(stock["product_id"]) == set(products.index[products["is_active"]])


def test_order_lines_carry_their_orders_cancellation_dates_or_none_on_older_marts(warehouse, as_of):
    """The demand and next-best-action jobs read the lines with `cancelled_at` (`ml.cancellations`)."""
    with psycopg.connect(warehouse) as connection:
        connection.execute("update marts.fct_orders set cancelled_at = ordered_at + interval '2 days' "
                           "where is_cancelled")
    with registry.engine(warehouse) as engine:
        dated = read_order_lines(engine, as_of)
    cancelled = dated["is_cancelled"]
    assert str(dated["cancelled_at"].dtype).endswith(", UTC]")
    assert cancelled.any() and ((dated["cancelled_at"] - dated["ordered_at"])[cancelled] == pd.Timedelta(days=2)).all()
    assert dated.loc[~cancelled, "cancelled_at"].isna().all()

    with psycopg.connect(warehouse) as connection:  # marts built before the column existed
        connection.execute("alter table marts.fct_orders drop column cancelled_at")
    with registry.engine(warehouse) as engine:
        undated = read_order_lines(engine, as_of)
    assert undated["cancelled_at"].isna().all()
    pd.testing.assert_frame_equal(undated.drop(columns="cancelled_at"), dated.drop(columns="cancelled_at"))


def test_demand_trains_scores_idempotently_and_keeps_a_better_champion(warehouse, as_of, monkeypatch, products):
    first = train_demand(warehouse, as_of)
    assert first["is_champion"] is True

    scored = score_demand(warehouse, as_of)
    snapshot = "select * from ml.demand_forecasts order by product_id, horizon_date"
    before = _fetch(warehouse, snapshot)
    assert scored["rows_written"] == len(before) == len(products.loc[products["is_active"]]) * 28
    assert SHIPPING not in {row[0] for row in before}
    assert _fetch(warehouse, "select distinct model_run_id, warehouse_id from ml.demand_forecasts") == [
        (first["model_run_id"], "")]  # the marts name no warehouse: one series per product
    again = score_demand(warehouse, as_of)
    assert (again["rows_written"], again["rows_removed"]) == (0, 0)
    assert _fetch(warehouse, snapshot) == before

    assert first["scored_by"] == scored["scored_by"] == "auto_ets"  # 30 products: AutoETS forecasts (test_demand.py)
    assert _fetch(warehouse, "select scored_by, gate->>'best_baseline' from ml.model_runs") == [("auto_ets", "auto_ets")]
    real = demand_jobs.train_demand_model

    def worse(*args, **kwargs):
        """A run whose model ships although it forecasts worse than the champion's AutoETS."""
        result = real(*args, **kwargs)
        worse_wape = result.baselines["auto_ets"]["wape_daily"] + 1
        return dataclasses.replace(result, model=dataclasses.replace(result.model, scored_by="model"),
                                   metrics={**result.metrics, "wape_daily": worse_wape})

    monkeypatch.setattr(demand_jobs, "train_demand_model", worse)
    challenger = train_demand_if_due(warehouse, as_of, force=True)
    assert challenger["trained"] is True and challenger["is_champion"] is False
    assert challenger["champion_decision"].startswith("kept champion")
    champions = _fetch(warehouse, "select model_run_id from ml.model_runs where model_name = 'demand' and is_champion")
    assert champions == [(first["model_run_id"],)]


def test_demand_is_forecast_per_warehouse_against_its_own_stock(warehouse, as_of, products):
    """Two warehouses: orders ship from 1 or 2, a tenth have not reached the ERP; all stock sits in 1."""
    train_demand(warehouse, as_of)
    score_demand(warehouse, as_of)
    ((per_product,),) = _fetch(warehouse, "select sum(p50) from ml.demand_forecasts where warehouse_id = ''")
    with psycopg.connect(warehouse) as connection:
        connection.execute("alter table marts.fct_order_lines add column warehouse_id text")
        connection.execute("update marts.fct_order_lines set warehouse_id = case abs(hashtext(order_id)) % 10 "
                           "when 0 then null when 1 then '1' when 2 then '1' else '2' end")
        connection.execute(
            "create table marts.fct_stock_by_location as select product_id, '1'::text as warehouse_id, "
            "true as is_internal, stock_on_hand as quantity from marts.dim_products where stock_on_hand is not null")
    retrained = train_demand(warehouse, as_of)  # the training reads the same series
    scored = score_demand(warehouse, as_of)

    rows = _fetch(warehouse, "select warehouse_id, count(distinct product_id), sum(p50), "
                             "sum(stock_on_hand) filter (where horizon_days = 1), "
                             "bool_and(days_of_cover = 0) filter (where stock_on_hand = 0) "
                             "from ml.demand_forecasts group by 1 order by 1")
    active = products.loc[products["is_active"]]
    assert retrained["row_counts"] and [row[0] for row in rows] == ["1", "2"]  # the per-product rows are gone
    assert (scored["warehouses"], scored["products"], rows[1][1]) == (2, len(active), len(active))
    assert rows[0][3] == pytest.approx(float(active["stock_on_hand"].sum())) and rows[1][3] == 0 and rows[1][4]
    # warehouse 2 ships about 70% of the orders: its demand, not the product's, is what it is forecast
    warehouse_1, warehouse_2 = float(rows[0][2]), float(rows[1][2])
    assert 0.5 < warehouse_2 / (warehouse_1 + warehouse_2) < 0.9
    assert warehouse_1 + warehouse_2 == pytest.approx(float(per_product), rel=0.3)


def test_churn_reasons_and_next_best_actions_land_in_the_warehouse(warehouse, as_of, customers, products):
    train_churn(warehouse, as_of)
    score_churn(warehouse, as_of)
    reasons = _fetch(warehouse, "select reasons from ml.churn_scores")
    assert reasons and all(row[0] for row in reasons)

    summary = score_next_best_actions(warehouse, as_of)
    rows = _fetch(
        warehouse,
        "select a.customer_id, a.action, a.product_id, a.reason, "
        "c.has_marketing_consent and 'analytics' = any(c.authorised_purposes), p.stock_on_hand, "
        "(p.list_price - p.unit_cost) / nullif(p.list_price, 0), p.is_active "
        "from ml.next_best_actions a join marts.dim_customers c using (customer_id) "
        "left join marts.dim_products p using (product_id)",
    )
    assert summary["customers"] == len(rows) == len(customers)
    assert SHIPPING not in {row[2] for row in rows}
    for _, action, product, reason, consent, stock, margin, active in rows:
        assert reason
        if action != "none":
            assert consent
        if action == "offer_product":
            assert product is not None and stock > 0 and margin >= 0.15 and active
    training = summary["recommender_training"]
    assert training["trained"] is True and training["scored_by"] == summary["recommender_scored_by"]
    runs = _fetch(warehouse, "select model_run_id, scored_by, gate->>'metric', is_champion from ml.model_runs "
                             "where model_name = 'nba'")
    assert runs == [(training["model_run_id"], training["scored_by"], "recall_at_10", True)]
    assert _fetch(warehouse, "select distinct recommender_run_id from ml.next_best_actions") == [(runs[0][0],)]
    again = score_next_best_actions(warehouse, as_of)
    assert again["recommender_training"]["trained"] is False  # weekly: tonight reuses this week's run
    assert (again["rows_written"], again["rows_removed"]) == (0, 0)

    # An open complaint in the service tickets (marts.customer_service_summary) withholds the offer.
    offered = sorted(row[0] for row in rows if row[1] == "offer_product")[:3]
    assert offered
    with psycopg.connect(warehouse) as conn:
        conn.execute("create table marts.customer_service_summary (customer_id text, open_complaints bigint)")
        conn.execute("insert into marts.customer_service_summary select unnest(%s::text[]), 1", (offered,))
    try:
        score_next_best_actions(warehouse, as_of)
        withheld = _fetch(warehouse, "select action, product_id, reason from ml.next_best_actions where customer_id in "
                                     f"({', '.join(repr(c) for c in offered)})")
    finally:
        with psycopg.connect(warehouse) as conn:
            conn.execute("drop table marts.customer_service_summary")
    assert withheld == [("none", None, "withheld offer_product: 1 open complaint in the CRM, no sales offer until "
                                       "resolved")] * len(offered)
