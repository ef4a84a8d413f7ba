"""Immediate alerts: a post that scores above a high threshold in a configured category is
sent at once, not at tomorrow's digest (``[alerts.immediate]``).

Each post is considered once, and what was decided is recorded in ``immediate_alerts``
(unique on the post, so two processes classifying at once never alert on one post twice):

- ``sent``: a digest of that one post is stored (``digests.immediate``) with a pending
  delivery per channel, in the transaction that records the decision, and goes through the
  outbox like any digest: claimed once per channel, retried with backoff, given up and
  reported in the next digest's "Not delivered";
- ``suppressed``, with the reason: a repost of an ad already alerted on or already in a
  digest (the digest's clustering decides what "the same ad" is, so the two agree), or the
  hourly limit reached. A suppressed post loses nothing: immediate alerts never touch
  ``digest_posts``, so the next digest holds every post, alerted on or not.

Only posts first seen in the last :data:`WINDOW` are considered: turning the feature on,
or lowering ``min_score``, must not send the whole backlog to a team's chat at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.clusters import cluster_posts, post_text
from monitor.config import Config, ImmediateConfig
from monitor.db import Database
from monitor.db.schema import ImmediateAlert, Post
from monitor.digest import Flagged, flagged, one_post_digest, send_deliveries, store_digest
from monitor.outbox import DeliveryOutcome

log = logging.getLogger("doxwatch.immediate")

WINDOW = timedelta(hours=24)
HOUR = timedelta(hours=1)
SENDER_LOCK_KEY = int.from_bytes(b"doxwimm\x00", "big")  # pg_advisory_xact_lock(bigint)


@dataclass(frozen=True)
class ImmediateReport:
    sent: int
    suppressed: int
    deliveries: tuple[DeliveryOutcome, ...]

    @property
    def failed(self) -> list[DeliveryOutcome]:
        return [d for d in self.deliveries if d.status == "failed"]


@dataclass(frozen=True)
class _Decision:
    post: Flagged
    cluster_id: int
    reason: str | None  # None: send it


def send_immediate(config: Config, db: Database, version: str, *,
                   env: Mapping[str, str] | None = None,
                   now: datetime | None = None) -> ImmediateReport:
    """Decide on every post ``version`` flagged above the threshold and not yet
    considered, most severe first; store and send the alerts, record the rest."""
    settings = config.immediate
    if settings is None:
        return ImmediateReport(0, 0, ())
    now = now or datetime.now(UTC)
    sent_ids: list[int] = []
    suppressed = 0
    with db.session() as session:
        decisions = _decide(session, settings, version, now)
    for decision in decisions:
        recorded = _record(db, config, version, decision, now)
        if isinstance(recorded, int):
            sent_ids.append(recorded)
        elif recorded == "suppressed":
            suppressed += 1
    deliveries: list[DeliveryOutcome] = []
    for digest_id in sent_ids:
        deliveries += send_deliveries(config, db, env=env, only=digest_id)
    return ImmediateReport(len(sent_ids), suppressed, tuple(deliveries))


def _decide(session: Session, settings: ImmediateConfig, version: str,
            now: datetime) -> list[_Decision]:
    """The candidates and what to do with each; reads only."""
    considered = select(ImmediateAlert.post_id)
    candidates = [post for post in flagged(session, version, Post.first_seen_at >= now - WINDOW,
                                           Post.id.not_in(considered))
                  if _above(post, settings)]
    if not candidates:
        return []
    candidates.sort(key=lambda post: post.rank)
    # Alerted posts no digest has clustered yet are clustered with the candidates, so a
    # repost of one lands in its cluster; the digests' clusters are matched as stored.
    alerted = session.execute(
        select(Post.id, Post.title, Post.text)
        .join(ImmediateAlert, ImmediateAlert.post_id == Post.id)
        .where(ImmediateAlert.status == "sent", Post.cluster_id.is_(None))).all()
    clustering = cluster_posts(session, [(post.id, post_text(post.title, post.text))
                                         for post in candidates]
                               + [(row.id, post_text(row.title, row.text)) for row in alerted])
    taken = {clustering.cluster_of[row.id] for row in alerted}
    budget = settings.max_per_hour - _sent_since(session, now - HOUR)
    decisions = []
    for post in candidates:
        cluster = clustering.cluster_of[post.id]
        if cluster in clustering.known:
            reason: str | None = "repost of an ad already in a digest"
        elif cluster in taken:
            reason = "repost of an ad already alerted on"
        elif budget <= 0:
            reason = _rate_limit(settings)
        else:
            reason = None
            taken.add(cluster)
            budget -= 1
        decisions.append(_Decision(post, cluster, reason))
    return decisions


def _above(post: Flagged, settings: ImmediateConfig) -> bool:
    return any(category in post.labels and post.scores.get(category, 0.0) >= settings.min_score
               for category in settings.categories)


def _rate_limit(settings: ImmediateConfig) -> str:
    return f"rate limit ({settings.max_per_hour} per hour)"


def _sent_since(session: Session, moment: datetime) -> int:
    return session.scalar(select(func.count(ImmediateAlert.id)).where(
        ImmediateAlert.status == "sent", ImmediateAlert.created_at >= moment)) or 0


def _one_sender_at_a_time(session: Session) -> None:
    """Hold, until this transaction ends, the right to record an alert as sent, so that the
    hourly count read next cannot change before the commit. SQLite needs nothing more: the
    INSERT that follows takes the database's one write lock until the commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SENDER_LOCK_KEY})


def _record(db: Database, config: Config, version: str, decision: _Decision,
            now: datetime) -> int | Literal["suppressed", "decided elsewhere"]:
    """Record one decision (with the alert's digest and deliveries, if it is sent) in one
    transaction; the digest's id if one was stored. Another process that decided on the
    post first wins: the unique post id refuses this one, and nothing of it is kept. The
    hourly limit is checked again here, under a lock: passes that decided at once, in
    several processes or threads, each counted only the alerts recorded before them."""
    settings = config.immediate
    assert settings is not None
    try:
        with db.session() as session:
            if decision.reason is None:
                _one_sender_at_a_time(session)
            alert = ImmediateAlert(post_id=decision.post.id, status="suppressed",
                                   reason=decision.reason, created_at=now)
            session.add(alert)
            session.flush()  # the unique post id, before anything is built
            if decision.reason is None and _sent_since(session, now - HOUR) \
                    >= settings.max_per_hour:
                # another process's alerts, recorded since this pass decided, used the hour
                alert.reason = _rate_limit(settings)
            if alert.reason is not None:
                log.info("immediate alert for post %s suppressed: %s", decision.post.id,
                         alert.reason)
                return "suppressed"
            digest = one_post_digest(session, config, version, decision.post,
                                     decision.cluster_id, now)
            stored = store_digest(session, config, digest, settings.channels)
            alert.status, alert.digest_id = "sent", stored.id
            return stored.id
    except IntegrityError:
        log.info("post %s: another process decided on its immediate alert first",
                 decision.post.id)
        return "decided elsewhere"
