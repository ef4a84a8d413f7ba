"""The state of a deployment in one read: what `doxwatch status` shows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.digest import Undelivered
from monitor.config import Config
from monitor.db import Database, mask_url
from monitor.db.schema import (
    Delivery,
    DigestRecord,
    ImmediateAlert,
    Post,
    Prediction,
    Source,
)
from monitor.health import source_health
from monitor.modelstore import check_active_model
from monitor.outbox import RetryPolicy, given_up


@dataclass(frozen=True)
class SourceStatus:
    name: str
    kind: str
    schedule: str
    posts: int
    last_run: str | None
    last_status: str | None
    last_error: str | None
    pages: int = 0  # of the last crawl
    seconds: float | None = None  # how long the last crawl took
    broken: str | None = None  # why the source looks broken (monitor.health)


@dataclass(frozen=True)
class StatusReport:
    config_path: Path | None
    database: str
    posts: int
    flagged: int
    unclassified: int
    model: str | None
    model_problem: str | None      # why the active model's file does not load; None if it does
    last_digest: str | None
    failed_deliveries: int         # not sent yet and still retried (pending, failed, sending)
    sources: list[SourceStatus]
    # deliveries that gave up ([digest] max_attempts), every one until sent or retried:
    # a digest reports each once, status as long as it stands
    given_up: tuple[Undelivered, ...] = ()
    # immediate alerts of the last 24 hours: (sent, suppressed); None when not configured
    immediate: tuple[int, int] | None = None


def collect_status(config: Config, db: Database) -> StatusReport:
    model, model_problem = check_active_model(db)
    with db.session() as session:
        posts = session.scalar(select(func.count(Post.id))) or 0
        flagged = unclassified = 0
        if model:
            judged = select(Prediction.post_id).where(Prediction.model_version == model)
            flagged = session.scalar(select(func.count(Prediction.id)).where(
                Prediction.model_version == model, Prediction.is_offer.is_(True))) or 0
            unclassified = session.scalar(
                select(func.count(Post.id)).where(Post.id.not_in(judged))) or 0
        last_digest = session.scalar(select(func.max(DigestRecord.created_at))
                                     .where(DigestRecord.immediate.is_(False)))
        stopped = given_up(session, RetryPolicy.of(config.digest))
        unsent = session.scalar(
            select(func.count(Delivery.id)).where(Delivery.status != "sent")) or 0
        zone = ZoneInfo(config.digest.timezone)
        sources = [_source_status(session, s, config.crawl.broken_after)
                   for s in config.sources]
        return StatusReport(
            config_path=config.path,
            database=mask_url(db.url),
            posts=posts,
            flagged=flagged,
            unclassified=unclassified if model else posts,
            model=model,
            model_problem=model_problem,
            last_digest=_when(last_digest),
            failed_deliveries=unsent - len(stopped),
            sources=sources,
            given_up=tuple(replace(u, digest_created_at=u.digest_created_at.astimezone(zone))
                           for u in stopped),
            immediate=_immediate_counts(session) if config.immediate else None,
        )


def _immediate_counts(session: Session) -> tuple[int, int]:
    since = datetime.now(UTC) - timedelta(hours=24)
    counts = dict(session.execute(
        select(ImmediateAlert.status, func.count(ImmediateAlert.id))
        .where(ImmediateAlert.created_at >= since).group_by(ImmediateAlert.status)).all())
    return counts.get("sent", 0), counts.get("suppressed", 0)


def _source_status(session, source, broken_after: int) -> SourceStatus:
    row = session.scalar(select(Source).where(Source.name == source.name))
    posts = session.scalar(select(func.count(Post.id)).where(Post.source_id == row.id)) \
        if row is not None else 0
    health = source_health(session, source.name, broken_after)
    last = health.last_run
    return SourceStatus(
        name=source.name,
        kind=source.kind,
        schedule=source.schedule,
        posts=posts or 0,
        last_run=_when(last.started_at) if last else None,
        last_status=last.status if last else None,
        last_error=last.error if last else None,
        pages=last.pages if last else 0,
        seconds=(last.finished_at - last.started_at).total_seconds()
        if last and last.finished_at else None,
        broken=health.broken,
    )


def _when(moment) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
