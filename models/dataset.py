"""The labelled dataset: JSON lines ``{"text", "labels", "genre"}``, optionally ``"origin"``,
``"source"`` and ``"url"``.

``labels`` lists the categories a text offers (empty for a benign text); ``genre`` says what
kind of text it is (``telegram``, ``news``, ``police_warning`` ...) so that the training
summary can show what the model has seen; ``origin`` says who or what wrote it
(``handwritten:team``, ``handwritten:writer-t2``, ``generated``, ``real``, ``blind:writer-b1``),
and real public text also names its ``source`` and ``url``. ``docs/labelling.md`` is the
guideline every label follows.

Files that ship: ``models/data/train.jsonl`` (what training learns from),
``models/data/heldout.jsonl`` (hand-written texts kept out of training and threshold choice),
``models/data/real_heldout.jsonl`` (real public text kept out likewise) and
``models/data/blind.jsonl`` (texts by writers who never saw the training data; measured once
per model change, never used to train, choose thresholds or pick features).
``models.builddata`` makes the first three.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from models import CATEGORIES

_FIELDS = {"text", "labels", "genre"}
_OPTIONAL_FIELDS = {"origin", "source", "url"}


@dataclass(frozen=True)
class Example:
    text: str
    labels: tuple[str, ...]  # in CATEGORIES order; () = benign
    genre: str
    origin: str = ""  # who or what wrote it; "" when the file does not say
    source: str | None = None  # the publisher of a real text
    url: str | None = None  # where a real text was found


class DatasetError(ValueError):
    """A dataset line that is not a valid example; the message is ``file:line: problem``."""


def shipped_dataset_path() -> Path:
    """Where the training set shipped with doxwatch lives."""
    return _data_file("train.jsonl")


def heldout_dataset_path() -> Path:
    """Where the shipped held-out split lives: evaluation data, never for training."""
    return _data_file("heldout.jsonl")


def evaluation_sets() -> dict[str, Path]:
    """The shipped evaluation files by name, in the order ``doxwatch evaluate`` reports them:
    the held-out split of our own texts, real public text kept out of training, and the
    blind set written by people who never saw the training data."""
    names = {"heldout": "heldout.jsonl", "real": "real_heldout.jsonl", "blind": "blind.jsonl"}
    paths = {name: _data_file(file) for name, file in names.items()}
    return {name: path for name, path in paths.items() if path.is_file()}


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
    if unknown := record.keys() - _FIELDS - _OPTIONAL_FIELDS:
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
    for field in _OPTIONAL_FIELDS & record.keys():
        if not isinstance(record[field], str) or not record[field].strip():
            raise DatasetError(f"{where}: {field} must be a non-empty string")
    ordered = tuple(category for category in CATEGORIES if category in labels)
    return Example(text=text, labels=ordered, genre=genre, origin=record.get("origin", ""),
                   source=record.get("source"), url=record.get("url"))
