"""Training: fit the pipeline, choose thresholds on out-of-fold scores, record what was done.

Deterministic by construction (fixed folds, a seeded solver, no parallelism): the same data and
seed give the same model, the same metrics and the same version string, so a model version
names exactly one trained model.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

from models import CATEGORIES
from models.classifier import MODEL_FORMAT, build_pipeline, factored_scores, training_targets
from models.dataset import Example, load_dataset, shipped_dataset_path
from models.evaluate import TARGET_PRECISION, choose_threshold, indicator_matrix, metrics
from models.predict import Classifier

FOLDS = 5


# Called after each fit with (fits done, fits in all): one per fold, then the final fit.
Progress = Callable[[int, int], None]


def train(dataset: Path | None = None, *, seed: int = 0,
          progress: Progress | None = None) -> Classifier:
    """Train a classifier on *dataset* (JSON lines; default: the shipped dataset)."""
    path = dataset or shipped_dataset_path()
    examples = load_dataset(path)
    if len(examples) < 2 * FOLDS:
        raise ValueError(f"{path}: need at least {2 * FOLDS} examples, got {len(examples)}")
    return train_examples(examples, hashlib.sha256(path.read_bytes()).hexdigest(), seed=seed,
                          progress=progress)


def train_examples(examples: Sequence[Example], data_sha256: str, *, seed: int = 0,
                   progress: Progress | None = None, summary: dict | None = None) -> Classifier:
    """Train on *examples*, whose content hashes to *data_sha256* (the version names it).

    ``summary`` adds to the training summary the model keeps (what the data was made of).
    The folds are fitted one by one rather than by ``cross_val_predict`` so that a
    progress bar can follow them; the scores are the same.
    """
    texts = [example.text for example in examples]
    truth = indicator_matrix(examples)
    targets = training_targets(truth)
    fits = FOLDS + 1
    out_of_fold = np.zeros(targets.shape)
    for done, (fit_rows, score_rows) in enumerate(
            KFold(n_splits=FOLDS, shuffle=True, random_state=seed).split(texts), start=1):
        fold = build_pipeline(seed).fit([texts[i] for i in fit_rows], targets[fit_rows])
        out_of_fold[score_rows] = fold.predict_proba([texts[i] for i in score_rows])
        if progress:
            progress(done, fits)
    held_out = factored_scores(out_of_fold)
    thresholds = {
        category: choose_threshold(held_out[:, column], truth[:, column].astype(bool))
        for column, category in enumerate(CATEGORIES)
    }
    pipeline = build_pipeline(seed).fit(texts, targets)
    if progress:
        progress(fits, fits)

    metadata = {
        "format": MODEL_FORMAT,
        "seed": seed,
        "thresholds": thresholds,
        "metrics": {
            "method": f"{FOLDS}-fold cross-validation, out-of-fold scores",
            "target_precision": TARGET_PRECISION,
            **metrics(held_out >= _limits(thresholds), truth),
        },
        "training": {**summarize(examples, data_sha256), **(summary or {})},
    }
    return Classifier(pipeline, thresholds, model_version(data_sha256, seed), metadata)


def _limits(thresholds: dict[str, float]) -> np.ndarray:
    return np.array([thresholds[category] for category in CATEGORIES])


def summarize(examples: Sequence[Example], data_sha256: str) -> dict:
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
