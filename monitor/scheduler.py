"""The unattended loop: each source on its cron, the digest on its cron, in one timezone.

Jobs never overlap themselves (max_instances=1) and a missed run is done once, not
many times, when the machine wakes (coalesce). A failing job is logged and recorded by
the step that failed; the scheduler itself keeps running.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from monitor.classify import ClassifyReport, classify_pending
from monitor.config import Config
from monitor.crawl import CrawlSummary, crawl, stop_children
from monitor.db import Database
from monitor.digest import DigestReport, run_digest
from monitor.modelstore import configured_classifier

log = logging.getLogger("doxwatch.scheduler")
MISFIRE_GRACE_SECONDS = 15 * 60


@dataclass
class OnceReport:
    crawls: list[CrawlSummary] = field(default_factory=list)
    classified: ClassifyReport | None = None
    digest: DigestReport | None = None

    @property
    def ok(self) -> bool:
        crawls_ok = all(c.status != "failed" for c in self.crawls)
        return crawls_ok and not (self.digest and self.digest.failed)


def run_once(config: Config, db: Database, *, debug: bool = False) -> OnceReport:
    """Every job once, in order: crawl all enabled sources, classify, digest."""
    report = OnceReport()
    if any(source.enabled for source in config.sources):
        report.crawls = crawl(config, db, debug=debug)
    report.classified = classify(config, db)
    report.digest = run_digest(config, db, report.classified.model_version)
    return report


def classify(config: Config, db: Database) -> ClassifyReport:
    """Judge what the active model has not judged, with the configured threshold offset."""
    return classify_pending(db, configured_classifier(config, db))


def build_scheduler(config: Config, db: Database, *, debug: bool = False) -> BlockingScheduler:
    timezone = ZoneInfo(config.digest.timezone)
    scheduler = BlockingScheduler(
        timezone=timezone,
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )
    for source in config.sources:
        if not source.enabled:
            continue
        scheduler.add_job(
            _logged(f"crawl {source.name}", lambda name=source.name: _crawl_and_classify(
                config, db, name, debug)),
            CronTrigger.from_crontab(source.schedule, timezone=timezone),
            id=f"crawl:{source.name}", name=f"crawl {source.name}",
        )
    scheduler.add_job(
        _logged("digest", lambda: _digest(config, db)),
        CronTrigger.from_crontab(config.digest.schedule, timezone=timezone),
        id="digest", name="digest",
    )
    return scheduler


def _crawl_and_classify(config: Config, db: Database, name: str, debug: bool) -> None:
    for summary in crawl(config, db, [name], debug=debug):
        log.info("crawl %s: %s, %d items, %d new%s", summary.source, summary.status,
                 summary.items, summary.new_posts,
                 f" ({summary.error})" if summary.error else "")
    report = classify(config, db)
    log.info("classified %d posts, %d flagged", report.classified, report.flagged)


def _digest(config: Config, db: Database) -> None:
    report = run_digest(config, db, classify(config, db).model_version)
    if report.digest is not None:
        log.info("digest %s: %d offers", report.digest.id, len(report.digest.entries))
    for d in report.deliveries:
        log.log(logging.WARNING if d.error else logging.INFO, "digest %s -> %s: %s%s",
                d.digest_id, d.channel, d.status, f" ({d.error})" if d.error else "")


def _logged(what: str, job: Callable[[], object]) -> Callable[[], None]:
    """Log a job's failure instead of letting it vanish into the executor."""
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("%s failed", what)
    return run


def run_forever(config: Config, db: Database, *, debug: bool = False) -> None:
    """Block until SIGINT or SIGTERM; then stop crawls in flight and exit cleanly."""
    scheduler = build_scheduler(config, db, debug=debug)

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop_children()
        if scheduler.running:  # a second Ctrl-C while stopping is not an error
            scheduler.shutdown(wait=False)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
