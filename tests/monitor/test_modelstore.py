"""The model in force: an active model whose file no longer loads is replaced, not fatal."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import skops.io
from sqlalchemy import select, update

from models import store
from models.predict import Classifier
from models.store import load
from monitor import modelstore
from monitor.db import open_database
from monitor.db.schema import ModelRecord
from tests.monitor.cli_helpers import run_cli, write_config

OFFER = "可cx 户籍 开房 轨迹 机主 秒出 担保交易 飞机@lookup_king 价格私聊"
BENIGN = "周六早上八点在公园门口集合，骑行四十公里，记得带水和头盔。"


def _older_format(classifier: Classifier, path: Path) -> None:
    """A file as an earlier doxwatch wrote it: a real pipeline, an older model format."""
    with path.open("wb") as handle:
        skops.io.dump({**store.payload(classifier), "format": 3}, handle)


def _damaged(classifier: Classifier, path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 cut short by a full disk")


def _deleted(classifier: Classifier, path: Path) -> None:
    path.unlink(missing_ok=True)


def _make_active(db_url: str, version: str, path: Path) -> None:
    """Record ``version`` at ``path`` as the model in force, as an earlier release left it."""
    db = open_database(db_url)
    with db.session() as session:
        session.execute(update(ModelRecord).values(active=False))
        session.add(ModelRecord(version=version, created_at=datetime.now(UTC), path=str(path),
                                training_summary={}, metrics={}, active=True))
    db.dispose()


@pytest.mark.parametrize("spoil", [_older_format, _damaged, _deleted])
def test_an_unloadable_active_model_is_replaced_with_one_line_said(
        capsys, tmp_path, classifier, spoil):
    db_url = f"sqlite:///{tmp_path / 'watch.db'}"
    path = tmp_path / "v3-0ld0f0rm.skops"
    spoil(classifier, path)
    _make_active(db_url, "v3-0ld0f0rm", path)

    status = run_cli(capsys, "--db", db_url, "status")
    assert status.code == 0
    assert "Active model: v3-0ld0f0rm DOES NOT LOAD:" in status.out

    judged = run_cli(capsys, "--db", db_url, "classify", OFFER)
    assert judged.code == 0, judged.err
    assert "OFFER" in judged.out
    warning = [line for line in judged.err.splitlines() if line]
    assert len(warning) == 1, judged.err
    assert re.fullmatch(
        rf"WARNING: the active model v3-0ld0f0rm cannot be loaded \(.+\); model "
        rf"{classifier.version}, trained from the shipped data, is active now", warning[0])

    after = run_cli(capsys, "--db", db_url, "status")
    assert f"Active model: {classifier.version} (loads)" in after.out
    quiet = run_cli(capsys, "--db", db_url, "classify", BENIGN)
    assert quiet.code == 0 and quiet.err == ""  # said once, not on every command


def test_a_damaged_file_of_the_shipped_version_is_written_anew(
        tmp_path, classifier, monkeypatch):
    """Recovery that finds the expected file damaged trains again and replaces the file, so
    the next process loads it instead of recovering again."""
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("DOXWATCH_MODELS_DIR", str(models))
    monkeypatch.setattr(modelstore, "_cache", {})
    trained = []
    monkeypatch.setattr(modelstore, "train", lambda: trained.append(1) or classifier)
    path = models / f"{classifier.version}.skops"
    path.write_bytes(b"not a model")
    db_url = f"sqlite:///{tmp_path / 'watch.db'}"
    _make_active(db_url, classifier.version, path)

    db = open_database(db_url)
    try:
        assert modelstore.active_classifier(db).version == classifier.version
        assert trained == [1]
        assert load(path).version == classifier.version
        with db.session() as session:
            record = session.scalar(select(ModelRecord).where(ModelRecord.active.is_(True)))
            assert record.version == classifier.version and record.path == str(path)
    finally:
        db.dispose()


def test_threshold_offset_is_applied(capsys, tmp_path, classifier):
    """-1 puts every threshold at 0: everything is flagged; the model itself is unchanged."""
    config = str(write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "sqlite:///{tmp_path / 'watch.db'}"
[model]
threshold_offset = -1
"""))
    anything = run_cli(capsys, "--config", config, "classify", BENIGN)
    assert anything.code == 0 and "OFFER" in anything.out
    plain = run_cli(capsys, "--db", f"sqlite:///{tmp_path / 'other.db'}", "classify", BENIGN)
    assert "benign" in plain.out
    assert classifier.predict_one(BENIGN).is_offer is False
