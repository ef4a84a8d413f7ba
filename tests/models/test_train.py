import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import KFold, cross_validate

from models import CATEGORIES
from models.classifier import MODEL_FORMAT, build_pipeline
from models.dataset import load_dataset, shipped_dataset_path
from models.evaluate import indicator_matrix
from models.predict import Classifier
from models.train import model_version, train

PROBES = [
    "可查户籍 开房 轨迹 秒出 飞机@probe_cx",
    "医院病案室周一至周五办理病历复印",
    "代过人脸 活体",
]


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every eighth shipped example: every label and genre, at a fraction of the cost.
    Determinism and versioning are properties of the code, not of the data's size."""
    lines = shipped_dataset_path().read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("data") / "sample.jsonl"
    path.write_text("\n".join(lines[::8]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample_model(sample_data: Path) -> Classifier:
    return train(sample_data)


def test_training_is_deterministic(sample_data: Path, sample_model: Classifier) -> None:
    again = train(sample_data)
    assert again.version == sample_model.version
    assert again.metadata == sample_model.metadata
    for first, second in zip(sample_model.predict(PROBES), again.predict(PROBES), strict=True):
        assert first.scores == second.scores


def test_version_depends_on_the_data(classifier: Classifier, sample_data: Path,
                                     sample_model: Classifier) -> None:
    assert re.fullmatch(rf"v{MODEL_FORMAT}-[0-9a-f]{{8}}", classifier.version)
    data_sha256 = hashlib.sha256(sample_data.read_bytes()).hexdigest()
    assert sample_model.version == model_version(data_sha256, seed=0)
    assert sample_model.version != classifier.version
    assert model_version(data_sha256, seed=1) != sample_model.version


def test_metadata_records_metrics_thresholds_and_data(classifier: Classifier) -> None:
    metadata = classifier.metadata
    assert metadata["thresholds"] == classifier.thresholds
    assert set(classifier.thresholds) == set(CATEGORIES)
    assert all(0 < threshold < 1 for threshold in classifier.thresholds.values())
    for category in (*CATEGORIES, "offer"):
        scores = metadata["metrics"][category]
        assert {"precision", "recall", "f1", "support"} <= scores.keys()
        assert scores["precision"] >= 0.9, (category, scores)
        assert scores["recall"] >= 0.8, (category, scores)
    assert metadata["metrics"]["macro_f1"] >= 0.9
    assert metadata["metrics"]["false_positive_rate"] <= 0.03
    training = metadata["training"]
    assert training["examples"] == len(load_dataset())
    assert re.fullmatch(r"[0-9a-f]{64}", training["data_sha256"])
    assert sum(training["genres"].values()) == training["examples"]


def test_pipeline_works_with_cross_validate_unchanged() -> None:
    examples = load_dataset()[::4]  # a quarter of the data: it is the interface under test
    texts = [example.text for example in examples]
    result = cross_validate(
        build_pipeline(),
        texts,
        indicator_matrix(examples),
        cv=KFold(3, shuffle=True, random_state=0),
        scoring="f1_micro",
    )
    assert np.all(result["test_score"] > 0.8)  # a quarter of the data, many writers' voices


def test_too_small_a_dataset_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    path.write_text('{"text": "x", "labels": [], "genre": "news"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="need at least"):
        train(path)
