import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from models import CATEGORIES
from models.builddata import (
    BLIND,
    HANDWRITTEN,
    HELDOUT_OUTPUT,
    REAL,
    REAL_HELDOUT_OUTPUT,
    TRAIN_OUTPUT,
    WRITERS,
    BuiltData,
    build,
    render,
    split_handwritten,
)
from models.compose_benign import compose_benign
from models.compose_offers import compose_offer
from models.dataset import (
    DatasetError,
    Example,
    heldout_dataset_path,
    load_dataset,
    shipped_dataset_path,
)
from models.normalize import normalize

# Benign genres the issue asks the hand-written texts to cover, and the offer genres.
HARD_NEGATIVE_GENRES = {
    "news", "police_warning", "victim", "hospital_notice", "background_check", "lost_phone",
    "hotel", "hukou_guide", "bank_statement", "spam_other", "buyer", "face_news",
}  # fmt: skip
OFFER_GENRES = {
    "telegram", "forum_title", "forum_post", "tieba_reply", "group_chat", "price_list", "bot_menu",
}  # fmt: skip


@pytest.fixture(scope="module")
def built() -> BuiltData:
    return build()


@pytest.fixture(scope="module")
def handwritten() -> list[Example]:
    return load_dataset(HANDWRITTEN)


def test_shipped_files_are_where_the_dataset_module_says() -> None:
    assert shipped_dataset_path() == TRAIN_OUTPUT
    assert heldout_dataset_path() == HELDOUT_OUTPUT


def test_shipped_dataset_is_large_varied_and_half_benign() -> None:
    train, heldout = load_dataset(), load_dataset(heldout_dataset_path())
    examples = train + heldout
    assert len(examples) >= 3000
    assert sum(1 for example in examples if not example.labels) >= 0.45 * len(examples)
    labels = Counter(label for example in train for label in example.labels)
    assert all(labels[category] >= 300 for category in CATEGORIES)
    assert any(len(example.labels) > 1 for example in train)
    assert len({example.text for example in examples}) == len(examples)


def test_handwritten_texts_are_many_half_hard_negatives_and_cover_every_genre(
    handwritten: list[Example],
) -> None:
    assert len(handwritten) >= 700
    benign = [example for example in handwritten if not example.labels]
    assert sum(1 for example in benign if example.genre in HARD_NEGATIVE_GENRES) >= len(
        handwritten
    ) / 2
    genres = Counter((example.genre, bool(example.labels)) for example in handwritten)
    assert all(genres[(genre, False)] >= 10 for genre in HARD_NEGATIVE_GENRES), genres
    assert all(genres[(genre, True)] >= 10 for genre in OFFER_GENRES), genres
    labels = Counter(label for example in handwritten for label in example.labels)
    assert all(labels[category] >= 50 for category in CATEGORIES)
    assert len({example.text for example in handwritten}) == len(handwritten)


def test_heldout_is_about_a_third_of_every_genre_of_the_handwritten_texts(
    handwritten: list[Example],
) -> None:
    heldout = load_dataset(heldout_dataset_path())
    assert {example.text for example in heldout} <= {example.text for example in handwritten}
    assert 0.25 <= len(heldout) / len(handwritten) <= 0.35
    per_genre = Counter((example.genre, bool(example.labels)) for example in handwritten)
    held_genre = Counter((example.genre, bool(example.labels)) for example in heldout)
    for stratum, count in per_genre.items():
        if count >= 10:
            assert 0.15 <= held_genre[stratum] / count <= 0.45, stratum


def test_heldout_texts_and_their_near_copies_are_never_trained_on() -> None:
    heldout = {normalize(example.text) for example in load_dataset(heldout_dataset_path())}
    train = {normalize(example.text) for example in load_dataset()}
    assert not heldout & train


def test_split_depends_on_the_texts_not_their_order(handwritten: list[Example]) -> None:
    shuffled = list(handwritten)
    random.Random(7).shuffle(shuffled)
    train, heldout = split_handwritten(shuffled)
    _, expected = split_handwritten(handwritten)
    assert {example.text for example in heldout} == {example.text for example in expected}
    assert len(train) + len(heldout) == len(handwritten)


def test_committed_datasets_are_what_the_builder_makes(built: BuiltData) -> None:
    assert TRAIN_OUTPUT.read_text(encoding="utf-8") == render(built.train)
    assert HELDOUT_OUTPUT.read_text(encoding="utf-8") == render(built.heldout)
    assert REAL_HELDOUT_OUTPUT.read_text(encoding="utf-8") == render(built.real_heldout)


def test_every_training_text_says_where_it_comes_from() -> None:
    origins = Counter(example.origin.split(":")[0] for example in load_dataset())
    assert set(origins) == {"handwritten", "generated", "real"}, origins
    writers = {example.origin for example in load_dataset() if example.origin.startswith(
        "handwritten:writer")}
    assert len(writers) >= 4  # several writers, several styles


def test_writers_texts_are_many_and_each_writer_wrote_offers_and_hard_negatives() -> None:
    files = sorted(WRITERS.glob("*.jsonl"))
    written = [example for path in files for example in load_dataset(path)]
    assert len(written) >= 1500
    for path in files:
        examples = load_dataset(path)
        assert {example.origin for example in examples} == {f"handwritten:writer-{path.stem}"}
        offers = sum(1 for example in examples if example.labels)
        assert 0.25 * len(examples) <= offers <= 0.65 * len(examples), path


def test_real_texts_name_their_source_and_half_is_held_out() -> None:
    real = load_dataset(REAL)
    assert len(real) >= 150
    assert all(example.origin == "real" and example.source and example.url
               and example.url.startswith("http") and not example.labels for example in real)
    held = load_dataset(REAL_HELDOUT_OUTPUT)
    assert 0.4 <= len(held) / len(real) <= 0.6
    trained = {normalize(example.text) for example in load_dataset()}
    assert not {normalize(example.text) for example in held} & trained


def test_blind_set_is_large_varied_and_never_trained_on() -> None:
    blind = load_dataset(BLIND)
    assert len(blind) >= 600
    assert all(example.origin.startswith("blind:writer-") for example in blind)
    assert len({example.origin for example in blind}) >= 3
    labels = Counter(label for example in blind for label in example.labels)
    assert all(labels[category] >= 40 for category in CATEGORIES), labels
    assert sum(1 for example in blind if not example.labels) >= 0.4 * len(blind)
    trained = {normalize(example.text) for example in load_dataset()}
    assert not {normalize(example.text) for example in blind} & trained


@pytest.mark.parametrize("compose", [compose_offer, compose_benign])
def test_generator_is_deterministic_and_varied(compose) -> None:
    first = [compose(random.Random(3)) for _ in range(5)]
    again = [compose(random.Random(3)) for _ in range(5)]
    assert first == again
    rng = random.Random(3)
    assert len({compose(rng).text for _ in range(50)}) == 50


def test_generated_texts_cover_every_offer_genre_and_benign_genre(built: BuiltData) -> None:
    generated = [example for example in built.train if example.origin == "generated"]
    offers = {example.genre for example in generated if example.labels}
    assert offers == OFFER_GENRES
    benign = {example.genre for example in generated if not example.labels}
    assert benign >= HARD_NEGATIVE_GENRES


def test_generated_offers_include_disguised_and_contactless_ones(built: BuiltData) -> None:
    offers = [example.text for example in built.train if example.labels]
    assert sum(1 for text in offers if text != normalize(text)) >= len(offers) / 5
    contactless = re.compile(r"^[^@:\n]*(精准出|稳定出|当天出|秒出)[;；][^@:\n]*查$")
    assert sum(1 for text in offers if contactless.match(text)) >= 30


def test_datasets_copy_no_sentence_of_the_seed_articles(
    seeds_dir: Path, handwritten: list[Example]
) -> None:
    span = 20  # units: a Chinese character or a Latin word; longer than any law title

    def units(text: str) -> tuple[str, ...]:
        return tuple(re.findall(r"[A-Za-z0-9]+|\S", text))

    def windows(text: str) -> set[tuple[str, ...]]:
        found = units(text)
        return {found[i : i + span] for i in range(len(found) - span + 1)}

    seeds = set().union(
        *(windows(path.read_text(encoding="utf-8")) for path in seeds_dir.glob("0*.txt"))
    )
    assert seeds
    every_file = [HANDWRITTEN, REAL, BLIND, HELDOUT_OUTPUT, REAL_HELDOUT_OUTPUT, TRAIN_OUTPUT,
                  *WRITERS.glob("*.jsonl")]
    for example in (example for path in every_file for example in load_dataset(path)):
        assert not seeds & windows(example.text), example.text


def test_labels_come_back_in_category_order(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    record = {"text": "户籍 病历", "labels": ["doxxing", "medical"], "genre": "telegram"}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n\n", encoding="utf-8")
    assert load_dataset(path) == [Example("户籍 病历", ("medical", "doxxing"), "telegram")]


def test_origin_source_and_url_are_read_when_given(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    record = {"text": "法院判决", "labels": [], "genre": "court_bulletin", "origin": "real",
              "source": "某法院", "url": "https://example.org/a"}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    [example] = load_dataset(path)
    assert (example.origin, example.source, example.url) == ("real", "某法院",
                                                             "https://example.org/a")
    assert json.loads(render([example])) == record


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
        ('{"text": "x", "labels": [], "genre": "news", "url": 3}', "url must be a non-empty string"),
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
