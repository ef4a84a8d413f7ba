import json
from pathlib import Path

import numpy as np
import pytest

from models import CATEGORIES
from models.baseline import CATEGORY_TERMS, KeywordBaseline
from models.dataset import DatasetError
from models.evaluate import choose_threshold, evaluate, metrics, read_examples
from models.lexicon import load_lexicon
from models.predict import Classifier

LINES = [
    {"text": "可查户籍 开房 轨迹 秒出 担保 飞机@eval_box", "labels": ["doxxing"], "genre": "telegram"},
    {"text": "出医保记录 就诊记录 精准出 一条600元 薇 eval_med01", "labels": ["medical"]},
    {"text": "代过人脸 活体 人脸解封 包过 飞机@eval_face", "labels": ["biometric"]},
    {"text": "警方提醒:网上能查开房记录的广告都是违法的", "labels": [], "genre": "police_warning"},
    {"text": "法院判处出售产妇信息的护士有期徒刑两年", "labels": [], "genre": "news"},
    {"text": "本院病案室提供病历复印服务,请本人携带身份证办理", "labels": [], "genre": "news"},
]


def write_lines(path: Path, records: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def test_metrics_count_confusion_and_benign_genres() -> None:
    truth = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])
    flagged = np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]])
    result = metrics(flagged, truth, ["a", "b", "news", "news", "guide"])
    assert result["medical"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert result["doxxing"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert result["macro_f1"] == round(1 / 3, 4)
    assert result["confusion"] == {
        "true_offer": 1, "missed_offer": 1, "false_alarm": 1, "true_benign": 2,
    }
    assert result["false_positive_rate"] == round(1 / 3, 4)
    assert result["benign_genres"] == {
        "guide": {"texts": 1, "flagged": 0, "rate": 0.0},
        "news": {"texts": 2, "flagged": 1, "rate": 0.5},
    }


def test_threshold_keeps_the_target_precision() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3])
    truth = np.array([True, True, False, True, False, False])
    assert choose_threshold(scores, truth) == 0.75


def test_evaluate_compares_model_and_baseline(classifier: Classifier, tmp_path: Path) -> None:
    report = evaluate(classifier, write_lines(tmp_path / "eval.jsonl", LINES))
    assert (report["examples"], report["offers"], report["benign"]) == (6, 3, 3)
    assert report["model"]["version"] == classifier.version
    assert report["baseline"]["version"] == "keywords"
    model, baseline = report["model"], report["baseline"]
    assert model["confusion"]["true_offer"] == 3 and model["false_positive_rate"] == 0.0
    # every benign line names a listed service, so the word list flags them all
    assert baseline["false_positive_rate"] == 1.0
    assert set(baseline["benign_genres"]) == {"news", "police_warning"}
    assert model["macro_f1"] > baseline["macro_f1"]


def test_missing_genre_reads_as_unknown_and_bad_lines_name_the_place(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "eval.jsonl", [{"text": "随便一句话", "labels": []}])
    assert read_examples(path)[0].genre == "unknown"
    path.write_text('{"text": "x", "labels": ["weather"]}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"eval.jsonl:1: unknown label"):
        read_examples(path)


def test_baseline_flags_listed_words_even_when_disguised() -> None:
    baseline = KeywordBaseline()
    flags = baseline.flags(["可查 户-籍 开*房", "ＨＥＬＬＯ 人脸解封", "今天天气很好"])
    assert flags.tolist() == [[False, True, False], [False, False, True], [False, False, False]]
    assert baseline.matches("出婚检 和 开房记录") == {"medical": ["婚检"], "doxxing": ["开房记录"]}


def test_baseline_words_are_lexicon_service_terms() -> None:
    services = {term.term for term in load_lexicon() if term.section == "service"}
    assert set(CATEGORY_TERMS) == set(CATEGORIES)
    for category, words in CATEGORY_TERMS.items():
        assert set(words) <= services, category
