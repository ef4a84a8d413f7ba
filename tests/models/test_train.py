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
from models.train import train

PROBES = [
    "可查户籍 开房 轨迹 秒出 飞机@probe_cx",
    "医院病案室周一至周五办理病历复印",
    "代过人脸 活体",
]


def test_training_is_deterministic(classifier: Classifier) -> None:
    again = train()
    assert again.version == classifier.version
    assert again.metadata == classifier.metadata
    for first, second in zip(classifier.predict(PROBES), again.predict(PROBES), strict=True):
        assert first.scores == second.scores


def test_version_depends_on_the_data(classifier: Classifier, tmp_path: Path) -> None:
    assert re.fullmatch(rf"v{MODEL_FORMAT}-[0-9a-f]{{8}}", classifier.version)
    lines = shipped_dataset_path().read_text(encoding="utf-8")
    smaller = tmp_path / "smaller.jsonl"
    smaller.write_text("\n".join(lines.splitlines()[:-1]) + "\n", encoding="utf-8")
    assert train(smaller, seed=0).version != classifier.version


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
    examples = load_dataset()
    texts = [example.text for example in examples]
    result = cross_validate(
        build_pipeline(),
        texts,
        indicator_matrix(examples),
        cv=KFold(3, shuffle=True, random_state=0),
        scoring="f1_micro",
    )
    assert np.all(result["test_score"] > 0.85)


def test_too_small_a_dataset_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    path.write_text('{"text": "x", "labels": [], "genre": "news"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="need at least"):
        train(path)
