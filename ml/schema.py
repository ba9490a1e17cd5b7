"""The `ml` tables the demand and next-best-action jobs write, and the churn reasons column.

`ml.model_runs` and `ml.churn_scores` are created by `puente.warehouse.ensure_schema`; this
module adds what the ML jobs need beyond them. `ensure_ml_schema` is idempotent and safe to
run concurrently (it takes the same advisory lock as `ensure_schema`); the ML jobs call it
before writing, and `puente.warehouse.ensure_schema` may call it too.
"""

from __future__ import annotations

import psycopg

ADVISORY_LOCK = 7281  # the lock puente.warehouse.ensure_schema holds while it creates schemas

ML_DDL = """
create schema if not exists ml;

alter table ml.churn_scores add column if not exists reasons text;

create table if not exists ml.demand_forecasts (
    product_id      text not null,
    forecast_date   date not null,
    horizon_date    date not null,
    horizon_days    integer not null,
    p10             double precision not null,
    p50             double precision not null,
    p90             double precision not null,
    stock_on_hand   double precision,
    days_of_cover   double precision,
    reorder_qty     double precision,
    model_run_id    text not null references ml.model_runs (model_run_id),
    scored_at       timestamptz not null default now(),
    primary key (product_id, forecast_date, horizon_date),
    check (p10 <= p50 and p50 <= p90)
);
create index if not exists demand_forecasts_date on ml.demand_forecasts (forecast_date);

create table if not exists ml.next_best_actions (
    customer_id        text not null,
    scored_for_date    date not null,
    action             text not null
        check (action in ('offer_product', 'retention_call', 'win_back_offer', 'none')),
    product_id         text,
    reason             text not null,
    churn_probability  double precision,
    is_marketing       boolean not null,
    model_run_id       text references ml.model_runs (model_run_id),
    recommender        text not null,
    scored_at          timestamptz not null default now(),
    primary key (customer_id, scored_for_date),
    check ((action = 'offer_product') = (product_id is not null))
);
"""


def ensure_ml_schema(url: str) -> None:
    """Create the ML tables and columns above if they are missing (needs `ml.model_runs` and `ml.churn_scores`)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"select pg_advisory_lock({ADVISORY_LOCK})")
        try:
            connection.execute(ML_DDL)
        finally:
            connection.execute(f"select pg_advisory_unlock({ADVISORY_LOCK})")
