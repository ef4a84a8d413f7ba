"""Build the digest of what was flagged since the last one, and deliver it once per channel.

One way through: select the flagged posts no digest holds yet → build the ``Digest`` →
store it whole → the outbox sends the stored payload. The digest, the posts it covers and
one ``pending`` delivery per channel are committed *before* anything is sent, and a retry
sends the stored digest, not one rebuilt from rows that may have changed since (a post
re-crawled, re-judged, deleted). A channel that fails stays ``failed`` and is
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
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from alerts.channels import Channel, build_channel
from alerts.digest import Digest, DigestEntry
from alerts.errors import AlertsError, NotConfigured
from alerts.render import render_text
from models.predict import Classifier
from monitor.classify import pending_posts, post_text
from monitor.config import ChannelConfig, Config, ConfigError
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
from monitor.health import source_health

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


def run_digest(config: Config, db: Database, version: str, *,
               env: Mapping[str, str] | None = None, now: datetime | None = None) -> DigestReport:
    """Retry what failed before, then select, build, store and send what is new.

    ``version`` is the model whose judgements count; the caller has judged the posts with
    it already (``classify_pending``), so a digest never waits on the classifier.
    """
    env = os.environ if env is None else env
    channels = {c.name: c for c in config.digest_channels()}
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        timezone = config.digest.timezone
        retried = _send_pending(db, channels, timezone, env, client)
        digest = _store_new_digest(db, config, version, list(channels), now)
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
                        since=_last_digest_time(session),
                        broken_sources=broken_sources(session, config))
        return in_timezone(digest, config.digest.timezone)


def broken_sources(session: Session, config: Config) -> tuple[tuple[str, str], ...]:
    """(source, why) for each configured source that looks broken (``monitor.health``)."""
    found = (source_health(session, source.name, config.crawl.broken_after)
             for source in config.sources)
    return tuple((health.name, health.broken) for health in found if health.broken)


def _store_new_digest(db: Database, config: Config, version: str,
                      channel_names: Sequence[str], now: datetime | None) -> Digest | None:
    """Build the digest of the flagged posts no digest holds yet and store it whole, with
    its posts and one pending delivery per channel, in one transaction."""
    with db.session() as session:
        entries = _candidate_entries(session, version, config.digest.max_entries)
        if not entries and not config.digest.send_empty:
            return None
        created = now or _now()
        record = DigestRecord(created_at=created, since=_last_digest_time(session),
                              entry_count=len(entries), text="", payload={})
        session.add(record)
        session.flush()
        digest = Digest(id=record.id, created_at=created, entries=tuple(entries),
                        since=record.since, broken_sources=broken_sources(session, config))
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
        try:
            # exactly what was built and stored, whatever happened to its posts since
            digest = in_timezone(Digest.from_dict(delivery.digest.payload), timezone)
        except ValueError as damaged:
            error = f"stored digest {delivery.digest_id} cannot be read: {damaged}"
        else:
            error = _send(channels[delivery.channel], digest, env, client)
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


def check_channels(config: Config, env: Mapping[str, str] | None = None) -> None:
    """Build every configured channel now, so that a secret missing from the environment
    stops ``run``, ``digest`` and ``status`` at start-up (exit 2) instead of failing the
    first digest, hours later. Raises ConfigError naming ``channels[i].field``."""
    env = os.environ if env is None else env
    for index, channel in enumerate(config.channels):
        try:
            _build(channel, env, client=None)
        except NotConfigured as error:
            file = str(config.path) if config.path else "configuration"
            raise ConfigError(file, f"channels[{index}].{error.field}", error.message) from None


def _build(config: ChannelConfig, env: Mapping[str, str],
           client: httpx.Client | None) -> Channel[Any]:
    return build_channel(config.kind, config.name, config.options, env=env, client=client)


def _send(config: ChannelConfig, digest: Digest, env: Mapping[str, str],
          client: httpx.Client) -> str | None:
    """Send through one channel; any failure becomes the error text to record."""
    try:
        _build(config, env, client).send(digest)
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
