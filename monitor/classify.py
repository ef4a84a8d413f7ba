"""Judge posts with the active classifier and keep what it found.

Predictions are stored per (post, model version), so a new model re-judges every post
once and an old one never judges the same post twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from models.extract import extract_entities
from models.predict import Classifier, Judgement
from monitor.db import Database
from monitor.db.queries import upsert_insert
from monitor.db.schema import Entity, Post, Prediction
from monitor.ingest import undecodable

BATCH = 256
MAX_INPUT_CHARS = 100_000


@dataclass(frozen=True)
class ClassifyReport:
    model_version: str
    classified: int
    flagged: int


def post_text(post: Post) -> str:
    """What the classifier reads: the title matters as much as the body."""
    return "\n".join(part for part in (post.title, post.text) if part)


def pending_posts(session: Session, version: str, limit: int = BATCH) -> list[Post]:
    """Posts the given model version has not judged yet, oldest first."""
    judged = and_(Prediction.post_id == Post.id, Prediction.model_version == version)
    query = (
        select(Post).outerjoin(Prediction, judged).where(Prediction.id.is_(None))
        .order_by(Post.id).limit(limit)
    )
    return list(session.scalars(query).all())


def classify_pending(db: Database, classifier: Classifier) -> ClassifyReport:
    """Judge every post not yet judged by this model, a batch per transaction."""
    classified = flagged = 0
    while True:
        with db.session() as session:
            posts = pending_posts(session, classifier.version)
            if not posts:
                break
            judgements = classifier.predict([post_text(p) for p in posts])
            for post, judgement in zip(posts, judgements, strict=True):
                if store_judgement(session, post, classifier.version, judgement):
                    flagged += judgement.is_offer
                    classified += 1
    return ClassifyReport(classifier.version, classified, flagged)


def store_judgement(session: Session, post: Post, version: str, judgement: Judgement) -> bool:
    """Store what ``version`` said of ``post`` and, for an offer, its entities; False if
    another process stored that judgement first.

    Two `doxwatch classify` runs (or two crawls finishing in the same minute inside
    `doxwatch run`) may judge the same pending posts at once: every row goes in with
    ``ON CONFLICT DO NOTHING`` on its unique key, so the second writer simply finds the
    work done instead of failing on the constraint.
    """
    dialect = session.get_bind().dialect.name
    stored = session.execute(upsert_insert(dialect, Prediction).values(
        post_id=post.id,
        model_version=version,
        scores=judgement.scores,
        labels=list(judgement.labels),
        is_offer=judgement.is_offer,
        terms=[[term, round(weight, 4)] for term, weight in judgement.terms],
        created_at=datetime.now(UTC),
    ).on_conflict_do_nothing(index_elements=["post_id", "model_version"])
        .returning(Prediction.id)).first() is not None
    if not stored or not judgement.is_offer:
        return stored
    entities = {(e.kind, e.value[:512]) for e in extract_entities(post_text(post))}
    if entities:
        session.execute(upsert_insert(dialect, Entity).values(
            [{"post_id": post.id, "kind": kind, "value": value} for kind, value in entities]
        ).on_conflict_do_nothing(index_elements=["post_id", "kind", "value"]))
    return True


def judgement_record(judgement: Judgement, *, explain: bool) -> dict:
    """The documented JSON shape of one judgement (DESIGN.md, "Interfaces")."""
    record = {
        "labels": list(judgement.labels),
        "scores": {k: round(v, 4) for k, v in judgement.scores.items()},
        "is_offer": judgement.is_offer,
    }
    if explain:
        record["terms"] = [[term, round(weight, 4)] for term, weight in judgement.terms]
    return record


@dataclass(frozen=True)
class LineResult:
    line: str
    error: str | None


def classify_lines(classifier: Classifier, lines: Iterable[str], *,
                   explain: bool = False) -> Iterator[LineResult]:
    """JSON lines {"id","text"} in, one JSON line out per input line, in the same order.

    A line that cannot be read still gets its output line (with "error"), so a caller
    that zips inputs and outputs never goes out of step.
    """
    batch: list[tuple[int, object, str]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        parsed = _parse_line(number, raw)
        if isinstance(parsed, LineResult):
            yield from _flush(classifier, batch, explain)
            batch.clear()
            yield parsed
            continue
        batch.append((number, *parsed))
        if len(batch) >= BATCH:
            yield from _flush(classifier, batch, explain)
            batch.clear()
    yield from _flush(classifier, batch, explain)


def _parse_line(number: int, raw: str) -> tuple[object, str] | LineResult:
    if problem := undecodable(raw):
        return _error_line(None, f"line {number}: {problem}")
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as error:
        return _error_line(None, f"line {number}: not JSON: {error.msg}")
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        ident = record.get("id") if isinstance(record, dict) else None
        return _error_line(ident, f"line {number}: needs a \"text\" string")
    return record.get("id"), record["text"][:MAX_INPUT_CHARS]


def _error_line(ident: object, message: str) -> LineResult:
    return LineResult(json.dumps({"id": ident, "error": message}, ensure_ascii=False), message)


def _flush(classifier: Classifier, batch: list[tuple[int, object, str]],
           explain: bool) -> Iterator[LineResult]:
    if not batch:
        return
    judgements = classifier.predict([text for _, _, text in batch])
    for (_, ident, _), judgement in zip(batch, judgements, strict=True):
        record = {"id": ident, **judgement_record(judgement, explain=explain)}
        yield LineResult(json.dumps(record, ensure_ascii=False), None)
