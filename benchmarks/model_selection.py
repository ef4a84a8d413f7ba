"""Which model generalises? Out-of-fold figures on the training data only. Run by hand:

    python benchmarks/model_selection.py [--variants current,no-generated] [--folds 5]

The held-out split and the blind set are never read here: a choice made by looking at
them would make their figures flatter the model. Instead each variant is scored the way
training scores itself: K-fold out-of-fold probabilities over ``train.jsonl`` (generated
rows included in the fitting when the variant keeps them), per-category thresholds chosen
on those scores as training does, and the figures taken **on the hand-written and real rows
only** — the generated rows are easy and would flatter every variant.

A variant (``Variant``) names which training rows, which pipeline, which rows choose the
thresholds and for what precision, and whether the model is factored. Each prints offer recall,
the false-positive rate on benign rows, macro F1, and the same per writer (``origin``), so a
gain that comes from one writer's style shows as such.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import Pipeline

from models import CATEGORIES
from models.classifier import build_pipeline, factored_scores, training_targets
from models.dataset import Example, load_dataset
from models.evaluate import TARGET_PRECISION, choose_threshold, indicator_matrix, metrics
from models.extract import mask_handles
from models.features import collapse_digits, word_analyzer

Rows = Callable[[list[Example]], list[Example]]


def _all(examples: list[Example]) -> list[Example]:
    return examples


def _fewer_generated(examples: list[Example]) -> list[Example]:
    """Every other generated row: does the generator's share crowd out the real voices?"""
    generated = [e for e in examples if e.origin == "generated"]
    kept = set(map(id, generated[::2]))
    return [e for e in examples if e.origin != "generated" or id(e) in kept]


def _no_generated(examples: list[Example]) -> list[Example]:
    return [e for e in examples if e.origin != "generated"]


def _masked_words(text: str) -> list[str]:
    return word_analyzer(mask_handles(text))


def _masked_chars(text: str) -> str:
    return collapse_digits(mask_handles(text))


def _handles_masked(seed: int) -> Pipeline:
    """Contact identifiers as one ``<handle>`` word in the word and character views."""
    return build_pipeline(seed).set_params(features__words__analyzer=_masked_words,
                                           features__chars__preprocessor=_masked_chars)


def _tuned(**params: object) -> Callable[[int], Pipeline]:
    """The shipped pipeline with some parameters changed (``set_params`` names)."""
    return lambda seed: build_pipeline(seed).set_params(**params)


@dataclass(frozen=True)
class Variant:
    """What is fitted and how its thresholds are chosen; the defaults are what ships."""

    rows: Rows = _all
    pipeline: Callable[[int], Pipeline] = build_pipeline
    thresholds_on_written: bool = False  # choose them on hand-written rows only
    target: float = TARGET_PRECISION
    factored: bool = True  # an "any offer" column, combined with each category's


VARIANTS: dict[str, Variant] = {
    "current": Variant(),
    "per-category": Variant(factored=False),
    "per-category-precision=0.95": Variant(factored=False, target=0.95),
    "thresholds-on-written": Variant(thresholds_on_written=True),
    "half-generated": Variant(rows=_fewer_generated),
    "no-generated": Variant(rows=_no_generated),
    "handles-masked": Variant(pipeline=_handles_masked),
    "C=2": Variant(pipeline=_tuned(classify__estimator__estimator__C=2.0)),
    "C=32": Variant(pipeline=_tuned(classify__estimator__estimator__C=32.0)),
    "cues=0.6": Variant(pipeline=_tuned(features__transformer_weights={"cues": 0.6})),
    "cues=0.1": Variant(pipeline=_tuned(features__transformer_weights={"cues": 0.1})),
    "chars=1-4": Variant(pipeline=_tuned(features__chars__ngram_range=(1, 4))),
    "precision=0.95": Variant(target=0.95),
    "precision=0.97": Variant(target=0.97),
}


def measure(name: str, examples: list[Example], folds: int, seed: int) -> dict:
    variant = VARIANTS[name]
    chosen = variant.rows(examples)
    texts = [e.text for e in chosen]
    truth = indicator_matrix(chosen)
    fitted = training_targets(truth) if variant.factored else truth
    started = time.perf_counter()
    scores = cross_val_predict(variant.pipeline(seed), texts, fitted, method="predict_proba",
                               cv=KFold(folds, shuffle=True, random_state=seed))
    if variant.factored:
        scores = factored_scores(scores)
    seconds = time.perf_counter() - started
    written = np.array([e.origin != "generated" for e in chosen])
    basis = written if variant.thresholds_on_written else np.ones(len(chosen), dtype=bool)
    thresholds = np.array([choose_threshold(scores[basis, c], truth[basis, c].astype(bool),
                                            variant.target) for c in range(len(CATEGORIES))])
    flagged = scores >= thresholds
    report = {"rows": len(chosen), "scored": int(written.sum()), "seconds": round(seconds, 1),
              "overall": metrics(flagged[written], truth[written])}
    by_origin: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(chosen):
        if written[index]:
            by_origin[example.origin or "unknown"].append(index)
    report["origins"] = {origin: metrics(flagged[idx], truth[idx])
                         for origin, idx in sorted(by_origin.items())}
    return report


def _line(label: str, figures: dict) -> str:
    return (f"  {label:<28} offer R {figures['offer']['recall']:.3f}  "
            f"P {figures['offer']['precision']:.3f}  FP {figures['false_positive_rate']:6.2%}  "
            f"macro F1 {figures['macro_f1']:.3f}  (n={sum(figures['confusion'].values())})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    examples = load_dataset()
    for name in options.variants.split(","):
        report = measure(name, examples, options.folds, options.seed)
        print(f"{name}: {report['rows']} training rows, figures on {report['scored']} "
              f"hand-written/real rows, {report['seconds']} s")
        print(_line("all hand-written and real", report["overall"]))
        for origin, figures in report["origins"].items():
            print(_line(origin, figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
