"""Labels in and out of doxwatch, so teams can move them between labelling tools.

Formats: ``jsonl`` (ours, one label per line), ``csv`` (the same columns, for
spreadsheets), ``doccano`` (doccano's text-classification JSON lines: ``text`` and a
``label`` list). Each exported line is one analyst's latest label of one post.

Import finds each line's post by ``post_id`` when the file has one, else by its text (the
same normalised-text hash ingest uses). It checks every line before storing any: a file
with a bad line is reported line by line and nothing is imported. Importing a file twice
stores nothing the second time: a line equal to the analyst's latest label of that post is
left out.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from models import CATEGORIES
from models.extract import mask_personal_data
from monitor.db import Database
from monitor.db.schema import Label, Post
from monitor.errors import UsageProblem
from monitor.ingest import MAX_TEXT_CHARS, text_hash
from monitor.labels import latest_label_ids

FORMATS = ("jsonl", "csv", "doccano")
CSV_COLUMNS = ("post_id", "analyst", "labels", "note", "created_at", "text")
# A spreadsheet runs a cell that starts with one of these as a formula; scraped text is
# hostile, so such a cell is written with a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@")


@dataclass(frozen=True)
class ExportedLabel:
    post_id: int
    analyst: str
    labels: tuple[str, ...]
    note: str | None
    created_at: datetime
    text: str


@dataclass(frozen=True)
class ImportReport:
    imported: int
    unchanged: int
    errors: list[str]


def exported_labels(db: Database) -> list[ExportedLabel]:
    """Each analyst's latest label of each post, by post then analyst."""
    with db.session() as session:
        newest = latest_label_ids()
        rows = session.execute(
            select(Label, Post.text).join(newest, newest.c.id == Label.id)
            .join(Post, Post.id == Label.post_id).order_by(Label.post_id, Label.analyst)
        ).all()
        return [ExportedLabel(label.post_id, label.analyst, tuple(label.labels), label.note,
                              label.created_at, text) for label, text in rows]


def render(labels: Iterable[ExportedLabel], fmt: str) -> str:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for label in labels:
            writer.writerow([_cell(str(value)) for value in (
                label.post_id, label.analyst, ";".join(label.labels), label.note or "",
                label.created_at.isoformat(), label.text)])
        return buffer.getvalue()
    return "".join(json.dumps(_record(label, fmt), ensure_ascii=False) + "\n" for label in labels)


def _record(label: ExportedLabel, fmt: str) -> dict[str, Any]:
    if fmt == "doccano":
        return {"text": label.text, "label": list(label.labels), "post_id": label.post_id,
                "analyst": label.analyst, "note": label.note}
    return {"post_id": label.post_id, "analyst": label.analyst, "labels": list(label.labels),
            "note": label.note, "created_at": label.created_at.isoformat(), "text": label.text}


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _uncell(value: str) -> str:
    """The value ``_cell`` neutralised, as it was."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS) else value


@dataclass(frozen=True)
class _Line:
    number: int
    post_id: int | None
    text: str | None
    analyst: str | None
    labels: tuple[str, ...]
    note: str | None


def import_labels(db: Database, content: str, fmt: str, default_analyst: str) -> ImportReport:
    """Check every line, then store the new labels in one transaction, or none."""
    if fmt not in FORMATS:
        raise UsageProblem(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    lines, errors = [], []
    for number, record in _records(content, fmt):
        try:
            lines.append(_line(number, record, fmt))
        except ValueError as error:
            errors.append(f"line {number}: {error}")
    with db.session() as session:
        resolved = []
        for line in lines:
            post_id = _find_post(session, line)
            if post_id is None:
                errors.append(f"line {line.number}: no stored post has this "
                              + ("post_id" if line.post_id is not None else "text"))
            resolved.append((line, post_id))
        if errors:
            return ImportReport(0, 0, errors)
        imported = unchanged = 0
        for line, post_id in resolved:
            analyst = line.analyst or default_analyst
            latest = session.scalar(select(Label).where(
                Label.post_id == post_id, Label.analyst == analyst).order_by(Label.id.desc()))
            if latest is not None and tuple(latest.labels) == line.labels \
                    and (latest.note or None) == line.note:
                unchanged += 1
                continue
            session.add(Label(post_id=post_id, analyst=analyst, labels=list(line.labels),
                              note=line.note, created_at=datetime.now(UTC)))
            session.flush()
            imported += 1
        return ImportReport(imported, unchanged, [])


def _records(content: str, fmt: str) -> Iterator[tuple[int, object]]:
    """(line number, parsed record); a line that does not parse yields the error text."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(content))
        for record in reader:
            yield reader.line_num, record
        return
    for number, raw in enumerate(content.splitlines(), start=1):
        if raw.strip():
            try:
                yield number, json.loads(raw)
            except json.JSONDecodeError as error:
                yield number, f"not JSON: {error.msg}"


def _line(number: int, record: object, fmt: str) -> _Line:
    if isinstance(record, str):
        raise ValueError(record)
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    if fmt == "csv":
        record = {key: _uncell(value or "") or None for key, value in record.items()}
        labels = [part for part in (record.get("labels") or "").split(";") if part]
        post_id, text, note = _integer(record.get("post_id")), record.get("text"), \
            record.get("note")
    else:
        labels = record.get("label" if fmt == "doccano" else "labels")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ValueError(f"\"{'label' if fmt == 'doccano' else 'labels'}\" must be a list "
                             "of category names")
        post_id, text, note = _integer(record.get("post_id")), record.get("text"), \
            record.get("note")
    unknown = set(labels) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown categories {', '.join(sorted(unknown))}; expected some of "
                         f"{', '.join(CATEGORIES)}")
    if post_id is None and not (isinstance(text, str) and text.strip()):
        raise ValueError("needs a post_id or the post's text")
    analyst = record.get("analyst") or None
    if analyst is not None and not isinstance(analyst, str):
        raise ValueError("\"analyst\" must be a string")
    if note is not None and not isinstance(note, str):
        raise ValueError("\"note\" must be a string")
    ordered = tuple(c for c in CATEGORIES if c in labels)
    return _Line(number, post_id, text, analyst, ordered, note or None)


def _integer(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not str(value).isdigit():
        raise ValueError("\"post_id\" must be a whole number")
    return int(value)


def _find_post(session, line: _Line) -> int | None:
    if line.post_id is not None:
        return line.post_id if session.get(Post, line.post_id) is not None else None
    # stored texts are masked: a tool that kept the victim's number must still find the post
    stored = mask_personal_data(line.text)[:MAX_TEXT_CHARS]
    return session.scalar(select(Post.id).where(Post.text_hash == text_hash(stored))
                          .order_by(Post.id).limit(1))
