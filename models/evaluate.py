"""Decision thresholds and quality metrics from scores of held-out texts.

An analyst's morning digest is only useful if nearly everything in it is a real offer, so each
category's threshold is the one that keeps precision at or above :data:`TARGET_PRECISION`
with the best recall on out-of-fold scores.
"""

from __future__ import annotations

import numpy as np

from models import CATEGORIES

TARGET_PRECISION = 0.95
# Used when no threshold reaches the target precision (or a category has no positives).
FALLBACK_THRESHOLD = 0.5


def choose_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """Return the threshold with the best recall among those with precision >= the target.

    Candidates are midpoints between consecutive distinct scores, so the threshold does not sit
    exactly on a training text's score. Ties in recall go to the highest threshold.
    """
    positives = int(truth.sum())
    if positives == 0:
        return FALLBACK_THRESHOLD
    distinct = np.unique(scores)
    candidates = (distinct[:-1] + distinct[1:]) / 2
    best: tuple[float, float] | None = None  # (recall, threshold)
    for threshold in candidates:
        flagged = scores >= threshold
        hits = int((flagged & truth).sum())
        if hits == 0 or hits / int(flagged.sum()) < TARGET_PRECISION:
            continue
        recall = hits / positives
        if best is None or recall > best[0] or (recall == best[0] and threshold > best[1]):
            best = (recall, float(threshold))
    return FALLBACK_THRESHOLD if best is None else round(best[1], 6)


def category_metrics(flagged: np.ndarray, truth: np.ndarray) -> dict[str, float | int]:
    """Precision, recall and F1 of boolean predictions *flagged* against boolean *truth*."""
    hits = int((flagged & truth).sum())
    predicted, actual = int(flagged.sum()), int(truth.sum())
    precision = hits / predicted if predicted else 0.0
    recall = hits / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": actual,
    }


def evaluate(scores: np.ndarray, truth: np.ndarray, thresholds: dict[str, float]) -> dict:
    """Metrics per category and for ``offer`` (any category flagged vs any label).

    *scores* and *truth* have one column per category in :data:`models.CATEGORIES` order.
    """
    truth = truth.astype(bool)
    limits = np.array([thresholds[category] for category in CATEGORIES])
    flagged = scores >= limits
    metrics = {
        category: category_metrics(flagged[:, column], truth[:, column])
        for column, category in enumerate(CATEGORIES)
    }
    metrics["offer"] = category_metrics(flagged.any(axis=1), truth.any(axis=1))
    return metrics
