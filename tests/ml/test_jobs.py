"""train_churn and score_churn against a real PostgreSQL (the `fresh_db` fixture)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import psycopg
import pytest

from ml.artifacts import NoChampion
from ml.churn.features import build_features, cutoff_after
from ml.churn.jobs import read_orders, score_churn, train_churn, train_churn_if_due
from ml.churn.train import NotEnoughData
from ml.registry import engine
from puente.report import model_line

# marts.fct_orders is built by dbt; these tests stand in for it with the columns the job reads.
FCT_ORDERS_DDL = """
create schema if not exists marts;
create table marts.fct_orders (
    order_id      text primary key,
    customer_id   text,
    ordered_at    timestamptz not null,
    order_date    date not null,
    channel       text not null,
    amount_total  numeric(14, 2) not null,
    currency_code text not null,
    status        text not null,
    is_cancelled  boolean not null,
    cancelled_at  timestamptz
)
"""


@pytest.fixture(scope="module")
def small_orders(make_orders):
    """A smaller history than the shared one: these tests train several times each."""
    return make_orders(customers=250)


def _load_orders(url: str, orders) -> None:
    """Replace marts.fct_orders with `orders` (created on first use)."""
    rows = [
        (
            f"o{number}",
            row.customer_id,
            row.ordered_at,
            row.ordered_at.date(),
            row.channel,
            row.amount_total,
            "COP",
            "cancelled" if row.is_cancelled else "sale",
            row.is_cancelled,
            row.ordered_at + timedelta(days=2) if row.is_cancelled else None,  # cancelled two days later
        )
        for number, row in enumerate(orders.itertuples())
    ]
    with psycopg.connect(url) as connection:
        if connection.execute("select to_regclass('marts.fct_orders')").fetchone()[0] is None:
            connection.execute(FCT_ORDERS_DDL)
        connection.execute("delete from marts.fct_orders")
        with connection.cursor() as cursor:
            cursor.executemany(
                "insert into marts.fct_orders values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows
            )


@pytest.fixture
def warehouse(fresh_db, small_orders, tmp_path, monkeypatch):
    """A fresh warehouse whose marts.fct_orders holds the synthetic orders; artifacts in tmp."""
    monkeypatch.setenv("PUENTE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    _load_orders(fresh_db, small_orders)
    return fresh_db


def _fetch(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchall()


def test_scoring_before_any_training_says_what_to_do(warehouse, as_of):
    with pytest.raises(NoChampion, match="train_churn"):
        score_churn(warehouse, as_of)


def test_train_then_score_writes_runs_and_scores_idempotently(warehouse, as_of):
    summary = train_churn(warehouse, as_of)

    assert summary["is_champion"] is True and summary["scored_by"] == "model"
    assert summary["metrics"]["roc_auc"] > 0.85
    assert set(summary["baselines"]) == {"recency", "bgnbd", "bgnbd_no_purchase"}
    assert set(summary["baselines"]["recency"]) == set(summary["metrics"])
    runs = _fetch(
        warehouse,
        "select model_run_id, model_name, as_of_date, is_champion, metrics->>'roc_auc', scored_by, "
        "gate->>'winner', (gate->>'margin')::float8 > (gate->>'uncertainty')::float8 from ml.model_runs",
    )
    assert runs == [(summary["model_run_id"], "churn", as_of, True, str(summary["metrics"]["roc_auc"]), "model",
                     "model", True)]

    first = score_churn(warehouse, as_of)
    snapshot = "select * from ml.churn_scores order by customer_id"
    before = _fetch(warehouse, snapshot)
    assert first["rows_written"] == first["customers"] == len(before) == sum(first["bands"].values())
    assert {row[4] for row in before} == {summary["model_run_id"]}

    assert first["scored_by"] == "model" and all(row[-1] for row in before)  # every score has its reason codes

    again = score_churn(warehouse, as_of)
    assert (again["rows_written"], again["rows_removed"]) == (0, 0)
    assert again["bands"] == first["bands"]
    assert _fetch(warehouse, snapshot) == before  # scored_at included: nothing was touched


def test_a_small_business_where_the_best_baseline_wins_is_scored_by_it_that_night(
        warehouse, no_purchase_history, as_of):
    """The model loses to BG/NBD on the job's own evaluation: the best baseline measured, here BG/NBD's
    probability of no purchase in the 90 days (it ranks better than its expected purchases), reaches
    ml.churn_scores."""
    _load_orders(warehouse, no_purchase_history)

    summary = train_churn(warehouse, as_of)
    scored = score_churn(warehouse, as_of)

    baselines = {name: values["roc_auc"] for name, values in summary["baselines"].items()}
    assert set(baselines) == {"recency", "bgnbd", "bgnbd_no_purchase"}
    assert max(baselines, key=baselines.get) == "bgnbd_no_purchase" and baselines["bgnbd_no_purchase"] > baselines["bgnbd"]
    assert summary["is_champion"] is True and summary["scored_by"] == "bgnbd_no_purchase" == scored["scored_by"]
    assert summary["gate"]["winner"] == "bgnbd_no_purchase" and summary["gate"]["model_wins"] is False
    assert summary["gate"]["model"] < summary["gate"]["baseline"] == baselines["bgnbd_no_purchase"]
    ((scored_by, best, winner, margin),) = _fetch(
        warehouse, "select scored_by, gate->>'best_baseline', gate->>'winner', (gate->>'margin')::float8 "
        "from ml.model_runs where is_champion")
    assert (scored_by, best, winner) == ("bgnbd_no_purchase",) * 3 and margin == pytest.approx(summary["gate"]["margin"])
    scores = pd.DataFrame(
        _fetch(warehouse, "select customer_id, churn_probability, model_run_id, reason_codes from ml.churn_scores"),
        columns=["customer_id", "churn_probability", "model_run_id", "reason_codes"],
    ).set_index("customer_id")
    features = build_features(no_purchase_history, cutoff_after(as_of))
    assert set(scores["model_run_id"]) == {summary["model_run_id"]} and scores.index.sort_values().equals(features.index)
    assert scores["reason_codes"].str.len().gt(0).all()
    # the baseline's ranking, not the model's: the likelier no purchase in the 90 days, the likelier the churn
    no_purchase = features["bgnbd_p_no_purchase_90d"].reindex(scores.index)
    assert scores["churn_probability"].corr(no_purchase, method="spearman") == pytest.approx(1.0)
    line = model_line({"model_name": "churn", "model_run_id": summary["model_run_id"], "as_of_date": as_of,
                       "scored_by": scored_by, "gate": summary["gate"]})
    assert "the baseline bgnbd_no_purchase scores" in line and f"{summary['gate']['margin']:+.3f}" in line


def test_a_champion_model_that_no_longer_beats_the_baseline_is_replaced(warehouse, bgnbd_history, as_of):
    first = train_churn(warehouse, as_of)
    assert first["scored_by"] == "model"
    _load_orders(warehouse, bgnbd_history)

    second = train_churn(warehouse, as_of)

    assert second["is_champion"] is True and second["scored_by"] == second["gate"]["best_baseline"] != "model"
    assert "no longer beats the best baseline" in second["champion_decision"]
    assert _fetch(warehouse, "select model_run_id from ml.model_runs where is_champion") == [(second["model_run_id"],)]


def test_retraining_on_the_same_data_keeps_one_champion(warehouse, as_of):
    first = train_churn(warehouse, as_of)
    second = train_churn(warehouse, as_of)

    assert second["previous_champion_roc_auc"] == pytest.approx(first["metrics"]["roc_auc"])
    assert second["is_champion"] is True  # an equal ROC-AUC is enough
    champions = _fetch(warehouse, "select model_run_id from ml.model_runs where is_champion")
    assert champions == [(second["model_run_id"],)]


def test_a_backfill_does_not_replace_a_champion_trained_on_newer_data(warehouse, as_of):
    newer = train_churn(warehouse, as_of)
    backfill = train_churn(warehouse, as_of - timedelta(days=30))

    assert backfill["is_champion"] is False
    assert "newer data" in backfill["champion_decision"]
    champions = _fetch(warehouse, "select model_run_id from ml.model_runs where is_champion")
    assert champions == [(newer["model_run_id"],)]


def test_training_runs_weekly_unless_forced(warehouse, as_of):
    assert train_churn_if_due(warehouse, as_of)["trained"] is True

    skipped = train_churn_if_due(warehouse, as_of + timedelta(days=3))
    assert skipped == {"trained": False, "reason": f"the last churn run is for {as_of}, less than a week ago"}

    forced = train_churn_if_due(warehouse, as_of + timedelta(days=3), force=True)
    assert forced["trained"] is True
    assert len(_fetch(warehouse, "select 1 from ml.model_runs where is_champion")) == 1


def test_missing_history_keeps_the_champion_or_fails_without_one(warehouse, as_of):
    with psycopg.connect(warehouse) as connection:
        connection.execute("delete from marts.fct_orders where ordered_at >= '2024-01-01'")
    with pytest.raises(NotEnoughData):
        train_churn_if_due(warehouse, as_of)

    champion = train_churn(warehouse, as_of - timedelta(days=200))["model_run_id"]
    with psycopg.connect(warehouse) as connection:
        connection.execute("delete from marts.fct_orders")
    kept = train_churn_if_due(warehouse, as_of)

    assert kept["trained"] is False
    assert kept["reason"].startswith("kept the champion: no orders up to")
    assert _fetch(warehouse, "select model_run_id from ml.model_runs where is_champion") == [(champion,)]


def test_orders_are_read_with_their_cancellation_dates_or_without_them_on_older_marts(warehouse, as_of):
    with engine(warehouse) as connected:
        dated = read_orders(connected, as_of)
    cancelled = dated["is_cancelled"]
    assert cancelled.any() and (dated.loc[cancelled, "cancelled_at"] > dated.loc[cancelled, "ordered_at"]).all()
    assert dated.loc[~cancelled, "cancelled_at"].isna().all()

    with psycopg.connect(warehouse) as connection:  # marts built before the column existed
        connection.execute("alter table marts.fct_orders drop column cancelled_at")
    with engine(warehouse) as connected:
        undated = read_orders(connected, as_of)
    assert undated["cancelled_at"].isna().all()
    pd.testing.assert_frame_equal(undated.drop(columns="cancelled_at"), dated.drop(columns="cancelled_at"))
