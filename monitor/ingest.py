"""Storing posts: from the crawl's item pipeline and from `doxwatch ingest`.

Every post goes through ``upsert_posts``, which is where three promises are kept:
- re-crawling never duplicates a post (insert or update on source + external id);
- victims' personal data is masked before it is stored (ID and bank card numbers);
- scraped text is capped, because a hostile page can be as large as it likes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.extract import mask_personal_data
from models.normalize import normalize
from monitor.db import Database, get_or_create_source
from monitor.db.queries import upsert_insert
from monitor.db.schema import Entity, Post, Prediction, Source
from monitor.db.types import as_utc, utcnow

if TYPE_CHECKING:
    from monitor.config import SourceConfig

MAX_TEXT_CHARS = 100_000
MAX_TITLE_CHARS = 1_000
MAX_AUTHOR_CHARS = 256
MAX_URL_CHARS = 4_096
MAX_EXTERNAL_ID_CHARS = 512
MAX_META_KEYS = 20
MAX_META_CHARS = 512
_IN_CHUNK = 500  # ids per IN (...): well under every database's parameter limit
_INGEST_BATCH = 500  # lines of `doxwatch ingest` stored at a time


def text_hash(text: str) -> str:
    """sha256 of the normalised text: equal for copies that differ only in width or spacing."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime; naive means UTC; anything else None.

    Sites write dates however they like; a date we cannot read is not worth losing the post.
    """
    if isinstance(value, datetime):
        return as_utc(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def _cap(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    return str(value)[:limit]


def _external_id(value: Any) -> str:
    """The id as stored; one too long for the column is replaced by its hash, not cut,
    so that two long ids sharing a prefix stay two posts."""
    external_id = str(value)
    if len(external_id) <= MAX_EXTERNAL_ID_CHARS:
        return external_id
    return "sha256:" + hashlib.sha256(external_id.encode("utf-8")).hexdigest()


def _content(item: Mapping[str, Any]) -> dict[str, Any]:
    """The columns an item sets, masked and capped."""
    text = mask_personal_data(str(item.get("text") or ""))[:MAX_TEXT_CHARS]
    title = item.get("title")
    return {
        "url": _cap(item.get("url") or "", MAX_URL_CHARS),
        "title": mask_personal_data(str(title))[:MAX_TITLE_CHARS] if title else None,
        "author": _cap(item.get("author") or None, MAX_AUTHOR_CHARS),
        "text": text,
        "posted_at": parse_timestamp(item.get("posted_at")),
        "text_hash": text_hash(text),
        "meta": _meta(item.get("meta")),
    }


def _meta(value: Any) -> dict[str, Any]:
    """A source's extra fields, kept only as small flat JSON: scraped data is hostile, so
    at most :data:`MAX_META_KEYS` keys, scalar values, strings masked and capped."""
    if not isinstance(value, Mapping):
        return {}
    kept: dict[str, Any] = {}
    for key, item in list(value.items())[:MAX_META_KEYS]:
        if isinstance(item, str):
            kept[str(key)[:64]] = mask_personal_data(item)[:MAX_META_CHARS]
        elif item is None or isinstance(item, bool | int | float):
            kept[str(key)[:64]] = item
    return kept


def _update(session: Session, post: Post, content: dict[str, Any], fetched_at: datetime) -> None:
    """Refresh a stored post; when its words changed, what was derived from them goes.

    A field the new version lacks (a date the site did not show this time) keeps its
    stored value: missing is not the same as removed.
    """
    post.fetched_at = fetched_at
    changed = {
        key: value
        for key, value in content.items()
        if value not in (None, "", {}) and getattr(post, key) != value
    }
    if not changed:
        return
    for key, value in changed.items():
        setattr(post, key, value)
    post.updated_at = utcnow()
    if "text" in changed or "title" in changed:
        # Predictions and entities describe the old words: drop them so the post is
        # classified again, as any post without a prediction is.
        session.execute(delete(Prediction).where(Prediction.post_id == post.id))
        session.execute(delete(Entity).where(Entity.post_id == post.id))


def upsert_post(session: Session, source: Source, item: Mapping[str, Any]) -> bool:
    """Insert the post or update the stored one with the same external id; True if new.

    ``item`` has the fields of ``spiders.items.PostItem`` (``external_id``, ``text``, and
    optionally ``url``, ``title``, ``author``, ``posted_at``, ``fetched_at``).
    """
    return upsert_posts(session, source, [item]) == 1


def upsert_posts(session: Session, source: Source, items: Iterable[Mapping[str, Any]]) -> int:
    """Store a batch of posts as :func:`upsert_post` stores one; return how many were new.

    Why a batch: a crawl stores posts faster than it fetches pages only if storing costs a
    few statements per batch, not a SELECT and a savepoint per post. So the stored posts
    of the batch are read in one SELECT, the new ones written in one multi-row
    ``INSERT … ON CONFLICT DO NOTHING RETURNING``, and only posts that changed are
    updated. The unique constraint stays the guard against another process storing the
    same post meanwhile: a row the INSERT did not write was stored by someone else since
    our SELECT, and is updated like any stored post. Two items with one external id in a
    batch behave as if stored one after the other.
    """
    wanted = _merged(items)
    if not wanted:
        return 0
    existing = _stored(session, source, list(wanted))
    fresh = {key: value for key, value in wanted.items() if key not in existing}
    inserted = _insert(session, source, fresh)
    if raced := [key for key in fresh if key not in inserted]:
        existing.update(_stored(session, source, raced))
    for key, post in existing.items():
        content, fetched_at = wanted[key]
        _update(session, post, content, fetched_at)
    return len(inserted)


def _merged(items: Iterable[Mapping[str, Any]]) -> dict[str, tuple[dict[str, Any], datetime]]:
    """Content and fetch time per external id; a later item of the same id overrides the
    fields it has, as an update after an insert would."""
    merged: dict[str, tuple[dict[str, Any], datetime]] = {}
    for item in items:
        key = _external_id(item["external_id"])
        content = _content(item)
        fetched_at = parse_timestamp(item.get("fetched_at")) or utcnow()
        if key in merged:
            earlier = merged[key][0]
            content = {**earlier, **{name: value for name, value in content.items()
                                     if value not in (None, "", {})}}
        merged[key] = (content, fetched_at)
    return merged


def _stored(session: Session, source: Source, external_ids: list[str]) -> dict[str, Post]:
    found: dict[str, Post] = {}
    for start in range(0, len(external_ids), _IN_CHUNK):
        query = select(Post).where(Post.source_id == source.id,
                                   Post.external_id.in_(external_ids[start:start + _IN_CHUNK]))
        found.update((post.external_id, post) for post in session.scalars(query))
    return found


def _insert(session: Session, source: Source,
            fresh: Mapping[str, tuple[dict[str, Any], datetime]]) -> set[str]:
    """Write the posts not stored yet; return the external ids this statement wrote."""
    if not fresh:
        return set()
    now = utcnow()
    rows = [{"source_id": source.id, "external_id": key, "fetched_at": fetched_at,
             "first_seen_at": now, "updated_at": now, **content}
            for key, (content, fetched_at) in fresh.items()]
    dialect = session.get_bind().dialect.name
    statement = (upsert_insert(dialect, Post)
                 .on_conflict_do_nothing(index_elements=[Post.source_id, Post.external_id])
                 .returning(Post.external_id))
    # executemany: SQLAlchemy compiles the statement once (cached) and sends the rows as
    # multi-row VALUES pages ("insertmanyvalues"), each returning what it wrote.
    return set(session.connection().execute(statement, rows).scalars())


# --- doxwatch ingest ----------------------------------------------------------------------


@dataclass
class IngestReport:
    """What `doxwatch ingest` did: posts added, posts already there, lines skipped (why)."""

    new: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


class BadLine(ValueError):
    """A JSON line that cannot become a post."""


_OPTIONAL_FIELDS = ("url", "title", "author", "posted_at")


def undecodable(line: str) -> str | None:
    """Why a line read with ``surrogateescape`` is not UTF-8 (the first bad byte and its
    column), or None if it is."""
    for column, char in enumerate(line, start=1):
        if "\udc80" <= char <= "\udcff":
            return f"not UTF-8: byte 0x{ord(char) - 0xDC00:02x} at column {column}"
    return None


def parse_line(line: str) -> dict[str, Any]:
    """One ``{"id","url","title","text","author","posted_at"}`` line as an item for upsert_post."""
    if problem := undecodable(line):
        raise BadLine(problem)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise BadLine(f"not JSON: {error.msg} (column {error.colno})") from None
    if not isinstance(record, dict):
        raise BadLine("expected a JSON object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadLine('"text" must be a non-empty string')
    for key in _OPTIONAL_FIELDS:
        if record.get(key) is not None and not isinstance(record[key], str):
            raise BadLine(f'"{key}" must be a string or null')
    post_id = record.get("id")
    if post_id is None:
        post_id = hashlib.sha256(text.encode("utf-8")).hexdigest()
    elif isinstance(post_id, bool) or not isinstance(post_id, str | int) or post_id == "":
        raise BadLine('"id" must be a non-empty string or an integer')
    item = {key: record.get(key) for key in _OPTIONAL_FIELDS}
    return {**item, "external_id": str(post_id), "text": text, "url": record.get("url") or ""}


def ingest_lines(db: Database, source_config: SourceConfig, lines: Iterable[str]) -> IngestReport:
    """Store posts collected elsewhere, one JSON object per line, under ``source_config``.

    A bad line is reported (``line 7: ...``) and skipped; the good ones are stored in one
    transaction, so an interrupted run leaves nothing half-written.
    """
    report = IngestReport()
    with db.session() as session:
        source = get_or_create_source(session, source_config)
        batch: list[dict[str, Any]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                batch.append(parse_line(line))
            except BadLine as error:
                report.errors.append(f"line {number}: {error}")
            if len(batch) >= _INGEST_BATCH:
                _store(session, source, batch, report)
                batch = []
        _store(session, source, batch, report)
    return report


def _store(session: Session, source: Source, batch: list[dict[str, Any]],
           report: IngestReport) -> None:
    new = upsert_posts(session, source, batch)
    report.new += new
    report.updated += len(batch) - new
