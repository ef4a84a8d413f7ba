"""Model files: skops, never pickle, plus a sidecar JSON a person or ``monitor`` can read.

A model file may come from anywhere (a colleague, a download), so it is loaded with skops and
an explicit list of trusted types: loading it cannot execute arbitrary code the way a pickle
can. The skops file holds the pipeline and everything needed to rebuild the
:class:`~models.predict.Classifier`; ``<path>.json`` repeats the version, thresholds and metrics
for people and for the model registry, and is not needed to load.

Compatibility: a file whose model format differs from :data:`models.classifier.MODEL_FORMAT`
is refused (its features would not match this code); a file saved under another
scikit-learn version loads with a :class:`ModelVersionWarning`, as scikit-learn itself does.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import sklearn
import skops
import skops.io
from sklearn.pipeline import Pipeline

from models import CATEGORIES
from models.classifier import MODEL_FORMAT
from models.predict import Classifier

# Types our pipelines contain beyond skops' default trusted set (numpy, scipy, scikit-learn
# estimators): the module-level feature functions of models.features, the fitted calibration
# of each category (a linear model and a two-parameter sigmoid) and the seeded folds that
# calibration was fitted on. None of them runs code from the file.
TRUSTED_TYPES = (
    "models.features.canonical_texts",
    "models.features.collapse_digits",
    "models.features.word_analyzer",
    "models.features.cue_tokens",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
)


class ModelFileError(Exception):
    """A model file that is missing, corrupt, untrusted or of another format."""


class ModelVersionWarning(UserWarning):
    """A model file saved under another scikit-learn version: it loads, but check its scores."""


def sidecar_path(path: Path) -> Path:
    """Where the JSON that describes the model at *path* lives."""
    return path.with_name(path.name + ".json")


def describe(classifier: Classifier) -> dict:
    """The sidecar's content: what a person needs to know about a model file."""
    return {
        "version": classifier.version,
        "doxwatch_model_format": MODEL_FORMAT,
        "skops_version": skops.__version__,
        "sklearn_version": sklearn.__version__,
        "categories": list(CATEGORIES),
        "thresholds": classifier.thresholds,
        "metrics": classifier.metadata.get("metrics", {}),
        "training": classifier.metadata.get("training", {}),
    }


def payload(classifier: Classifier) -> dict:
    """What a model file holds: plain data and the fitted pipeline, nothing callable else."""
    return {
        "format": MODEL_FORMAT,
        "version": classifier.version,
        "sklearn_version": sklearn.__version__,
        "thresholds": classifier.thresholds,
        "metadata": classifier.metadata,
        "pipeline": classifier.pipeline,
    }


def save(classifier: Classifier, path: Path) -> None:
    """Write *classifier* to *path* (skops) and its description to ``<path>.json``.

    Both files are written to a temporary name first and renamed, so a crash never leaves a
    half-written model where the next start would load it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    description = describe(classifier)
    content = payload(classifier)
    _write_atomically(path, lambda handle: skops.io.dump(content, handle))
    text = json.dumps(description, ensure_ascii=False, indent=2) + "\n"
    _write_atomically(sidecar_path(path), lambda handle: handle.write(text.encode("utf-8")))


def load(path: Path) -> Classifier:
    """Load the classifier saved at *path*; raise :class:`ModelFileError` if it cannot be."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no model file there")
    try:
        payload = skops.io.load(path, trusted=list(TRUSTED_TYPES))
    except skops.io.exceptions.UntrustedTypesFoundException as error:
        raise ModelFileError(f"{path}: refusing to load untrusted types: {error}") from error
    except Exception as error:  # anything skops cannot decode is a corrupt file
        raise ModelFileError(f"{path}: not a readable skops model file: {error}") from error
    return _classifier_from(payload, path)


def _classifier_from(payload: object, path: Path) -> Classifier:
    if not isinstance(payload, dict) or not isinstance(payload.get("pipeline"), Pipeline):
        raise ModelFileError(f"{path}: a skops file, but not a doxwatch model")
    if payload.get("format") != MODEL_FORMAT:
        raise ModelFileError(
            f"{path}: model format {payload.get('format')!r}, this doxwatch reads format "
            f"{MODEL_FORMAT}; retrain the model"
        )
    if payload.get("sklearn_version") != sklearn.__version__:
        warnings.warn(
            f"{path}: saved with scikit-learn {payload.get('sklearn_version')}, "
            f"running {sklearn.__version__}; scores may differ",
            ModelVersionWarning,
            stacklevel=3,
        )
    thresholds = payload.get("thresholds")
    if not isinstance(thresholds, dict) or set(thresholds) != set(CATEGORIES):
        raise ModelFileError(f"{path}: thresholds missing or not one per category")
    return Classifier(
        payload["pipeline"], thresholds, str(payload.get("version")), payload.get("metadata", {})
    )


def _write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
