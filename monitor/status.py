"""The state of a deployment in one read: what `doxwatch status` shows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from monitor.config import Config
from monitor.db import Database, mask_url
from monitor.db.schema import (
    CrawlRun,
    Delivery,
    DigestRecord,
    Post,
    Prediction,
    Source,
)
from monitor.modelstore import check_active_model


@dataclass(frozen=True)
class SourceStatus:
    name: str
    kind: str
    schedule: str
    posts: int
    last_run: str | None
    last_status: str | None
    last_error: str | None


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
    failed_deliveries: int
    sources: list[SourceStatus]


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
        last_digest = session.scalar(select(func.max(DigestRecord.created_at)))
        failed = session.scalar(
            select(func.count(Delivery.id)).where(Delivery.status != "sent")) or 0
        sources = [_source_status(session, s) for s in config.sources]
        return StatusReport(
            config_path=config.path,
            database=mask_url(db.url),
            posts=posts,
            flagged=flagged,
            unclassified=unclassified if model else posts,
            model=model,
            model_problem=model_problem,
            last_digest=_when(last_digest),
            failed_deliveries=failed,
            sources=sources,
        )


def _source_status(session, source) -> SourceStatus:
    row = session.scalar(select(Source).where(Source.name == source.name))
    posts = last = None
    if row is not None:
        posts = session.scalar(select(func.count(Post.id)).where(Post.source_id == row.id))
        last = session.scalar(
            select(CrawlRun).where(CrawlRun.source_id == row.id)
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(1)
        )
    return SourceStatus(
        name=source.name,
        kind=source.kind,
        schedule=source.schedule,
        posts=posts or 0,
        last_run=_when(last.started_at) if last else None,
        last_status=last.status if last else None,
        last_error=last.error if last else None,
    )


def _when(moment) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
