"""The scikit-learn pipeline: canonical text, then word and character n-gram TF-IDF plus offer
cues, then one calibrated linear model per column of what it learns.

It is a plain ``Pipeline`` so that ``cross_validate``, ``cross_val_predict`` and grid search
work on it unchanged. ``fit`` takes a binary indicator matrix, ``predict_proba`` returns one
probability per column. doxwatch fits it *factored* (:func:`training_targets`): one column
per category, in :data:`models.CATEGORIES` order, plus one that says whether the text offers
anything at all; a category's score is the geometric mean of its own probability and the
offer probability (:func:`factored_scores`). The offer column learns from every ad of every
kind against every non-ad, twice the evidence of any one category, and a report that names
a category's records but sells nothing scores low on it. Measured on out-of-fold scores of
the hand-written and real training rows (``benchmarks/model_selection.py``, 5,210 texts):
one model per category alone, offer recall 0.865 with 3.1 % false alarms; factored, 0.892
with 1.4 %.
Word tokens carry the market's vocabulary; character n-grams survive what jieba splits badly
(misspellings, look-alike characters, unknown slang); cue indicators (:func:`cue_tokens`) say
whether the text sells or discusses.

Each category's logistic regression is fitted on all the training data and its scores are
turned into probabilities by a sigmoid fitted on out-of-fold scores (``CalibratedClassifierCV``
with ``ensemble=False``): one coefficient vector explains the decision, and a probability of
0.8 means about 8 in 10 such texts are offers, which a threshold chosen for precision needs.
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from models import CATEGORIES
from models.features import canonical_texts, collapse_digits, cue_tokens, word_analyzer

# Bump when the pipeline's layout or features change (canonical forms included: the version
# hashes data, seed and format, not code): a model saved under another format
# would compute different features, so models.store refuses it.
MODEL_FORMAT = 5
# Character n-grams from single characters up: one character (盒, 档, 料) is evidence where
# jieba cuts a coded or disguised word apart. Measured on out-of-fold scores of the hand-written
# training texts, averaged over three fold seeds (offer recall / false-positive rate): 2–4-grams
# 0.946 / 1.7 %, 1–3-grams 0.951 / 1.25 %, 1–4 and 1–5 no better than 1–3 and slower to fit.
CHAR_NGRAMS = (1, 3)
# Inverse regularisation strength of each logistic regression; tuned by cross-validation on
# the shipped data (see the training metrics in the model metadata).
REGULARISATION_C = 8.0
# Scale of the cue indicators against the L2-normalised TF-IDF blocks. At 1.0 the few cues
# outweighed all the words and the model leaned on them alone. Measured on out-of-fold
# validation scores of the 3,023 training texts (macro F1 / seed-article paragraphs flagged):
# no cues 0.968 / 2, 0.1: 0.975 / 2, 0.2: 0.974 / 1, 0.3: 0.969 / 0, 0.5: 0.968 / 0. 0.3 is the
# smallest weight that keeps every news paragraph benign while the quoted seller texts, taken
# alone, are flagged.
CUE_WEIGHT = 0.3
# Folds of the training data whose out-of-fold scores fit each category's sigmoid.
CALIBRATION_FOLDS = 3


def training_targets(truth: np.ndarray) -> np.ndarray:
    """The indicator matrix the pipeline is fitted on: the categories, then "any offer"."""
    return np.hstack([truth, truth.any(axis=1, keepdims=True)]).astype(int)


def factored_scores(probabilities: np.ndarray) -> np.ndarray:
    """One score per category from the fitted columns: sqrt(P(category) × P(any offer))."""
    categories = len(CATEGORIES)
    return np.sqrt(probabilities[:, :categories] * probabilities[:, categories:categories + 1])


def build_pipeline(seed: int = 0) -> Pipeline:
    """Return an unfitted pipeline; *seed* fixes the solver's and the folds' randomness."""
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer=word_analyzer, sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char",
                    preprocessor=collapse_digits,
                    lowercase=False,
                    ngram_range=CHAR_NGRAMS,
                    min_df=2,
                    sublinear_tf=True,
                ),
            ),
            ("cues", CountVectorizer(analyzer=cue_tokens, binary=True)),
        ],
        transformer_weights={"cues": CUE_WEIGHT},
    )
    model = LogisticRegression(
        C=REGULARISATION_C, class_weight="balanced", solver="liblinear", random_state=seed
    )
    calibrated = CalibratedClassifierCV(
        model,
        method="sigmoid",
        cv=StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed),
        ensemble=False,
    )
    return Pipeline(
        [
            ("canonical", FunctionTransformer(canonical_texts)),
            ("features", features),
            ("classify", OneVsRestClassifier(calibrated)),
        ]
    )
