"""Model artifacts: complete metadata, and a round trip that scores the same."""

from __future__ import annotations

import json
import pickle
import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from ml.artifacts import LIBRARIES, METADATA_FILE, REQUIRED_METADATA, load_model, save_model
from ml.churn.features import FEATURE_COLUMNS, build_features, cutoff_after
from ml.churn.model import ROBUST_INPUTS, RobustLogistic, robust_inputs
from ml.churn.score import score_customers

TRAINED_AT = datetime(2024, 7, 1, 3, 15, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def saved(trained, tmp_path_factory):
    root = tmp_path_factory.mktemp("artifacts")
    return save_model(trained.model, "churn", trained.metadata(), root=root, trained_at=TRAINED_AT)


def test_metadata_is_complete(saved, trained):
    metadata = json.loads((saved.path / METADATA_FILE).read_text())

    assert set(REQUIRED_METADATA) <= set(metadata)
    assert metadata["model_name"] == "churn"
    assert re.fullmatch(r"20240701T031502\.000000Z-[0-9a-f]{8}", metadata["version"])
    assert saved.path.name == metadata["version"]
    assert metadata["features"] == list(FEATURE_COLUMNS)
    assert set(metadata["library_versions"]) == {"python", *LIBRARIES}
    assert metadata["metrics"] == trained.metrics
    assert metadata["baselines"]["recency"] == trained.baselines["recency"]
    assert metadata["data_window"] == {"start": "2022-01-01", "end": "2024-06-30"}
    assert metadata["training_cutoffs"][-1] == metadata["evaluation_cutoff"] == "2024-04-02"
    assert metadata["row_counts"]["evaluation_rows"] == trained.metrics["customers"]


def test_the_same_model_saved_twice_in_one_second_gets_two_versions(saved, trained):
    again = save_model(trained.model, "churn", trained.metadata(), root=saved.path.parent.parent,
                       trained_at=TRAINED_AT.replace(microsecond=1))

    assert again.path != saved.path and again.path.is_dir() and saved.path.is_dir()
    assert again.metadata["version"].split("-")[1] == saved.metadata["version"].split("-")[1]


def test_a_loaded_model_scores_exactly_as_the_saved_one(saved, orders, as_of):
    loaded = load_model(saved.path)

    assert loaded.metadata == saved.metadata
    assert loaded.model_run_id == f"churn-{saved.metadata['version']}"
    pd.testing.assert_frame_equal(
        score_customers(loaded.model, orders, as_of), score_customers(saved.model, orders, as_of)
    )


def test_a_regression_saved_before_the_cancelled_share_still_scores(orders, as_of):
    """Such an artifact holds eight coefficients and no `inputs`: it scores on its own eight inputs."""
    old = object.__new__(RobustLogistic)
    old.__dict__.update(mean=np.zeros(8), scale=np.ones(8), coefficients=np.arange(8.0), intercept=0.5)
    loaded = pickle.loads(pickle.dumps(old))
    features = build_features(orders, cutoff_after(as_of))

    eight = [name for name in ROBUST_INPUTS if name != "cancelled_share"]
    expected = robust_inputs(features).loc[:, eight].to_numpy() @ np.arange(8.0) + 0.5
    np.testing.assert_allclose(loaded.raw_score(features), expected)
    assert list(loaded.contributions(features).columns) == list(loaded.inputs) and len(loaded.inputs) == 8


def test_the_same_training_gives_the_same_version_hash(trained, orders, as_of, tmp_path):
    from ml.churn.train import train_churn_model

    again = train_churn_model(orders, as_of)
    first = save_model(trained.model, "churn", trained.metadata(), root=tmp_path / "a", trained_at=TRAINED_AT)
    second = save_model(again.model, "churn", again.metadata(), root=tmp_path / "b", trained_at=TRAINED_AT)

    assert first.metadata["version"] == second.metadata["version"]


def test_a_model_without_its_training_facts_is_not_saved(trained, tmp_path):
    metadata = trained.metadata()
    del metadata["baselines"]

    with pytest.raises(ValueError, match="baselines"):
        save_model(trained.model, "churn", metadata, root=tmp_path)
    assert not any(tmp_path.iterdir())
