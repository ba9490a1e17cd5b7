"""Warehouse entry points of the churn model, called by the nightly DAG.

`train_churn` reads `marts.fct_orders` (and `marts.fct_order_lines` when the marts have it),
trains and evaluates a model, gates it against the baselines (`ml.churn.train`: the model
scores only if it beats the best baseline by more than its uncertainty, otherwise a baseline
scores: the gate's `winner`), saves the artifact, records the run in `ml.model_runs` (with `scored_by`
and the `gate`) and decides whether it becomes the champion; `train_churn_if_due` runs it once
a week. `score_churn` (nightly) scores every active customer with the champion's scorer into
`ml.churn_scores`, with the reasons behind each score and their codes; a rerun for the same
day changes no row. `as_of` is always the business day the night closes: its orders are seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    MetaData,
    Table,
    Text,
    all_,
    bindparam,
    delete,
    func,
    inspect,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.engine import Inspector

from ml import registry
from ml.artifacts import load_champion, load_model, save_model
from ml.churn.features import cutoff_after, cutoff_instant
from ml.churn.model import baseline_raw_score
from ml.churn.score import RISK_BANDS, score_customers
from ml.churn.train import ChurnTrainingResult, NotEnoughData, roc_auc_gate, train_churn_model
from ml.promotion import MODEL
from ml.schema import ensure_ml_schema

MODEL_NAME = "churn"

log = logging.getLogger(__name__)

# (`cancelled_at`: null::timestamptz on marts built before it existed, whose cancellations then count always)
_ORDERS = """
    select order_id, customer_id, ordered_at, amount_total::float8 as amount_total, channel,
           coalesce(is_cancelled, false) as is_cancelled, {cancelled_at} as cancelled_at
    from marts.fct_orders
    where ordered_at < :before and customer_id is not null
"""

_ORDER_LINES = """
    select l.order_id, l.customer_id, l.product_id, l.ordered_at, l.quantity::float8 as quantity,
           l.unit_price::float8 as unit_price, l.amount::float8 as amount,
           coalesce(o.is_cancelled, false) as is_cancelled, {cancelled_at} as cancelled_at,
           {warehouse} as warehouse_id
    from marts.fct_order_lines l
    left join marts.fct_orders o on o.order_id = l.order_id
    where l.ordered_at < :before {goods}
"""
# A shipping line (marts.dim_products.is_shipping: the ERP's delivery charge, ENVIO) is not goods:
# no ML job reads it, so it is never a product bought, forecast or recommended.
_GOODS = "and not exists (select 1 from marts.dim_products p where p.product_id = l.product_id and p.is_shipping)"

_CHURN_SCORES = Table(
    "churn_scores",
    MetaData(schema="ml"),
    Column("customer_id", Text, primary_key=True),
    Column("scored_for_date", Date, primary_key=True),
    Column("churn_probability", Float),
    Column("risk_band", Text),
    Column("reasons", Text),
    Column("reason_codes", Text),
    Column("model_run_id", Text),
    Column("scored_at", DateTime(timezone=True)),
)


@dataclass(frozen=True)
class ChampionDecision:
    """Whether a new run replaces the champion, and why."""

    promote: bool
    reason: str
    champion_roc_auc: float | None = None


class _NotComparable(Exception):
    """The current champion cannot be measured on the new evaluation cutoff."""


def train_churn(url: str, as_of: date) -> dict[str, Any]:
    """Train on the orders up to the end of `as_of`, save and register the run; returns a summary.

    The run's scorer is its model or, when the model does not beat the best baseline by more
    than its uncertainty, the baseline the gate ships instead (`scored_by`, `gate`). The run becomes champion as
    `decide_champion` says.
    """
    with registry.engine(url) as engine:
        result = train_churn_model(read_orders(engine, as_of), as_of, read_order_lines(engine, as_of))
        artifact = save_model(result.model, MODEL_NAME, result.metadata())
        with engine.begin() as connection:
            decision = decide_champion(connection, result)
            registry.record_run(connection, artifact, as_of)
            if decision.promote:
                registry.promote(connection, MODEL_NAME, artifact.model_run_id)
    log.info("churn run %s: %s", artifact.model_run_id, decision.reason)
    return {
        "model_run_id": artifact.model_run_id,
        "artifact_path": str(artifact.path),
        "as_of_date": as_of.isoformat(),
        "evaluation_cutoff": artifact.metadata["evaluation_cutoff"],
        "metrics": result.metrics,
        "baselines": result.baselines,
        "scored_by": result.scored_by,
        "gate": result.gate.as_dict(),
        "row_counts": result.row_counts,
        "is_champion": decision.promote,
        "champion_decision": decision.reason,
        "previous_champion_roc_auc": decision.champion_roc_auc,
    }


def train_churn_if_due(url: str, as_of: date, *, force: bool = False) -> dict[str, Any]:
    """Train when `force`d or when the last run is a week old or more; returns a summary."""
    return registry.train_if_due(url, as_of, MODEL_NAME, train_churn, NotEnoughData, force=force)


def score_churn(url: str, as_of: date) -> dict[str, Any]:
    """Score every customer active at `as_of` with the champion into `ml.churn_scores`.

    Rows for `scored_for_date = as_of` are upserted by customer; a row is rewritten only if
    its score, band, reasons or model changed, and rows of customers no longer scored that day are
    removed, so a rerun leaves the table exactly as it was.
    """
    ensure_ml_schema(url)
    with registry.engine(url) as engine:
        orders = read_orders(engine, as_of)
        with engine.connect() as connection:
            champion = load_champion(connection, MODEL_NAME)
        lines = read_order_lines(engine, as_of)
        scores = score_customers(champion.model, orders, as_of, lines)
        with engine.begin() as connection:
            written, removed = write_scores(connection, scores, as_of, champion.model_run_id)
    bands = scores["risk_band"].value_counts()
    return {
        "scored_for_date": as_of.isoformat(),
        "model_run_id": champion.model_run_id,
        "scored_by": getattr(champion.model, "scored_by", MODEL),
        "customers": len(scores),
        "bands": {band: int(bands.get(band, 0)) for band in RISK_BANDS},
        "rows_written": written,
        "rows_removed": removed,
    }


def read_orders(engine: Engine, as_of: date) -> pd.DataFrame:
    """The orders of `marts.fct_orders` up to the end of `as_of`, typed as the features expect."""
    with engine.connect() as connection:
        tables = inspect(connection)
        if not tables.has_table("fct_orders", schema="marts"):
            raise RuntimeError(
                "marts.fct_orders does not exist in the warehouse: build the marts (dbt build) "
                "before running the churn jobs."
            )
        columns = {column["name"] for column in tables.get_columns("fct_orders", schema="marts")}
        dated = "cancelled_at" if "cancelled_at" in columns else "null::timestamptz"
        orders = pd.read_sql(
            text(_ORDERS.format(cancelled_at=dated)), connection,
            params={"before": cutoff_instant(cutoff_after(as_of)).to_pydatetime()},
        )
    return orders.assign(
        ordered_at=pd.to_datetime(orders["ordered_at"], utc=True),
        is_cancelled=orders["is_cancelled"].astype(bool),
        cancelled_at=pd.to_datetime(orders["cancelled_at"], utc=True),
    )


def read_order_lines(engine: Engine, as_of: date) -> pd.DataFrame | None:
    """The lines of goods of `marts.fct_order_lines` up to the end of `as_of` (shipping left out),
    or None while dbt does not build it.

    Each line carries its order's `is_cancelled` and `cancelled_at` (`marts.fct_orders`; null on a
    marts built before the column existed, whose cancellations then count at every cutoff:
    `ml.cancellations`)."""
    with engine.connect() as connection:
        tables = inspect(connection)
        if not tables.has_table("fct_order_lines", schema="marts"):
            log.warning("marts.fct_order_lines does not exist: the ML jobs run without product features")
            return None
        columns = {column["name"] for column in tables.get_columns("fct_order_lines", schema="marts")}
        warehouse = "l.warehouse_id::text" if "warehouse_id" in columns else "null::text"
        dated = "o.cancelled_at" if "cancelled_at" in {
            column["name"] for column in tables.get_columns("fct_orders", schema="marts")} else "null::timestamptz"
        goods = _GOODS if marks_shipping(tables) else ""
        lines = pd.read_sql(
            text(_ORDER_LINES.format(warehouse=warehouse, goods=goods, cancelled_at=dated)), connection,
            params={"before": cutoff_instant(cutoff_after(as_of)).to_pydatetime()},
        )
    return lines.assign(
        ordered_at=pd.to_datetime(lines["ordered_at"], utc=True),
        is_cancelled=lines["is_cancelled"].astype(bool),
        cancelled_at=pd.to_datetime(lines["cancelled_at"], utc=True),
        product_id=lines["product_id"].astype(str),
    )


def marks_shipping(tables: Inspector) -> bool:
    """Whether `marts.dim_products` flags the shipping product (`is_shipping`); logs it when not."""
    if tables.has_table("dim_products", schema="marts") and "is_shipping" in {
            column["name"] for column in tables.get_columns("dim_products", schema="marts")}:
        return True
    log.warning("marts.dim_products has no is_shipping column (build the marts with this version of dbt_project): "
                "shipping lines are read as products")
    return False


def decide_champion(connection: Connection, result: ChurnTrainingResult) -> ChampionDecision:
    """Champion/challenger on ROC-AUC at the new run's evaluation cutoff, each run by what it scores with.

    A run scores with its model or with the baseline its gate ships instead (`scored_by`). The new run
    replaces the champion when there is none, when the champion's scorer does no better than
    the new run's on the new evaluation cutoff, or when the champion's model no longer beats
    the best baseline there by more than its uncertainty: a model that loses to the baseline
    is never kept. The champion's model is measured with its *evaluation* model, which was
    fitted only on labels that ended before its own, earlier, evaluation cutoff: its scoring
    model has seen part of the new evaluation window and would win unfairly. A champion
    trained on newer data than the new run (a backfill) is kept.
    """
    champion = registry.champion_run(connection, MODEL_NAME)
    if champion is None:
        return ChampionDecision(promote=True, reason=f"first churn run: {result.gate.sentence()}")
    if champion.as_of_date > result.as_of:
        return ChampionDecision(
            promote=False,
            reason=f"kept champion {champion.model_run_id}: it was trained on newer data "
            f"(as_of {champion.as_of_date})",
        )
    try:
        champion_auc, still_wins = _champion_on(champion, result)
    except _NotComparable as reason:
        return ChampionDecision(promote=True, reason=f"replaced champion {champion.model_run_id}: {reason}")
    scored_by = result.scored_by
    challenger_auc = result.metrics["roc_auc"] if scored_by == MODEL else result.baselines[scored_by]["roc_auc"]
    cutoff = result.evaluation.cutoffs[0]
    if not still_wins:
        return ChampionDecision(
            promote=True,
            reason=f"replaced champion {champion.model_run_id}: its model ({champion_auc:.4f}) no longer beats "
            f"the best baseline by more than its uncertainty at cutoff {cutoff}; the new run scores with "
            f"{scored_by} ({challenger_auc:.4f})",
            champion_roc_auc=champion_auc,
        )
    promote = challenger_auc >= champion_auc
    verdict = "replaced" if promote else "kept"
    return ChampionDecision(
        promote=promote,
        reason=f"{verdict} champion {champion.model_run_id}: ROC-AUC {challenger_auc:.4f} (new, scored by "
        f"{scored_by}) vs {champion_auc:.4f} (champion) at cutoff {cutoff}",
        champion_roc_auc=champion_auc,
    )


def write_scores(
    connection: Connection, scores: pd.DataFrame, scored_for: date, model_run_id: str
) -> tuple[int, int]:
    """Upsert `scores` for `scored_for`, remove that day's other rows; returns (written, removed)."""
    rows = [
        {
            "customer_id": customer_id,
            "scored_for_date": scored_for,
            "churn_probability": probability,
            "risk_band": band,
            "reasons": reasons,
            "reason_codes": codes,
            "model_run_id": model_run_id,
        }
        for customer_id, probability, band, reasons, codes in zip(
            scores.index.tolist(),
            scores["churn_probability"].tolist(),
            scores["risk_band"].tolist(),
            scores["reasons"].tolist(),
            scores["reason_codes"].tolist(),
            strict=True,
        )
    ]
    written = 0
    if rows:
        written = len(connection.execute(_upsert_scores(), rows).all())
    stale = delete(_CHURN_SCORES).where(
        _CHURN_SCORES.c.scored_for_date == scored_for,
        _CHURN_SCORES.c.customer_id != all_(bindparam("scored", scores.index.tolist(), type_=ARRAY(Text))),
    )
    removed = connection.execute(stale).rowcount
    return written, removed


def _upsert_scores() -> Insert:
    """Insert scores; on an existing (customer, date) rewrite only what changed."""
    statement = insert(_CHURN_SCORES)
    scored = ("churn_probability", "risk_band", "reasons", "reason_codes", "model_run_id")
    return statement.on_conflict_do_update(
        index_elements=[_CHURN_SCORES.c.customer_id, _CHURN_SCORES.c.scored_for_date],
        set_={**{name: statement.excluded[name] for name in scored}, "scored_at": func.now()},
        where=tuple_(*(_CHURN_SCORES.c[name] for name in scored)).is_distinct_from(
            tuple_(*(statement.excluded[name] for name in scored))
        ),
    ).returning(_CHURN_SCORES.c.customer_id)


def _champion_on(champion: registry.ChampionRun, result: ChurnTrainingResult) -> tuple[float, bool]:
    """ROC-AUC of the champion's scorer on the new run's evaluation snapshot, and whether it may keep scoring.

    A champion scored by a baseline is that baseline, measured again on the new snapshot; a
    champion scored by its model keeps scoring only if that model still wins the gate there.
    """
    try:
        artifact = load_model(champion.artifact_path).model
    except FileNotFoundError as missing:
        raise _NotComparable(f"its artifact is missing ({missing.filename})") from missing
    except (AttributeError, ImportError) as old:
        raise _NotComparable(f"its artifact was written by an older version of Puente ({old})") from old
    scored_by = getattr(artifact, "scored_by", MODEL)
    if scored_by != MODEL:
        return result.baselines[scored_by]["roc_auc"], True
    evaluation = result.evaluation
    unknown = [name for name in artifact.features if name not in evaluation.features.columns]
    if unknown:
        raise _NotComparable(f"it uses features this version no longer computes: {unknown}")
    scores = {MODEL: artifact.evaluation.raw_score(evaluation.features.loc[:, list(artifact.features)])}
    scores |= {name: baseline_raw_score(name, evaluation.features) for name in result.baselines}
    verdict = roc_auc_gate(evaluation.labels, scores)
    return verdict.model, verdict.model_wins
