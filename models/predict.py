"""Judgements: scores per category, the labels they imply, and the terms behind them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.pipeline import Pipeline

from models import CATEGORIES

# How many terms a judgement explains itself with: enough for an analyst to see why.
MAX_TERMS = 8


@dataclass(frozen=True)
class Judgement:
    labels: tuple[str, ...]  # categories whose score >= threshold; () = benign
    scores: dict[str, float]  # one probability per category, all three keys
    is_offer: bool  # bool(labels)
    terms: tuple[tuple[str, float], ...]  # top terms that pushed the decision, (term, weight)


class Classifier:
    """A fitted pipeline with its per-category thresholds.

    ``metadata`` holds the training summary, cross-validated metrics and thresholds; it is
    what ``models.store`` writes next to the model file.
    """

    def __init__(
        self, pipeline: Pipeline, thresholds: dict[str, float], version: str, metadata: dict
    ) -> None:
        self.pipeline = pipeline
        self.thresholds = dict(thresholds)
        self.version = version
        self.metadata = metadata

    def predict(self, texts: Sequence[str]) -> list[Judgement]:
        """Judge every text in one vectorised pass."""
        if not texts:
            return []
        features = csr_matrix(self.pipeline.named_steps["features"].transform(list(texts)))
        probabilities = self.pipeline.named_steps["classify"].predict_proba(features)
        return [
            self._judge(probabilities[row], features.getrow(row))
            for row in range(features.shape[0])
        ]

    def predict_one(self, text: str) -> Judgement:
        return self.predict([text])[0]

    def _judge(self, probabilities: np.ndarray, features: csr_matrix) -> Judgement:
        scores = {category: float(p) for category, p in zip(CATEGORIES, probabilities, strict=True)}
        labels = tuple(c for c in CATEGORIES if scores[c] >= self.thresholds[c])
        explained = labels or (max(CATEGORIES, key=scores.__getitem__),)
        return Judgement(labels, scores, bool(labels), self._terms(features, explained))

    def _terms(
        self, features: csr_matrix, categories: tuple[str, ...]
    ) -> tuple[tuple[str, float], ...]:
        """The features with the largest coefficient × value for *categories*, made readable.

        A term that is part of a stronger one already listed (开盒 inside 开盒师) is left out, so
        the few slots go to different evidence.
        """
        weights: dict[str, float] = {}
        for category in categories:
            coefficients = self._coefficients.get(category)
            if coefficients is None:
                continue
            for column, value in zip(features.indices, features.data, strict=True):
                term = self._terms_by_column[column]
                weight = float(coefficients[column] * value)
                if term and weight > 0 and weight > weights.get(term, 0.0):
                    weights[term] = weight
        chosen: list[tuple[str, float]] = []
        for term, weight in sorted(weights.items(), key=lambda item: (-item[1], item[0])):
            if not any(term in kept for kept, _ in chosen):
                chosen.append((term, round(weight, 4)))
            if len(chosen) == MAX_TERMS:
                break
        return tuple(chosen)

    @functools.cached_property
    def _coefficients(self) -> dict[str, np.ndarray]:
        estimators = self.pipeline.named_steps["classify"].estimators_
        return {
            category: estimator.coef_[0]
            for category, estimator in zip(CATEGORIES, estimators, strict=True)
            if hasattr(estimator, "coef_")  # a category absent from training has no model
        }

    @functools.cached_property
    def _terms_by_column(self) -> list[str]:
        names = self.pipeline.named_steps["features"].get_feature_names_out()
        return [_readable(name) for name in names]


def _readable(feature_name: str) -> str:
    """``words__开盒`` -> ``开盒``, ``chars__ #元`` -> ``#元``; ``""`` for bare numbers/space."""
    term = feature_name.split("__", 1)[1].strip()
    return "" if not term.strip("# ") else term
