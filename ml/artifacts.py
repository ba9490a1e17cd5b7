"""Model artifacts on disk: a joblib file beside a JSON file that says what it is.

Layout: `<PUENTE_ARTIFACTS_DIR>/<model name>/<version>/{model.joblib, metadata.json}`, with
the version `<UTC timestamp to the microsecond>-<first 8 hex digits of the model file's
SHA-256>` (a retraining on the same data within one second makes the same file). An artifact
is written into a hidden folder and renamed into place, so a reader never sees half of one.
Which artifact is the champion is recorded in the warehouse (`ml.model_runs`), not here:
the training and the scoring tasks may run on different workers.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib

from ml import registry
from puente.config import artifacts_dir

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ml.promotion import GateResult

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
LIBRARIES = ("lightgbm", "scikit-learn", "pandas", "numpy", "joblib")
HASH_LENGTH = 8
# What a training run must describe; `save_model` adds the rest of REQUIRED_METADATA.
TRAINING_METADATA = ("data_window", "training_cutoffs", "features", "metrics", "baselines", "row_counts")
REQUIRED_METADATA = ("model_name", "version", "trained_at", "library_versions", *TRAINING_METADATA)


class NoChampion(LookupError):
    """No champion model is registered for a model name."""


@dataclass(frozen=True)
class Artifact:
    """A saved model, where it lives, and its metadata."""

    path: Path
    model: Any
    metadata: dict[str, Any]

    @property
    def model_run_id(self) -> str:
        """The key of this artifact's row in `ml.model_runs`."""
        return f"{self.metadata['model_name']}-{self.metadata['version']}"


def run_metadata(as_of: date, data_window: tuple[date, date], metrics: dict[str, Any],
                 baselines: dict[str, dict[str, Any]], gate: GateResult, row_counts: dict[str, int]) -> dict[str, Any]:
    """What every training run records, JSON-ready: its day, data window, measures and promotion gate."""
    start, end = data_window
    return {
        "as_of_date": as_of.isoformat(),
        "data_window": {"start": start.isoformat(), "end": end.isoformat()},
        "metrics": metrics,
        "baselines": baselines,
        "gate": gate.as_dict(),
        "scored_by": gate.winner,
        "row_counts": row_counts,
    }


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model file depends on."""
    return {"python": platform.python_version(), **{name: installed_version(name) for name in LIBRARIES}}


def save_model(
    model: Any,
    model_name: str,
    metadata: dict[str, Any],
    *,
    root: Path | None = None,
    trained_at: datetime | None = None,
) -> Artifact:
    """Save `model` with `metadata` (which must hold `TRAINING_METADATA`) as a new version."""
    missing = [key for key in TRAINING_METADATA if key not in metadata]
    if missing:
        raise ValueError(f"metadata for {model_name} lacks {missing}; a model is never saved undescribed")
    trained_at = trained_at or datetime.now(UTC)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    model_bytes = buffer.getvalue()
    version = f"{trained_at:%Y%m%dT%H%M%S.%fZ}-{hashlib.sha256(model_bytes).hexdigest()[:HASH_LENGTH]}"
    full_metadata = {
        **metadata,
        "model_name": model_name,
        "version": version,
        "trained_at": trained_at.isoformat(),
        "library_versions": library_versions(),
    }

    folder = (root or artifacts_dir()) / model_name / version
    staging = folder.with_name(f".{version}.partial")
    staging.mkdir(parents=True)
    (staging / MODEL_FILE).write_bytes(model_bytes)
    (staging / METADATA_FILE).write_text(json.dumps(full_metadata, indent=2, sort_keys=True) + "\n")
    staging.rename(folder)
    return Artifact(path=folder, model=model, metadata=full_metadata)


def load_model(path: Path | str) -> Artifact:
    """Load the artifact saved in the folder `path`."""
    folder = Path(path)
    metadata = json.loads((folder / METADATA_FILE).read_text())
    return Artifact(path=folder, model=joblib.load(folder / MODEL_FILE), metadata=metadata)


def load_champion(connection: Connection, model_name: str) -> Artifact:
    """Load the artifact of the champion run of `model_name` registered in `ml.model_runs`."""
    champion = registry.champion_run(connection, model_name)
    if champion is None:
        raise NoChampion(
            f"no {model_name} model is marked champion in ml.model_runs: train one first "
            "(train_churn for churn, which the nightly DAG's ml.train_churn task runs)."
        )
    return load_model(champion.artifact_path)
