"""The scikit-learn pipeline: TF-IDF over words and character n-grams, one linear model per
category.

It is a plain ``Pipeline`` so that ``cross_validate``, ``cross_val_predict`` and grid search
work on it unchanged. ``fit`` takes a binary indicator matrix with one column per category,
in :data:`models.CATEGORIES` order; ``predict_proba`` returns one probability per category.
Word tokens carry the market's vocabulary; character n-grams survive what jieba splits badly
(misspellings, look-alike characters, unknown slang).
"""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

from models.features import prepare, word_analyzer

# Bump when the pipeline's layout or features change: a model saved under another format
# would compute different features, so models.store refuses it.
MODEL_FORMAT = 1
CHAR_NGRAMS = (2, 4)
# Inverse regularisation strength of each logistic regression; tuned by cross-validation on
# the shipped data (see the training metrics in the model metadata).
REGULARISATION_C = 8.0


def build_pipeline(seed: int = 0) -> Pipeline:
    """Return an unfitted pipeline; *seed* fixes the solver's randomness."""
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer=word_analyzer, sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char",
                    preprocessor=prepare,
                    ngram_range=CHAR_NGRAMS,
                    min_df=2,
                    sublinear_tf=True,
                ),
            ),
        ]
    )
    model = LogisticRegression(
        C=REGULARISATION_C, class_weight="balanced", solver="liblinear", random_state=seed
    )
    return Pipeline([("features", features), ("classify", OneVsRestClassifier(model))])
