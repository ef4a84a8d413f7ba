"""Judgements: scores per category, the labels they imply, and the terms behind them."""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.pipeline import Pipeline

from models import CATEGORIES
from models.classifier import factored_scores

# How many terms a judgement explains itself with: enough for an analyst to see why.
MAX_TERMS = 8
# How many of a text's strongest features are considered for those terms; more than enough
# to fill MAX_TERMS after overlapping n-grams (开盒, 开盒师, 盒师) are merged.
_CANDIDATES = 64


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

    def with_threshold_offset(self, offset: float) -> Classifier:
        """This classifier with ``offset`` added to every threshold, kept within [0, 1].

        A deployment's trade of recall for fewer false alarms (or the reverse) without
        retraining; the version stays, since the model is the same. A shallow copy, so
        the explanation weights computed once are shared.
        """
        if not offset:
            return self
        shifted = copy.copy(self)
        shifted.thresholds = {category: min(1.0, max(0.0, threshold + offset))
                              for category, threshold in self.thresholds.items()}
        return shifted

    def predict(self, texts: Sequence[str]) -> list[Judgement]:
        """Judge every text in one vectorised pass."""
        if not texts:
            return []
        features = csr_matrix(self.pipeline[:-1].transform(list(texts)))
        probabilities = factored_scores(
            self.pipeline.named_steps["classify"].predict_proba(features))
        return [
            self._judge(probabilities[row], features, row) for row in range(features.shape[0])
        ]

    def predict_one(self, text: str) -> Judgement:
        return self.predict([text])[0]

    def _judge(self, probabilities: np.ndarray, features: csr_matrix, row: int) -> Judgement:
        scores = {category: float(p) for category, p in zip(CATEGORIES, probabilities, strict=True)}
        labels = tuple(c for c in CATEGORIES if scores[c] >= self.thresholds[c])
        explained = labels or (max(CATEGORIES, key=scores.__getitem__),)
        start, end = features.indptr[row], features.indptr[row + 1]
        terms = self._terms(features.indices[start:end], features.data[start:end], explained)
        return Judgement(labels, scores, bool(labels), terms)

    def _terms(
        self, columns: np.ndarray, values: np.ndarray, categories: tuple[str, ...]
    ) -> tuple[tuple[str, float], ...]:
        """The features with the largest weight × value for *categories*, made readable.

        A term that is part of a stronger one already listed (开盒 inside 开盒师) is left out, so
        the few slots go to different evidence. Only the strongest few dozen candidates are
        looked at by name: a long post has thousands of n-grams.
        """
        contributions = [
            self._weights[category][columns] * values
            for category in categories
            if category in self._weights
        ]
        if not contributions or not len(columns):
            return ()
        strongest = np.max(contributions, axis=0)
        candidates = np.argsort(-strongest, kind="stable")[: _CANDIDATES]
        weights: dict[str, float] = {}
        for index in candidates:
            term, weight = self._terms_by_column[columns[index]], float(strongest[index])
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
    def _weights(self) -> dict[str, np.ndarray]:
        """Per category, each feature's push on the calibrated log-odds of its score.

        A calibrated probability is ``sigmoid(-(a * decision + b))`` with the decision
        ``coef · x``, so feature *j* moves its log-odds by ``-a * coef[j] * x[j]``; a
        category's score is the geometric mean of its own probability and the offer
        column's, so its terms add the pushes of both models.
        """
        estimators = self.pipeline.named_steps["classify"].estimators_
        pushes = [_push(estimator) for estimator in estimators]
        offer = pushes[len(CATEGORIES)]
        return {
            category: push + offer if offer is not None else push
            for category, push in zip(CATEGORIES, pushes, strict=False)
            if push is not None
        }

    @functools.cached_property
    def _terms_by_column(self) -> list[str]:
        names = self.pipeline.named_steps["features"].get_feature_names_out()
        return [_readable(name) for name in names]


def _push(estimator: object) -> np.ndarray | None:
    """Each feature's push on one calibrated model's log-odds; None for a constant predictor
    (a column with no positives in training)."""
    fitted = getattr(estimator, "calibrated_classifiers_", None)
    if not fitted:
        return None
    calibrated = fitted[0]
    return -float(calibrated.calibrators[0].a_) * calibrated.estimator.coef_[0]


def _readable(feature_name: str) -> str:
    """``words__开盒`` -> ``开盒``, ``chars__ #元`` -> ``#元``; ``""`` for bare numbers/space."""
    term = feature_name.split("__", 1)[1].strip()
    return "" if not term.strip("# ") else term
