"""The model registry in the warehouse: one `ml.model_runs` row per training run.

Functions take an open SQLAlchemy connection and leave the transaction to the caller, so a
run is recorded and promoted atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.dialects.postgresql import JSONB

from puente.warehouse import sqlalchemy_url

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from ml.artifacts import Artifact

_INSERT_RUN = text(
    """
    insert into ml.model_runs (
        model_run_id, model_name, trained_at, as_of_date, train_window_start, train_window_end,
        features, metrics, baselines, artifact_path, library_versions, is_champion, scored_by, gate
    ) values (
        :model_run_id, :model_name, :trained_at, :as_of_date, :train_window_start, :train_window_end,
        :features, :metrics, :baselines, :artifact_path, :library_versions, false, :scored_by, :gate
    )
    """
).bindparams(
    *(bindparam(name, type_=JSONB) for name in ("features", "metrics", "baselines", "library_versions", "gate"))
)

_CHAMPION = text(
    """
    select model_run_id, artifact_path, as_of_date
    from ml.model_runs
    where model_name = :model_name and is_champion
    """
)

_LATEST_AS_OF = text("select max(as_of_date) from ml.model_runs where model_name = :model_name")

_PROMOTE = text(
    """
    update ml.model_runs
    set is_champion = (model_run_id = :model_run_id)
    where model_name = :model_name and (is_champion or model_run_id = :model_run_id)
    """
)


@dataclass(frozen=True)
class ChampionRun:
    """The registry row of the model that scores customers."""

    model_run_id: str
    artifact_path: str
    as_of_date: date


def record_run(connection: Connection, artifact: Artifact, as_of: date) -> str:
    """Insert the run that produced `artifact` (not champion yet) and return its id.

    `scored_by` and `gate` come from the metadata when the run has them: what the run ships
    (its model or a baseline) and the promotion gate's figures (`ml.promotion`).
    """
    metadata = artifact.metadata
    connection.execute(
        _INSERT_RUN,
        {
            "model_run_id": artifact.model_run_id,
            "model_name": metadata["model_name"],
            "trained_at": datetime.fromisoformat(metadata["trained_at"]),
            "as_of_date": as_of,
            "train_window_start": date.fromisoformat(metadata["data_window"]["start"]),
            "train_window_end": date.fromisoformat(metadata["data_window"]["end"]),
            "features": metadata["features"],
            "metrics": metadata["metrics"],
            "baselines": metadata["baselines"],
            "artifact_path": str(artifact.path),
            "library_versions": metadata["library_versions"],
            "scored_by": metadata.get("scored_by"),
            "gate": metadata.get("gate"),
        },
    )
    return artifact.model_run_id


def champion_run(connection: Connection, model_name: str) -> ChampionRun | None:
    """The current champion of `model_name`, or None when there is none yet."""
    row = connection.execute(_CHAMPION, {"model_name": model_name}).one_or_none()
    return None if row is None else ChampionRun(*row)


def latest_as_of_date(connection: Connection, model_name: str) -> date | None:
    """The business day of the most recent training of `model_name`, champion or not."""
    return connection.execute(_LATEST_AS_OF, {"model_name": model_name}).scalar_one()


def promote(connection: Connection, model_name: str, model_run_id: str) -> None:
    """Make `model_run_id` the only champion of `model_name`."""
    connection.execute(_PROMOTE, {"model_name": model_name, "model_run_id": model_run_id})


log = logging.getLogger(__name__)

# Models retrain weekly; nights in between score with the champion.
TRAINING_INTERVAL_DAYS = 7


@contextmanager
def engine(url: str) -> Iterator[Engine]:
    """A SQLAlchemy engine (psycopg 3 dialect) for `url`, disposed of afterwards."""
    engine_ = create_engine(sqlalchemy_url(url))
    try:
        yield engine_
    finally:
        engine_.dispose()


def train_if_due(url: str, as_of: date, model_name: str, train: Callable[[str, date], dict[str, Any]],
                 not_enough_data: type[Exception], *, force: bool = False) -> dict[str, Any]:
    """Run `train(url, as_of)` when `force`d or when the model's last run is a week old or more.

    A history too short to train on (`not_enough_data`) fails only while there is no champion
    yet; otherwise the champion keeps scoring and the summary says why nothing was trained.
    """
    with engine(url) as engine_, engine_.connect() as connection:
        last_trained = latest_as_of_date(connection, model_name)
        has_champion = champion_run(connection, model_name) is not None
    if not force and last_trained is not None and (as_of - last_trained).days < TRAINING_INTERVAL_DAYS:
        return {"trained": False, "reason": f"the last {model_name} run is for {last_trained}, less than a week ago"}
    try:
        return {"trained": True, **train(url, as_of)}
    except not_enough_data as missing:
        if not has_champion:
            raise
        log.warning("%s training for %s skipped, the champion keeps scoring: %s", model_name, as_of, missing)
        return {"trained": False, "reason": f"kept the champion: {missing}"}
