"""Labels in and out of doxwatch, so teams can move them between labelling tools.

Formats: ``jsonl`` (ours, one label per line), ``csv`` (the same columns, for
spreadsheets), ``doccano`` (doccano's text-classification JSON lines: ``text`` and a
``label`` list), ``label-studio`` (Label Studio's JSON tasks with annotations, below).
Each exported record is one analyst's latest label of one post.

Import finds each record's post by ``post_id`` when the file has one, else by its text (the
same normalised-text hash ingest uses). It checks every record before storing any: a file
with a bad record is reported record by record (``line 3``, ``task 2 annotation 1``) and
nothing is imported. Importing a file twice stores nothing the second time: a record equal
to the analyst's latest label of that post is left out. For the same reason a file may give
one analyst only one label of a post (what an export holds); a second, different one is
refused, since it would make every later import of that file store something again.

Label Studio
------------
The file is one JSON array of tasks: what Label Studio's "Export → JSON" writes and what
its import reads. doxwatch writes one task per post, and each analyst's latest label of
that post is one annotation of the task, so Label Studio shows a post once with everyone's
view of it::

    [{"data": {"text": "<post text, as stored: masked>", "post_id": 12},
      "annotations": [{"result": [
          {"from_name": "category", "to_name": "text", "type": "choices",
           "value": {"choices": ["medical", "doxxing"]}},
          {"from_name": "note", "to_name": "text", "type": "textarea",
           "value": {"text": ["seen before"]}},
          {"from_name": "analyst", "to_name": "text", "type": "textarea",
           "value": {"text": ["alice"]}}],
        "created_at": "2025-01-01T10:00:00+00:00", "was_cancelled": false}]}]

- ``data.post_id`` is doxwatch's post id, so a file that went through Label Studio and back
  matches its posts exactly; Label Studio keeps every key of ``data``. The task's own
  ``id`` is Label Studio's and is never used to match.
- A benign post is the choice ``benign``: Label Studio has no "chose nothing" result, and an
  annotation without a choice is refused on import rather than guessed to be benign.
  ``benign`` together with a category is refused too.
- The analyst's name is a ``textarea`` result named ``analyst``, because Label Studio keeps
  an annotation's results as they are but drops annotation keys it does not know, and it
  refuses a whole import whose ``completed_by`` is not the id or e-mail of one of its own
  users (doxwatch analysts are not). So doxwatch writes no ``completed_by``: Label Studio
  credits the imported annotations to whoever imports them, and the name stays in the
  result. On import the analyst is that result if there is one, else the e-mail of an
  object ``completed_by`` (``{"id": 3, "email": ...}``, as Label Studio's snapshots
  write it), else, for a bare numeric user id that means nothing outside that Label Studio
  instance, the ``--analyst`` of the import.
- The note is a ``textarea`` result named ``note``, what a ``<TextArea>`` control emits.
- On import every ``choices`` result counts, whatever its control is called; other results,
  ``predictions`` and ``drafts`` are ignored; annotations with ``was_cancelled`` (skipped in
  Label Studio) are left out, and a task with no annotations imports nothing, without
  error.

A Label Studio project that shows and edits exactly this (Settings → Labeling Interface →
Code)::

    <View>
      <Text name="text" value="$text"/>
      <Choices name="category" toName="text" choice="multiple" required="true"
               showInline="true">
        <Choice value="medical"/>
        <Choice value="doxxing"/>
        <Choice value="biometric"/>
        <Choice value="benign"/>
      </Choices>
      <TextArea name="note" toName="text" placeholder="note" maxSubmissions="1"
                editable="true"/>
      <TextArea name="analyst" toName="text" maxSubmissions="1" editable="true"
                placeholder="analyst (empty: your Label Studio account)"/>
    </View>
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import select

from models import CATEGORIES
from models.extract import mask_personal_data
from monitor.db import Database
from monitor.db.schema import Label, Post
from monitor.errors import UsageProblem
from monitor.ingest import MAX_TEXT_CHARS, text_hash
from monitor.labels import latest_label_ids

FORMATS = ("jsonl", "csv", "doccano", "label-studio")
CSV_COLUMNS = ("post_id", "analyst", "labels", "note", "created_at", "text")
# A spreadsheet runs a cell that starts with one of these as a formula; scraped text is
# hostile, so such a cell is written with a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@")
# Label Studio: the names of the labelling config's controls (see the module docstring).
LS_TEXT, LS_CATEGORY, LS_NOTE, LS_ANALYST = "text", "category", "note", "analyst"
BENIGN = "benign"


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
    if fmt == "label-studio":
        return json.dumps(_label_studio_tasks(labels), ensure_ascii=False, indent=2) + "\n"
    return "".join(json.dumps(_record(label, fmt), ensure_ascii=False) + "\n" for label in labels)


def _record(label: ExportedLabel, fmt: str) -> dict[str, Any]:
    if fmt == "doccano":
        return {"text": label.text, "label": list(label.labels), "post_id": label.post_id,
                "analyst": label.analyst, "note": label.note}
    return {"post_id": label.post_id, "analyst": label.analyst, "labels": list(label.labels),
            "note": label.note, "created_at": label.created_at.isoformat(), "text": label.text}


def _label_studio_tasks(labels: Iterable[ExportedLabel]) -> list[dict[str, Any]]:
    """One task per post (labels come by post), so Label Studio shows each post once with
    every analyst's label of it as one annotation."""
    tasks = []
    for post_id, group in groupby(labels, key=lambda label: label.post_id):
        post_labels = list(group)
        tasks.append({"data": {LS_TEXT: post_labels[0].text, "post_id": post_id},
                      "annotations": [_ls_annotation(label) for label in post_labels]})
    return tasks


def _ls_annotation(label: ExportedLabel) -> dict[str, Any]:
    """No ``completed_by``: Label Studio refuses an import that names a user it does not
    have, so the analyst goes in a result, which it keeps as it is."""
    result = [_ls_result(LS_CATEGORY, "choices", list(label.labels) or [BENIGN])]
    if label.note:
        result.append(_ls_result(LS_NOTE, "textarea", [label.note]))
    result.append(_ls_result(LS_ANALYST, "textarea", [label.analyst]))
    return {"result": result, "created_at": label.created_at.isoformat(),
            "was_cancelled": False}


def _ls_result(control: str, kind: str, values: list[str]) -> dict[str, Any]:
    key = "choices" if kind == "choices" else "text"
    return {"from_name": control, "to_name": LS_TEXT, "type": kind, "value": {key: values}}


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _uncell(value: str) -> str:
    """The value ``_cell`` neutralised, as it was."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS) else value


@dataclass(frozen=True)
class _Line:
    place: str  # where in the file, for messages: "line 3", "task 2 annotation 1"
    post_id: int | None
    text: str | None
    analyst: str | None
    labels: tuple[str, ...]
    note: str | None


def import_labels(db: Database, content: str, fmt: str, default_analyst: str) -> ImportReport:
    """Check every record, then store the new labels in one transaction, or none."""
    if fmt not in FORMATS:
        raise UsageProblem(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    lines, errors = _parse(content, fmt)
    with db.session() as session:
        resolved = _resolve(session, lines, default_analyst, errors)
        if errors:
            return ImportReport(0, 0, errors)
        return _store(session, resolved)


def _parse(content: str, fmt: str) -> tuple[list[_Line], list[str]]:
    """The file's records, checked one by one, and the reasons of those that are wrong."""
    lines, errors = [], []
    for place, record in _records(content, fmt):
        try:
            lines.append(_line(place, record, fmt))
        except ValueError as error:
            errors.append(f"{place}: {error}")
    return lines, errors


def _resolve(session, lines: list[_Line], default_analyst: str,
             errors: list[str]) -> list[tuple[_Line, int, str]]:
    """(line, post id, analyst) of each line; adds to ``errors`` the lines whose post is not
    stored, and a second, different label of one post by one analyst, which would make
    every import of the file store something again."""
    resolved, seen = [], {}
    for line in lines:
        post_id = _find_post(session, line)
        if post_id is None:
            errors.append(f"{line.place}: no stored post has this "
                          + ("post_id" if line.post_id is not None else "text"))
            continue
        analyst = line.analyst or default_analyst
        earlier = seen.setdefault((post_id, analyst), line)
        if (earlier.labels, earlier.note) != (line.labels, line.note):
            errors.append(f"{line.place}: {earlier.place} has a different label of post "
                          f"{post_id} by {analyst!r}; a file holds one label per analyst "
                          "and post")
        resolved.append((line, post_id, analyst))
    return resolved


def _store(session, resolved: list[tuple[_Line, int, str]]) -> ImportReport:
    """Add each label that differs from its analyst's latest label of the post."""
    imported = unchanged = 0
    for line, post_id, analyst in resolved:
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


def _records(content: str, fmt: str) -> Iterator[tuple[str, object]]:
    """(place, parsed record); a record that does not parse yields the error text."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(content))
        for record in reader:
            yield f"line {reader.line_num}", record
        return
    if fmt == "label-studio":
        yield from _label_studio_records(content)
        return
    for number, raw in enumerate(content.splitlines(), start=1):
        if raw.strip():
            try:
                yield f"line {number}", json.loads(raw)
            except json.JSONDecodeError as error:
                yield f"line {number}", f"not JSON: {error.msg}"


def _label_studio_records(content: str) -> Iterator[tuple[str, object]]:
    """One record (the jsonl columns) per annotation that was not cancelled, numbered by
    task from 1 as Label Studio lists them."""
    try:
        tasks = json.loads(content)
    except json.JSONDecodeError as error:
        yield "file", f"not JSON: {error.msg} (line {error.lineno})"
        return
    if not isinstance(tasks, list):
        yield "file", "expected a JSON array of tasks, as Label Studio's JSON export writes"
        return
    for number, task in enumerate(tasks, start=1):
        yield from _task_records(f"task {number}", task)


def _task_records(place: str, task: object) -> Iterator[tuple[str, object]]:
    try:
        data, annotations = _task_parts(task)
    except ValueError as error:
        yield place, str(error)
        return
    for number, annotation in enumerate(annotations, start=1):
        if isinstance(annotation, dict) and annotation.get("was_cancelled") is True:
            continue
        try:
            yield f"{place} annotation {number}", _annotation_record(data, annotation)
        except ValueError as error:
            yield f"{place} annotation {number}", str(error)


def _task_parts(task: object) -> tuple[dict[str, Any], list[object]]:
    """The task's ``data`` and its annotations (none is fine: nothing to import)."""
    if not isinstance(task, dict):
        raise ValueError("expected a JSON object (a task)")
    data = task.get("data")
    if not isinstance(data, dict):
        raise ValueError("missing \"data\" (an object with the post's text)")
    if not isinstance(data.get(LS_TEXT), str) or not data[LS_TEXT].strip():
        raise ValueError(f"missing data.{LS_TEXT} (the post's text, $text in the labelling "
                         "config)")
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        raise ValueError("\"annotations\" must be a list")
    return data, annotations


def _annotation_record(data: dict[str, Any], annotation: object) -> dict[str, Any]:
    """The annotation as a jsonl record, so ``_line`` checks it like any other format's."""
    if not isinstance(annotation, dict):
        raise ValueError("expected a JSON object (an annotation)")
    result = annotation.get("result") or []
    if not isinstance(result, list) or not all(isinstance(item, dict) for item in result):
        raise ValueError("\"result\" must be a list of objects")
    analyst = _ls_text(result, LS_ANALYST) or _annotator_email(annotation.get("completed_by"))
    if analyst is not None and "\n" in analyst:
        raise ValueError(f"result {LS_ANALYST!r}: expected one name")
    return {"post_id": data.get("post_id"), "text": data[LS_TEXT], "analyst": analyst,
            "labels": _ls_categories(result), "note": _ls_text(result, LS_NOTE)}


def _ls_categories(result: list[dict[str, Any]]) -> list[str]:
    """The categories chosen; ``benign`` alone is none. Choosing nothing is refused: it is
    a forgotten choice as often as a benign post."""
    chosen = [value for item in result if item.get("type") == "choices"
              for value in _ls_values(item, "choices")]
    if not chosen:
        raise ValueError(f"no choice made; choose {BENIGN} for a benign post")
    unknown = set(chosen) - set(CATEGORIES) - {BENIGN}
    if unknown:
        raise ValueError(f"unknown choices {', '.join(sorted(unknown))}; expected some of "
                         f"{', '.join(CATEGORIES)}, or {BENIGN} alone")
    if BENIGN in chosen and set(chosen) != {BENIGN}:
        raise ValueError(f"{BENIGN} chosen together with a category")
    return [value for value in chosen if value != BENIGN]


def _ls_text(result: list[dict[str, Any]], control: str) -> str | None:
    """What was typed into the ``textarea`` named ``control``, entries joined by lines (as
    typed: a stripped note would differ from the stored one and import again); None if
    nothing was."""
    typed = [value for item in result
             if item.get("type") == "textarea" and item.get("from_name") == control
             for value in _ls_values(item, "text") if value.strip()]
    return "\n".join(typed) or None


def _ls_values(item: dict[str, Any], key: str) -> list[str]:
    """``value[key]`` of a result, which Label Studio always writes as a list of strings."""
    value = item.get("value")
    values = value.get(key) if isinstance(value, dict) else None
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValueError(f"result {item.get('from_name')!r}: value.{key} must be a list of "
                         "strings")
    return values


def _annotator_email(completed_by: object) -> str | None:
    """Label Studio names an annotator by e-mail only in its object form; a bare user id
    means nothing outside that instance, so the import's ``--analyst`` stands in."""
    if isinstance(completed_by, dict) and isinstance(completed_by.get("email"), str):
        return completed_by["email"].strip() or None
    return None


def _line(place: str, record: object, fmt: str) -> _Line:
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
    return _Line(place, post_id, text, analyst, ordered, note or None)


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
