"""The records doxwatch keeps (see DESIGN.md, "The records"), as SQLAlchemy 2 ORM classes.

The same schema runs on SQLite and PostgreSQL, so it sticks to portable types:
``JSON`` for lists and score dictionaries, ``UTCDateTime`` for every timestamp.
Constraint names come from a naming convention on the metadata, so Alembic
migrations can refer to them by the same name on both dialects.

Invariants the database itself enforces, because several processes write at once:
- a post is unique on (source, external id): re-crawling never duplicates it;
- a post goes into at most one digest (``digest_posts.post_id`` is unique): never sent twice;
- one delivery row per (digest, channel): a retry updates it instead of adding another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from monitor.db.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CRAWL_STATUSES = ("running", "ok", "partial", "failed", "interrupted")
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed")
IMMEDIATE_STATUSES = ("sent", "suppressed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK that ``column`` holds one of ``values`` (fixed literals of ours)."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow)


def _updated() -> Mapped[datetime]:
    """Set on every UPDATE of the row."""
    return mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Source(Base):
    """A place doxwatch watches, mirrored from the configuration on every crawl."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    urls: Mapped[list[Any]] = mapped_column(default=list)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    schedule: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    posts: Mapped[list[Post]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )
    crawl_runs: Mapped[list[CrawlRun]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )


class SourceMark(Base):
    """What a crawl of a source remembers for the next one (``spiders.memory``): what a
    thread's listing said when it was fetched. Shared by every worker of the crawl."""

    __tablename__ = "source_marks"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = _updated()


class Post(Base):
    """One post as it was last fetched; victims' personal data already masked."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index(None, "first_seen_at"),
        Index(None, "text_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(512))
    url: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(256))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime] = _created()
    first_seen_at: Mapped[datetime] = _created()
    # when the content last changed, not when it was last fetched: set by monitor.ingest
    updated_at: Mapped[datetime] = _created()
    text_hash: Mapped[str] = mapped_column(String(64))
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    cluster_id: Mapped[int | None] = mapped_column(Integer)
    # what a kind of source adds: a Telegram message's views, a thread's reply count
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)

    source: Mapped[Source] = relationship(back_populates="posts")
    predictions: Mapped[list[Prediction]] = relationship(
        back_populates="post", cascade="all, delete-orphan", passive_deletes=True
    )
    entities: Mapped[list[Entity]] = relationship(
        back_populates="post", cascade="all, delete-orphan", passive_deletes=True
    )
    labels: Mapped[list[Label]] = relationship(
        back_populates="post", cascade="all, delete-orphan", passive_deletes=True
    )


class Prediction(Base):
    """What one model version said about one post."""

    __tablename__ = "predictions"
    __table_args__ = (UniqueConstraint("post_id", "model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(String(64))
    scores: Mapped[dict[str, Any]]
    labels: Mapped[list[Any]]
    is_offer: Mapped[bool] = mapped_column(Boolean)
    terms: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = _created()

    post: Mapped[Post] = relationship(back_populates="predictions")


class Entity(Base):
    """An indicator found in a post: a seller's handle, a price, a service."""

    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("post_id", "kind", "value"), Index(None, "kind", "value"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))

    post: Mapped[Post] = relationship(back_populates="entities")


class Label(Base):
    """An analyst's judgement of a post; history is kept, the latest per analyst counts."""

    __tablename__ = "labels"
    __table_args__ = (Index(None, "post_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    analyst: Mapped[str] = mapped_column(String(128))
    labels: Mapped[list[Any]]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()

    post: Mapped[Post] = relationship(back_populates="labels")


class LabelLease(Base):
    """A post held by one `doxwatch label --exclusive` session until ``expires_at``.

    A lease, not a lock held open: an analyst may read a post for minutes, and a
    transaction kept open that long would pin a connection per analyst. A session that
    is abandoned simply stops renewing, and its posts come back when the leases expire.
    """

    __tablename__ = "label_leases"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(64))  # the session's random id
    analyst: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class ModelRecord(Base):
    """A trained model version; the file itself lives in the data directory."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _created()
    path: Mapped[str] = mapped_column(Text)
    training_summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class CrawlRun(Base):
    """One crawl of one source: when, how it ended, what it brought."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint(_one_of("status", CRAWL_STATUSES), name="status"),
        Index(None, "source_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    items: Mapped[int] = mapped_column(Integer, default=0)
    new_posts: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)  # responses received
    errors: Mapped[int] = mapped_column(Integer, default=0)  # failure lines
    # threads the list showed unchanged (not fetched): a quiet board, not a broken one
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # "<machine> <pid> <start>" of the process that opened the run, so that a run left
    # ``running`` by a killed process can be told from one in flight (monitor.crawl)
    owner: Mapped[str | None] = mapped_column(String(512))

    source: Mapped[Source] = relationship(back_populates="crawl_runs")


class DigestRecord(Base):
    """A digest as built, kept whole so that a retry sends exactly the same digest."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = _created()
    since: Mapped[datetime | None]
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    # an immediate alert's one post, not a period: never the "since" of a digest
    immediate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    posts: Mapped[list[DigestPost]] = relationship(
        back_populates="digest", cascade="all, delete-orphan", passive_deletes=True
    )
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="digest", cascade="all, delete-orphan", passive_deletes=True
    )


class DigestPost(Base):
    """Membership of a post in a digest; unique on the post, so no post is sent twice."""

    __tablename__ = "digest_posts"
    __table_args__ = (UniqueConstraint("post_id"),)

    digest_id: Mapped[int] = mapped_column(
        ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(32))

    digest: Mapped[DigestRecord] = relationship(back_populates="posts")
    post: Mapped[Post] = relationship()


class ImmediateAlert(Base):
    """A post considered for an immediate alert: ``sent`` (its one-entry digest is
    ``digest_id``) or ``suppressed`` (``reason``: a repost, the rate limit). Unique on the
    post, so two processes that classify at once never alert on one post twice."""

    __tablename__ = "immediate_alerts"
    __table_args__ = (
        UniqueConstraint("post_id"),
        CheckConstraint(_one_of("status", IMMEDIATE_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("digests.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class Delivery(Base):
    """The outbox: one row per digest and channel, retried until sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("digest_id", "channel"),
        CheckConstraint(_one_of("status", DELIVERY_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
    sent_at: Mapped[datetime | None]

    digest: Mapped[DigestRecord] = relationship(back_populates="deliveries")
