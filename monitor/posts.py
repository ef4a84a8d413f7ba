"""Reading stored posts for people: the list and the detail the CLI shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from monitor.config import parse_duration
from monitor.db import Database
from monitor.db.schema import Entity, ModelRecord, Post, Prediction, Source
from monitor.errors import UsageProblem


@dataclass(frozen=True)
class PostRow:
    id: int
    source: str
    first_seen: str
    title: str | None
    text: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class PostDetail:
    id: int
    source: str
    url: str
    title: str | None
    author: str | None
    posted_at: str | None
    first_seen: str
    text: str
    predictions: list[dict]
    entities: list[tuple[str, str]]


def parse_moment(text: str, timezone: str, option: str,
                 now: datetime | None = None) -> datetime:
    """``2026-12-01``, ``2026-12-01 09:00``, ``2026-12-01T09:00:00+08:00`` (no offset: in
    ``timezone``, the team's [digest] timezone), or ``2d``/``12h``/``30m`` ago."""
    seconds = parse_duration(text)
    if seconds is not None:
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageProblem(f"{option}: not a date or time like 2026-12-01, "
                           f"\"2026-12-01 09:00\" or 2d: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


def list_posts(db: Database, *, flagged: bool = False, source: str | None = None,
               limit: int = 50, since: datetime | None = None,
               until: datetime | None = None) -> list[PostRow]:
    """The newest posts, first seen from ``since`` to ``until`` (both included) if given."""
    with db.session() as session:
        if source and session.scalar(select(Source.id).where(Source.name == source)) is None:
            known = ", ".join(session.scalars(select(Source.name).order_by(Source.name)))
            raise UsageProblem(f"no source named {source!r}; known: {known or 'none yet'}")
        version = session.scalar(select(ModelRecord.version).where(ModelRecord.active.is_(True)))
        query = (
            select(Post, Source.name, Prediction.labels)
            .join(Source, Source.id == Post.source_id)
            .outerjoin(Prediction, and_(Prediction.post_id == Post.id,
                                        Prediction.model_version == version))
            .order_by(Post.first_seen_at.desc(), Post.id.desc())
            .limit(limit)
        )
        if flagged:
            query = query.where(Prediction.is_offer.is_(True))
        if source:
            query = query.where(Source.name == source)
        if since is not None:
            query = query.where(Post.first_seen_at >= since)
        if until is not None:
            query = query.where(Post.first_seen_at <= until)
        return [
            PostRow(post.id, name, post.first_seen_at.isoformat(timespec="seconds"),
                    post.title, post.text, tuple(labels or ()))
            for post, name, labels in session.execute(query).all()
        ]


def show_post(db: Database, post_id: int) -> PostDetail:
    with db.session() as session:
        post = session.get(Post, post_id)
        if post is None:
            raise UsageProblem(f"no post with id {post_id}")
        predictions = session.scalars(
            select(Prediction).where(Prediction.post_id == post_id).order_by(Prediction.id)
        ).all()
        entities = session.execute(
            select(Entity.kind, Entity.value).where(Entity.post_id == post_id)
            .order_by(Entity.kind, Entity.value)
        ).all()
        return PostDetail(
            id=post.id,
            source=session.get(Source, post.source_id).name,
            url=post.url,
            title=post.title,
            author=post.author,
            posted_at=post.posted_at.isoformat() if post.posted_at else None,
            first_seen=post.first_seen_at.isoformat(timespec="seconds"),
            text=post.text,
            predictions=[{"model_version": p.model_version, "labels": p.labels,
                          "scores": {k: round(v, 3) for k, v in p.scores.items()}}
                         for p in predictions],
            entities=[(kind, value) for kind, value in entities],
        )
