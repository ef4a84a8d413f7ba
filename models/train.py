"""Training: fit the pipeline, choose thresholds on out-of-fold scores, record what was done.

Deterministic by construction (fixed folds, a seeded solver, no parallelism): the same data and
seed give the same model, the same metrics and the same version string, so a model version
names exactly one trained model.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold, cross_val_predict

from models import CATEGORIES
from models.classifier import MODEL_FORMAT, build_pipeline, factored_scores, training_targets
from models.dataset import Example, load_dataset, shipped_dataset_path
from models.evaluate import TARGET_PRECISION, choose_threshold, indicator_matrix, metrics
from models.predict import Classifier

FOLDS = 5


def train(dataset: Path | None = None, *, seed: int = 0) -> Classifier:
    """Train a classifier on *dataset* (JSON lines; default: the shipped dataset)."""
    path = dataset or shipped_dataset_path()
    examples = load_dataset(path)
    if len(examples) < 2 * FOLDS:
        raise ValueError(f"{path}: need at least {2 * FOLDS} examples, got {len(examples)}")
    data_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    texts = [example.text for example in examples]
    truth = indicator_matrix(examples)

    folds = KFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    targets = training_targets(truth)
    held_out = factored_scores(cross_val_predict(
        build_pipeline(seed), texts, targets, cv=folds, method="predict_proba"
    ))
    thresholds = {
        category: choose_threshold(held_out[:, column], truth[:, column].astype(bool))
        for column, category in enumerate(CATEGORIES)
    }
    pipeline = build_pipeline(seed).fit(texts, targets)

    metadata = {
        "format": MODEL_FORMAT,
        "seed": seed,
        "thresholds": thresholds,
        "metrics": {
            "method": f"{FOLDS}-fold cross-validation, out-of-fold scores",
            "target_precision": TARGET_PRECISION,
            **metrics(held_out >= _limits(thresholds), truth),
        },
        "training": summarize(examples, data_sha256),
    }
    return Classifier(pipeline, thresholds, model_version(data_sha256, seed), metadata)


def _limits(thresholds: dict[str, float]) -> np.ndarray:
    return np.array([thresholds[category] for category in CATEGORIES])


def summarize(examples: list[Example], data_sha256: str) -> dict:
    """What the model was trained on: sizes per label and genre, and the data's hash."""
    labels = Counter(label for example in examples for label in example.labels)
    return {
        "examples": len(examples),
        "benign": sum(1 for example in examples if not example.labels),
        "labels": {category: labels[category] for category in CATEGORIES},
        "genres": dict(sorted(Counter(example.genre for example in examples).items())),
        "data_sha256": data_sha256,
    }


def model_version(data_sha256: str, seed: int) -> str:
    """``v<format>-<8 hex>``: a hash of the data, the seed and the model format."""
    digest = hashlib.sha256(f"{data_sha256}:{seed}:{MODEL_FORMAT}".encode()).hexdigest()
    return f"v{MODEL_FORMAT}-{digest[:8]}"
