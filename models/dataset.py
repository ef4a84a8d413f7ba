"""The labelled dataset: JSON lines ``{"text", "labels", "genre"}``.

``labels`` lists the categories a text offers (empty for a benign text); ``genre`` says what
kind of text it is (``telegram``, ``news``, ``police_warning`` ...) so that the training
summary can show what the model has seen. Two files ship: ``models/data/train.jsonl`` (what
``doxwatch train`` learns from) and ``models/data/heldout.jsonl`` (hand-written texts kept out of
training and threshold choice, so that ``doxwatch evaluate`` measures the model on texts it has
never seen). ``models.builddata`` makes both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from models import CATEGORIES

_FIELDS = {"text", "labels", "genre"}


@dataclass(frozen=True)
class Example:
    text: str
    labels: tuple[str, ...]  # in CATEGORIES order; () = benign
    genre: str


class DatasetError(ValueError):
    """A dataset line that is not a valid example; the message is ``file:line: problem``."""


def shipped_dataset_path() -> Path:
    """Where the training set shipped with doxwatch lives."""
    return _data_file("train.jsonl")


def heldout_dataset_path() -> Path:
    """Where the shipped held-out split lives: evaluation data, never for training."""
    return _data_file("heldout.jsonl")


def _data_file(name: str) -> Path:
    return Path(str(resources.files("models") / "data" / name))


def load_dataset(path: Path | None = None, *, default_genre: str | None = None) -> list[Example]:
    """Read and validate every example in *path* (default: the shipped dataset).

    Blank lines are skipped; any other invalid line raises :class:`DatasetError`. With
    *default_genre*, a line without ``"genre"`` gets it (evaluation files from analysts
    need no genre); the shipped data always names one.
    """
    path = path or shipped_dataset_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read the dataset: {error}") from error
    examples = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            examples.append(parse_example(line, f"{path}:{number}", default_genre))
    if not examples:
        raise DatasetError(f"{path}: the dataset has no examples")
    return examples


def parse_example(line: str, where: str, default_genre: str | None = None) -> Example:
    """Parse one JSON line; *where* (``file:line``) prefixes any error message."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise DatasetError(f"{where}: not valid JSON: {error.msg}") from error
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(record).__name__}")
    if default_genre is not None:
        record.setdefault("genre", default_genre)
    if missing := _FIELDS - record.keys():
        raise DatasetError(f"{where}: missing field(s): {', '.join(sorted(missing))}")
    if unknown := record.keys() - _FIELDS:
        raise DatasetError(f"{where}: unknown field(s): {', '.join(sorted(unknown))}")
    text, labels, genre = record["text"], record["labels"], record["genre"]
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"{where}: text must be a non-empty string")
    if not isinstance(genre, str) or not genre.strip():
        raise DatasetError(f"{where}: genre must be a non-empty string")
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise DatasetError(f"{where}: labels must be a list of strings")
    if unknown_labels := set(labels) - set(CATEGORIES):
        raise DatasetError(
            f"{where}: unknown label(s) {', '.join(sorted(unknown_labels))}; "
            f"expected some of {', '.join(CATEGORIES)}"
        )
    ordered = tuple(category for category in CATEGORIES if category in labels)
    return Example(text=text, labels=ordered, genre=genre)
