"""``doxwatch evaluate``: text and JSON output, model and baseline side by side."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.monitor.cli_helpers import run_cli

# They classify through `monitor`: load the session's model rather than train it.
pytestmark = pytest.mark.usefixtures("classifier")

RECORDS = [
    {"text": "可查户籍 开房 轨迹 秒出 担保 飞机@cli_eval_box", "labels": ["doxxing"],
     "genre": "telegram"},
    {"text": "出医保记录 就诊记录 精准出 一条600元 薇 cli_eval_med", "labels": ["medical"]},
    {"text": "代过人脸 活体 人脸解封 包过 飞机@cli_eval_face", "labels": ["biometric"]},
    {"text": "警方提醒:网上能查开房记录的广告都是违法的", "labels": [], "genre": "police_warning"},
    {"text": "本院病案室提供病历复印服务,请本人携带身份证办理", "labels": [],
     "genre": "hospital_notice"},
]


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS),
                    encoding="utf-8")
    return path


def test_evaluate_prints_model_and_baseline_side_by_side(capsys, data_file: Path) -> None:
    result = run_cli(capsys, "evaluate", "--data", str(data_file))
    assert result.code == 0, result.err
    out = result.out
    assert "5 texts, 3 offers, 2 benign" in out
    assert "keyword baseline" in out
    for row in ("medical", "doxxing", "biometric", "offer", "macro F1", "false-positive rate",
                "police_warning", "hospital_notice"):
        assert row in out, row
    assert "M:F1" in out and "B:F1" in out


def test_evaluate_json_is_one_object_for_machines(capsys, data_file: Path) -> None:
    result = run_cli(capsys, "evaluate", "--data", str(data_file), "--json")
    assert result.code == 0, result.err
    output = json.loads(result.out)
    assert list(output["sets"]) == ["eval"] and output["model"].startswith("v")
    report = output["sets"]["eval"]
    assert report["examples"] == 5
    for side in ("model", "baseline"):
        figures = report[side]
        assert {"medical", "doxxing", "biometric", "offer", "macro_f1", "confusion",
                "false_positive_rate", "benign_genres"} <= figures.keys()
        assert sum(figures["confusion"].values()) == 5
    assert report["baseline"]["confusion"]["false_alarm"] == 2
    assert report["model"]["confusion"]["false_alarm"] == 0


def test_evaluate_defaults_to_every_shipped_evaluation_set(capsys) -> None:
    from models.dataset import evaluation_sets, heldout_dataset_path, load_dataset

    result = run_cli(capsys, "evaluate", "--json")
    assert result.code == 0, result.err
    sets = json.loads(result.out)["sets"]
    assert list(sets) == list(evaluation_sets())
    assert sets["heldout"]["data"] == str(heldout_dataset_path())
    for name, path in evaluation_sets().items():
        assert sets[name]["examples"] == len(load_dataset(path))


def test_evaluate_prints_several_sets_side_by_side(capsys, data_file: Path, tmp_path) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text(data_file.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_cli(capsys, "evaluate", "--data", str(data_file), "--data", str(other))
    assert result.code == 0, result.err
    assert "Every set side by side" in result.out
    assert re.search(r"eval\s+5\s", result.out) and re.search(r"other\s+5\s", result.out)


def test_evaluate_refuses_an_invalid_file_in_one_line(capsys, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n", encoding="utf-8")
    result = run_cli(capsys, "evaluate", "--data", str(path))
    assert result.code == 2
    assert result.err.startswith("Error: ") and "bad.jsonl:1" in result.err
    assert len(result.err.strip().splitlines()) == 1
