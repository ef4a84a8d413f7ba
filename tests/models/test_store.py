import json
import os
import zipfile
from pathlib import Path

import pytest
import skops.io

from models import CATEGORIES, store
from models.classifier import MODEL_FORMAT
from models.predict import Classifier
from models.store import ModelFileError, ModelVersionWarning, load, save, sidecar_path

TEXTS = ["开盒 户籍 秒出 飞机@store_test", "病历复印请到病案室", "代过人脸 活体 v:store_face"]


def payload(classifier: Classifier, **changes: object) -> dict:
    """What save() writes, with *changes*: to craft files save() would never write."""
    return {**store.payload(classifier), **changes}


def test_round_trip_gives_identical_judgements(classifier: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "models" / "model.skops"
    save(classifier, path)
    loaded = load(path)
    assert loaded.version == classifier.version
    assert loaded.thresholds == classifier.thresholds
    assert loaded.metadata == classifier.metadata
    assert loaded.predict(TEXTS) == classifier.predict(TEXTS)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.skops", "model.skops.json"]


def test_sidecar_describes_the_model(classifier: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    save(classifier, path)
    sidecar = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    assert sidecar["version"] == classifier.version
    assert sidecar["doxwatch_model_format"] == MODEL_FORMAT
    assert sidecar["skops_version"] == skops.__version__
    assert sidecar["categories"] == list(CATEGORIES)
    assert sidecar["thresholds"] == classifier.thresholds
    assert sidecar["metrics"]["offer"]["precision"] > 0


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no model file"):
        load(tmp_path / "absent.skops")


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04garbage"])
def test_corrupt_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a readable skops model file"):
        load(path)


def test_zip_that_is_not_skops_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", "{}")
    with pytest.raises(ModelFileError, match="not a readable skops model file"):
        load(path)


def test_file_with_an_untrusted_type_is_refused(classifier: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    skops.io.dump(payload(classifier, hook=os.system), path)
    with pytest.raises(ModelFileError, match="untrusted types.*system"):
        load(path)


def test_skops_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    skops.io.dump({"format": MODEL_FORMAT, "pipeline": [1, 2, 3]}, path)
    with pytest.raises(ModelFileError, match="not a doxwatch model"):
        load(path)


def test_other_model_format_is_refused(classifier: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    skops.io.dump(payload(classifier, format=MODEL_FORMAT + 1), path)
    with pytest.raises(ModelFileError, match="retrain"):
        load(path)


def test_other_sklearn_version_loads_with_a_warning(classifier: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    skops.io.dump(payload(classifier, sklearn_version="0.1.0"), path)
    with pytest.warns(ModelVersionWarning, match="scikit-learn 0.1.0"):
        loaded = load(path)
    assert loaded.predict(TEXTS) == classifier.predict(TEXTS)
