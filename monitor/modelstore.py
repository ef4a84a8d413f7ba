"""Which classifier is in force, and where its file lives.

The model table says which version is active; the file sits in the data directory.
With no model at all, the first use trains one from the shipped dataset (seconds)
so that a fresh install works without a separate training step; an active model whose
file no longer loads is replaced the same way, with a warning, rather than stopping
every later classification.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update

from models.dataset import shipped_dataset_path
from models.predict import Classifier
from models.store import ModelFileError, load, save
from models.train import model_version, train
from monitor.config import Config
from monitor.db import Database
from monitor.db.schema import ModelRecord
from monitor.errors import DoxwatchError, UsageProblem
from monitor.paths import models_dir

log = logging.getLogger("doxwatch.models")
_cache: dict[str, Classifier] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ModelInfo:
    version: str
    created_at: datetime
    active: bool
    path: str
    metrics: dict
    training_summary: dict


def active_classifier(db: Database, threshold_offset: float = 0.0) -> Classifier:
    """The active classifier, loaded once per process; trained on first use.

    An active model whose file no longer loads (deleted, damaged, or saved in an older
    model format) does not stop classification: a model is trained from the shipped data
    as on a fresh install, made active, and one warning line says what happened.
    ``threshold_offset`` (``[model] threshold_offset``) is added to every threshold.
    """
    with _lock:
        active = _active_record(db)
        if active is None:
            classifier = _bootstrap(db)
        else:
            version, path = active
            classifier = _cache.get(str(path)) or _load_or_recover(db, version, path)
        return classifier.with_threshold_offset(threshold_offset)


def _load_or_recover(db: Database, version: str, path: Path) -> Classifier:
    try:
        classifier = load(path)
    except ModelFileError as error:
        classifier = _bootstrap(db)
        log.warning("the active model %s cannot be loaded (%s); model %s, trained from the "
                    "shipped data, is active now", version, _one_line(error),
                    classifier.version)
        return classifier
    _cache[str(path)] = classifier
    return classifier


def check_active_model(db: Database) -> tuple[str | None, str | None]:
    """(the active version, why its file does not load); (None, None) before the first use.

    For ``doxwatch status``: it loads the file but changes nothing, recovery is left to
    the next command that classifies.
    """
    active = _active_record(db)
    if active is None:
        return None, None
    version, path = active
    if str(path) in _cache:
        return version, None
    try:
        load(path)
    except ModelFileError as error:
        return version, _one_line(error)
    return version, None


def configured_classifier(config: Config, db: Database) -> Classifier:
    """The active classifier with the configuration's ``[model] threshold_offset``."""
    return active_classifier(db, config.model.threshold_offset)


def _active_record(db: Database) -> tuple[str, Path] | None:
    """(version, file) of the model in force, None before the first use."""
    with db.session() as session:
        record = session.scalar(select(ModelRecord).where(ModelRecord.active.is_(True)))
        return (record.version, Path(record.path)) if record else None


def _bootstrap(db: Database) -> Classifier:
    """Train from the shipped data, or reuse a file trained from the same data before.

    Training is deterministic and the version is a hash of the data, so a file of the
    expected version is the model training would produce; loading it saves seconds on
    every fresh database (the demo, tests). A file there that does not load is replaced.
    """
    path = model_path(_shipped_version())
    try:
        classifier = load(path)
    except ModelFileError:
        classifier = train()
        save(classifier, path)
    record_model(db, classifier, path, activate=True)
    _cache[str(path)] = classifier
    return classifier


def _shipped_version() -> str:
    data_sha256 = hashlib.sha256(shipped_dataset_path().read_bytes()).hexdigest()
    return model_version(data_sha256, seed=0)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def model_path(version: str) -> Path:
    return models_dir() / f"{version}.skops"


def record_model(db: Database, classifier: Classifier, path: Path, *, activate: bool) -> None:
    with db.session() as session:
        record = session.scalar(
            select(ModelRecord).where(ModelRecord.version == classifier.version)
        )
        if record is None:
            record = ModelRecord(
                version=classifier.version,
                created_at=datetime.now(UTC),
                path=str(path),
                training_summary=classifier.metadata.get("training", {}),
                metrics=classifier.metadata.get("metrics", {}),
                active=False,
            )
            session.add(record)
            session.flush()
        if activate:
            session.execute(update(ModelRecord).values(active=False))
            record.active = True


def list_models(db: Database) -> list[ModelInfo]:
    with db.session() as session:
        rows = session.scalars(select(ModelRecord).order_by(ModelRecord.created_at)).all()
        return [
            ModelInfo(r.version, r.created_at, r.active, r.path, r.metrics or {},
                      r.training_summary or {})
            for r in rows
        ]


def activate(db: Database, version: str) -> ModelInfo:
    """Make VERSION the model in force; its file must load, or nothing changes."""
    with db.session() as session:
        record = session.scalar(select(ModelRecord).where(ModelRecord.version == version))
        if record is None:
            known = ", ".join(session.scalars(select(ModelRecord.version)).all()) or "none"
            raise UsageProblem(f"no model version {version!r}; known: {known}")
        path = Path(record.path)
    try:
        classifier = load(path)
    except ModelFileError as error:
        raise DoxwatchError(f"model {version} cannot be activated: {error}") from error
    with _lock:
        _cache[str(path)] = classifier
    record_model(db, classifier, path, activate=True)
    return next(m for m in list_models(db) if m.version == version)
