import json
import re
from collections import Counter
from pathlib import Path

import pytest

from models import CATEGORIES
from models.builddata import OUTPUT, build, render
from models.dataset import DatasetError, Example, load_dataset


def test_shipped_dataset_is_large_varied_and_mostly_benign() -> None:
    examples = load_dataset()
    assert len(examples) >= 600
    labels = Counter(label for example in examples for label in example.labels)
    assert all(labels[category] >= 50 for category in CATEGORIES)
    assert sum(1 for example in examples if not example.labels) >= len(examples) / 2
    assert len({example.genre for example in examples if not example.labels}) >= 8
    assert any(len(example.labels) > 1 for example in examples)
    assert len({example.text for example in examples}) == len(examples)


def test_committed_dataset_is_what_the_builder_makes() -> None:
    assert OUTPUT.read_text(encoding="utf-8") == render(build())


def test_dataset_copies_no_sentence_of_the_seed_articles(seeds_dir: Path) -> None:
    span = 20  # units: a Chinese character or a Latin word; longer than any law title

    def units(text: str) -> tuple[str, ...]:
        return tuple(re.findall(r"[A-Za-z0-9]+|\S", text))

    def windows(text: str) -> set[tuple[str, ...]]:
        found = units(text)
        return {found[i : i + span] for i in range(len(found) - span + 1)}

    seeds = set().union(
        *(windows(path.read_text(encoding="utf-8")) for path in seeds_dir.glob("0*.txt"))
    )
    for example in load_dataset():
        assert not seeds & windows(example.text), example.text


def test_labels_come_back_in_category_order(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    record = {"text": "户籍 病历", "labels": ["doxxing", "medical"], "genre": "telegram"}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n\n", encoding="utf-8")
    assert load_dataset(path) == [Example("户籍 病历", ("medical", "doxxing"), "telegram")]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"text": "x", "labels": []}', "missing field"),
        ('{"text": "x", "labels": [], "genre": "news", "id": 1}', "unknown field"),
        ('{"text": " ", "labels": [], "genre": "news"}', "text must be a non-empty string"),
        ('{"text": "x", "labels": "medical", "genre": "news"}', "labels must be a list"),
        ('{"text": "x", "labels": ["spam"], "genre": "news"}', "unknown label"),
        ('{"text": "x", "labels": [], "genre": ""}', "genre must be a non-empty string"),
    ],
)
def test_invalid_lines_are_reported_with_file_and_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    good = '{"text": "ok", "labels": [], "genre": "news"}'
    path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=re.escape(f"{path}:2: {problem}")):
        load_dataset(path)


def test_missing_or_empty_dataset_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "absent.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no examples"):
        load_dataset(empty)
