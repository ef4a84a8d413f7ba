"""Which classifier is in force, and where its file lives.

The model table says which version is active; the file sits in the data directory.
With no model at all, the first use trains one from the shipped dataset (seconds)
so that a fresh install works without a separate training step.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update

from models.dataset import shipped_dataset_path
from models.predict import Classifier
from models.store import ModelFileError, load, save
from models.train import model_version, train
from monitor.db import Database
from monitor.db.schema import ModelRecord
from monitor.errors import DoxwatchError, UsageProblem
from monitor.paths import models_dir

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


def active_classifier(db: Database) -> Classifier:
    """The active classifier, loaded once per process; trained on first use."""
    with _lock:
        with db.session() as session:
            record = session.scalar(select(ModelRecord).where(ModelRecord.active.is_(True)))
            path = Path(record.path) if record else None
        if path is None:
            return _bootstrap(db)
        key = str(path)
        if key not in _cache:
            try:
                _cache[key] = load(path)
            except ModelFileError as error:
                raise DoxwatchError(f"cannot load the active model: {error}") from error
        return _cache[key]


def _bootstrap(db: Database) -> Classifier:
    """Train from the shipped data, or reuse a file trained from the same data before."""
    classifier = _reuse_shipped() or train()
    path = _model_path(classifier.version)
    if not path.exists():
        save(classifier, path)
    record_model(db, classifier, path, activate=True)
    _cache[str(path)] = classifier
    return classifier


def _reuse_shipped() -> Classifier | None:
    """A model file in the models directory trained from the very same shipped data.

    Training is deterministic and the version is a hash of the data, so a file of the
    expected version is the model training would produce; loading it saves seconds on
    every fresh database (the demo, tests).
    """
    data_sha256 = hashlib.sha256(shipped_dataset_path().read_bytes()).hexdigest()
    path = _model_path(model_version(data_sha256, seed=0))
    if not path.exists():
        return None
    try:
        return load(path)
    except ModelFileError:
        return None


def _model_path(version: str) -> Path:
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
