"""Build the digest of what was flagged since the last one, and deliver it once per channel.

An outbox: the digest, the posts it covers and one ``pending`` delivery per channel are
committed *before* anything is sent. A channel that fails stays ``failed`` and is
retried by the next run; one that succeeded is never sent again; a post belongs to one
digest only (a unique constraint), so nothing is sent twice and nothing is lost. A
crash between a send and its record can repeat that one send: webhook receivers get an
``Idempotency-Key`` and mail a stable ``Message-ID`` to recognise it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from alerts.channels import build_channel
from alerts.digest import Digest, DigestEntry
from alerts.errors import AlertsError
from alerts.render import render_text
from models.predict import Classifier
from monitor.classify import classify_pending, pending_posts, post_text
from monitor.config import ChannelConfig, Config
from monitor.db import Database
from monitor.db.schema import (
    Delivery,
    DigestPost,
    DigestRecord,
    Entity,
    Post,
    Prediction,
    Source,
)

EXCERPT_CHARS = 300
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class DeliveryOutcome:
    digest_id: int
    channel: str
    status: str
    error: str | None


@dataclass(frozen=True)
class DigestReport:
    digest: Digest | None          # the new digest, if there was anything new
    deliveries: tuple[DeliveryOutcome, ...]

    @property
    def failed(self) -> list[DeliveryOutcome]:
        return [d for d in self.deliveries if d.status != "sent"]


def run_digest(config: Config, db: Database, classifier: Classifier, *,
               env: Mapping[str, str] | None = None, now: datetime | None = None) -> DigestReport:
    """Retry what failed before, then build, record and send what is new."""
    env = os.environ if env is None else env
    classify_pending(db, classifier)
    channels = {c.name: c for c in config.digest_channels()}
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        timezone = config.digest.timezone
        retried = _send_pending(db, channels, timezone, env, client)
        digest = _record_new_digest(db, config, classifier.version, list(channels), now)
        sent = (_send_pending(db, channels, timezone, env, client, only=digest.id)
                if digest else [])
    return DigestReport(digest, tuple(retried + sent))


def preview_digest(config: Config, db: Database, classifier: Classifier,
                   now: datetime | None = None) -> Digest:
    """What the next digest would hold, judging unjudged posts in memory; writes nothing."""
    with db.session() as session:
        entries = _candidate_entries(session, classifier.version, config.digest.max_entries)
        for post in pending_posts(session, classifier.version, limit=config.digest.max_entries):
            judgement = classifier.predict_one(post_text(post))
            if judgement.is_offer:
                entries.append(_entry(session, post, judgement.labels, judgement.scores,
                                      [t for t, _ in judgement.terms]))
        digest = Digest(id=None, created_at=now or _now(), entries=tuple(entries),
                        since=_last_digest_time(session))
        return in_timezone(digest, config.digest.timezone)


def _record_new_digest(db: Database, config: Config, version: str,
                       channel_names: Sequence[str], now: datetime | None) -> Digest | None:
    with db.session() as session:
        entries = _candidate_entries(session, version, config.digest.max_entries)
        if not entries and not config.digest.send_empty:
            return None
        created = now or _now()
        since = _last_digest_time(session)
        record = DigestRecord(created_at=created, since=since, entry_count=len(entries),
                              text="", payload={})
        session.add(record)
        session.flush()
        digest = Digest(id=record.id, created_at=created, entries=tuple(entries), since=since)
        record.text = render_text(in_timezone(digest, config.digest.timezone))
        record.payload = digest.to_dict()
        for entry in entries:
            session.add(DigestPost(digest_id=record.id, post_id=entry.post_id,
                                   category=entry.category))
        for name in channel_names:
            session.add(Delivery(digest_id=record.id, channel=name, status="pending",
                                 attempts=0, created_at=created, updated_at=created))
        return digest


def _candidate_entries(session: Session, version: str, limit: int) -> list[DigestEntry]:
    """Flagged posts not yet in any digest, strongest first; the rest wait for the next."""
    in_digest = select(DigestPost.post_id)
    rows = session.execute(
        select(Post, Prediction)
        .join(Prediction, and_(Prediction.post_id == Post.id,
                               Prediction.model_version == version))
        .where(Prediction.is_offer.is_(True), Post.id.not_in(in_digest))
        .order_by(Post.id)
    ).all()
    ranked = sorted(rows, key=lambda row: -max(row[1].scores.values()))[:limit]
    return [
        _entry(session, post, prediction.labels, prediction.scores,
               [term for term, _ in prediction.terms or []])
        for post, prediction in sorted(ranked, key=lambda row: row[0].id)
    ]


def _entry(session: Session, post: Post, labels: Sequence[str], scores: Mapping[str, float],
           terms: Sequence[str]) -> DigestEntry:
    source = session.get(Source, post.source_id)
    entities = session.execute(
        select(Entity.kind, Entity.value).where(Entity.post_id == post.id)
        .order_by(Entity.kind, Entity.value)
    ).all()
    labels = tuple(labels)
    return DigestEntry(
        post_id=post.id,
        category=max(labels, key=lambda label: scores.get(label, 0.0)),
        labels=labels,
        source=source.name,
        url=post.url,
        title=post.title,
        posted_at=post.posted_at,
        excerpt=_excerpt(post.text),
        scores=dict(scores),
        terms=tuple(terms),
        entities=tuple((kind, value) for kind, value in entities),
    )


def load_digest(session: Session, digest_id: int) -> Digest:
    """Rebuild a recorded digest from its posts, so a retry sends what was first sent."""
    record = session.get(DigestRecord, digest_id)
    rows = session.execute(
        select(Post, DigestPost.category)
        .join(DigestPost, DigestPost.post_id == Post.id)
        .where(DigestPost.digest_id == digest_id)
        .order_by(Post.id)
    ).all()
    entries = []
    for post, category in rows:
        prediction = session.scalar(
            select(Prediction).where(Prediction.post_id == post.id)
            .order_by(Prediction.created_at.desc(), Prediction.id.desc()).limit(1)
        )
        entry = _entry(session, post, prediction.labels, prediction.scores,
                       [term for term, _ in prediction.terms or []])
        entries.append(replace(entry, category=category))
    return Digest(id=record.id, created_at=record.created_at, entries=tuple(entries),
                  since=record.since)


def _send_pending(db: Database, channels: Mapping[str, ChannelConfig], timezone: str,
                  env: Mapping[str, str], client: httpx.Client, *,
                  only: int | None = None) -> list[DeliveryOutcome]:
    """Send every delivery not yet sent, to channels still configured."""
    with db.session() as session:
        query = select(Delivery.id).where(Delivery.status != "sent",
                                          Delivery.channel.in_(list(channels)))
        if only is not None:
            query = query.where(Delivery.digest_id == only)
        ids = session.scalars(query.order_by(Delivery.digest_id, Delivery.id)).all()
    return [_deliver(db, delivery_id, channels, timezone, env, client) for delivery_id in ids]


def _deliver(db: Database, delivery_id: int, channels: Mapping[str, ChannelConfig],
             timezone: str, env: Mapping[str, str], client: httpx.Client) -> DeliveryOutcome:
    with db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        digest = in_timezone(load_digest(session, delivery.digest_id), timezone)
        config = channels[delivery.channel]
        error = _send(config, digest, env, client)
        delivery.attempts += 1
        delivery.updated_at = _now()
        delivery.status = "failed" if error else "sent"
        delivery.last_error = error
        if not error:
            delivery.sent_at = delivery.updated_at
        return DeliveryOutcome(delivery.digest_id, delivery.channel, delivery.status, error)


def in_timezone(digest: Digest, timezone: str) -> Digest:
    """The digest with its times in the team's timezone: the database keeps UTC, but an
    analyst in Shanghai reads 09:00, not 01:00."""
    zone = ZoneInfo(timezone)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment else None

    entries = tuple(replace(e, posted_at=local(e.posted_at)) for e in digest.entries)
    return replace(digest, created_at=local(digest.created_at), since=local(digest.since),
                   entries=entries)


def _send(config: ChannelConfig, digest: Digest, env: Mapping[str, str],
          client: httpx.Client) -> str | None:
    """Send through one channel; any failure becomes the error text to record."""
    try:
        channel = build_channel(config.kind, config.name, config.options, env=env, client=client)
        channel.send(digest)
    except AlertsError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - one broken channel must not stop the others
        return f"{type(error).__name__}: {error}"
    return None


def _last_digest_time(session: Session) -> datetime | None:
    return session.scalar(select(func.max(DigestRecord.created_at)))


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS - 1] + "…"


def _now() -> datetime:
    return datetime.now(UTC)
