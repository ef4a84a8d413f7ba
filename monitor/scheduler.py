"""The unattended loop: each source on its cron, the digest on its cron, in one timezone.

The schedule is stored in the doxwatch database as JSON rows (``monitor.jobstore``: why
not pickle, what a row may name). Each start synchronises the jobs with the configuration
(added, updated, removed) and keeps a stored next run time, so a run that fell due while
nothing was running is seen and done, once. The configuration and the database a job
needs come from the process that runs it (``build_scheduler``).

When jobs run: cron triggers in ``[digest] timezone``. A job never overlaps itself
(``max_instances=1``). A run that was due while the scheduler was down is done when it
starts, however late, and only once however many were missed (``coalesce``, no misfire
grace limit): a machine down all week sends one digest, not seven. A digest due in the
same minute as crawls (or while crawls run) waits for those crawls to finish, so it holds
what they found (``CrawlsFirst``). Every five minutes the deliveries job sends what the
outbox has due (a failed delivery whose backoff has elapsed), so a channel that was down
at nine gets its digest by itself later.

One scheduler per database (``monitor.schedule_lock``): a second ``doxwatch run`` on the
same database refuses to start, naming the first. A failing job is logged and recorded by
the step that failed; the scheduler itself keeps running.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import inspect, select

from monitor.classify import ClassifyReport, classify_pending
from monitor.config import Config
from monitor.crawl import CrawlSummary, crawl, mark_stale_runs, stop_children, stop_on_signals
from monitor.db import Database
from monitor.digest import DigestReport, run_digest, send_deliveries
from monitor.immediate import send_immediate
from monitor.jobstore import (
    CRAWL_FUNCTION,
    DELIVERIES_FUNCTION,
    DIGEST_FUNCTION,
    DIGEST_JOB,
    JOBS_TABLE,
    JsonJobStore,
    cron_trigger,
    decode_job,
    trigger_state,
)
from monitor.modelstore import configured_classifier
from monitor.outbox import DeliveryOutcome
from monitor.schedule_lock import scheduler_holder, scheduler_lock

log = logging.getLogger("doxwatch.scheduler")

CRAWL_JOB_PREFIX = "crawl:"
DELIVERIES_JOB = "deliveries"
DELIVERIES_SCHEDULE = "*/5 * * * *"  # retries wait at least [digest] retry_backoff anyway
# None: a missed run is done however late it is (once, with coalesce); a limit would
# skip the digest of a machine that was down at nine and back at ten.
MISFIRE_GRACE_SECONDS: int | None = None
CRAWLS_FIRST_TIMEOUT = 30 * 60  # the longest a digest waits for the crawls before it
SUBMISSION_WAIT = 10.0
_RUNNING_TOLERANCE = 60  # seconds a running scheduler may be behind before a run counts as missed
_TICK = timedelta(microseconds=1)
MAX_COUNTED_MISSES = 10_000


@dataclass
class OnceReport:
    crawls: list[CrawlSummary] = field(default_factory=list)
    classified: ClassifyReport | None = None
    digest: DigestReport | None = None
    stopped_by: int | None = None  # the SIGINT or SIGTERM that stopped the crawls

    @property
    def ok(self) -> bool:
        crawls_ok = all(c.status != "failed" for c in self.crawls)
        return crawls_ok and not (self.digest and self.digest.failed)


def run_once(config: Config, db: Database, *, debug: bool = False) -> OnceReport:
    """Every job once, in order: crawl all enabled sources, classify, digest.

    A SIGINT or SIGTERM during the crawls stops them as it stops ``doxwatch crawl`` (runs
    recorded ``interrupted``) and skips the rest: whoever stopped the run wants it over, and
    the next run classifies and digests what was stored."""
    report = OnceReport()
    if any(source.enabled for source in config.sources):
        with stop_on_signals() as stop:
            report.crawls = crawl(config, db, debug=debug)
        if stop.signum:
            report.stopped_by = stop.signum
            return report
    report.classified = classify(config, db)
    report.digest = run_digest(config, db, report.classified.model_version)
    return report


def classify(config: Config, db: Database) -> ClassifyReport:
    """Judge what the active model has not judged, with the configured threshold offset;
    then send the immediate alerts, if configured, for what it flagged. Their failure is
    logged, never the job's: the outbox keeps and retries what was stored."""
    report = classify_pending(db, configured_classifier(config, db))
    if config.immediate is not None:
        try:
            alerts = send_immediate(config, db, report.model_version)
        except Exception:
            log.exception("immediate alerts failed")
        else:
            log.info("immediate alerts: %d sent, %d suppressed", alerts.sent, alerts.suppressed)
            _log_deliveries(alerts.deliveries)
    return report


# --- what runs --------------------------------------------------------------------------


class CrawlsFirst:
    """Makes a digest wait for the crawls that were running or due with it.

    It listens to the scheduler's events. A crawl is in flight from its submission to its
    end (executed, failed or missed). When the digest is submitted (after the crawls due
    in the same pass: ``JsonJobStore.get_due_jobs``), the crawls in flight are noted, and
    the digest job waits until each of those has finished (not for crawls that start
    later, so a busy schedule cannot starve it), at most ``timeout`` seconds.
    """

    def __init__(self, timeout: float = CRAWLS_FIRST_TIMEOUT) -> None:
        self.timeout = timeout
        self._changed = threading.Condition()
        self._submitted: dict[str, int] = {}
        self._finished: dict[str, int] = {}
        self._waits_for: dict[str, int] = {}
        self._closed = False

    def attach(self, scheduler: BaseScheduler) -> None:
        scheduler.add_listener(self._event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED
                               | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def _event(self, event: JobEvent) -> None:
        with self._changed:
            counts = self._submitted if event.code == EVENT_JOB_SUBMITTED else self._finished
            counts[event.job_id] = counts.get(event.job_id, 0) + 1
            if event.code == EVENT_JOB_SUBMITTED and event.job_id == DIGEST_JOB:
                self._waits_for = {job: n for job, n in self._submitted.items()
                                   if job.startswith(CRAWL_JOB_PREFIX)
                                   and n > self._finished.get(job, 0)}
            self._changed.notify_all()

    def close(self) -> None:
        """The scheduler is stopping: a waiting digest gives up at once."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for_crawls(self) -> bool:
        """Called by the digest job: True once the crawls it waits for are done; False if the
        scheduler is stopping. After ``timeout`` it logs which crawls it stopped waiting for."""
        deadline = time.monotonic() + self.timeout
        with self._changed:
            # the job may start before its own submission event is dispatched (after the
            # crawls' events of the same pass), which takes milliseconds
            self._changed.wait_for(lambda: self._closed or self._in_flight(DIGEST_JOB),
                                   timeout=min(SUBMISSION_WAIT, self.timeout))
            waits_for = dict(self._waits_for)
            if waits_for:
                log.info("digest waits for %s", ", ".join(sorted(waits_for)))

            def done() -> bool:
                return self._closed or all(self._finished.get(job, 0) >= n
                                           for job, n in waits_for.items())

            if not self._changed.wait_for(done, timeout=max(0.0, deadline - time.monotonic())):
                late = sorted(job for job, n in waits_for.items()
                              if self._finished.get(job, 0) < n)
                log.warning("digest stopped waiting for %s after %d s", ", ".join(late),
                            self.timeout)
            return not self._closed

    def _in_flight(self, job: str) -> bool:
        return self._submitted.get(job, 0) > self._finished.get(job, 0)


@dataclass(frozen=True)
class _Runtime:
    config: Config
    db: Database
    debug: bool
    gate: CrawlsFirst


_runtime: _Runtime | None = None  # what the job functions work with, set by build_scheduler


def crawl_job(source: str) -> None:
    """The job of one source: crawl it, then classify what came in."""
    runtime = _require_runtime()
    try:
        if not any(s.name == source and s.enabled for s in runtime.config.sources):
            log.warning("crawl %s: not an enabled source of the configuration", source)
            return
        _crawl_and_classify(runtime.config, runtime.db, source, runtime.debug)
    except Exception:
        log.exception("crawl %s failed", source)


def digest_job() -> None:
    """The digest job: once the crawls due with it are done, classify and send."""
    runtime = _require_runtime()
    try:
        if not runtime.gate.wait_for_crawls():
            log.info("digest not sent: the scheduler is stopping")
            return
        _digest(runtime.config, runtime.db)
    except Exception:
        log.exception("digest failed")


def deliveries_job() -> None:
    """The outbox's job: send the deliveries that are due (pending, or failed and backed off)."""
    runtime = _require_runtime()
    try:
        _log_deliveries(send_deliveries(runtime.config, runtime.db))
    except Exception:
        log.exception("sending deliveries failed")


def _require_runtime() -> _Runtime:
    if _runtime is None:
        raise RuntimeError("doxwatch jobs run inside build_scheduler's scheduler")
    return _runtime


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
        log.info("digest %s: %d offers", report.digest.id, report.digest.total_posts)
    _log_deliveries(report.deliveries)


def _log_deliveries(outcomes: Iterable[DeliveryOutcome]) -> None:
    for d in outcomes:
        detail = d.error or d.note
        log.log(logging.WARNING if d.error else logging.INFO, "digest %s -> %s: %s%s",
                d.digest_id, d.channel, d.status, f" ({detail})" if detail else "")


# --- the scheduler ----------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """A job as the configuration wants it."""

    id: str
    name: str
    func: str
    args: tuple[str, ...]
    expression: str
    trigger: CronTrigger


def configured_jobs(config: Config) -> list[JobSpec]:
    """One crawl job per enabled source, the digest job and the deliveries job."""
    timezone = ZoneInfo(config.digest.timezone)
    jobs = [JobSpec(f"{CRAWL_JOB_PREFIX}{s.name}", f"crawl {s.name}", CRAWL_FUNCTION,
                    (s.name,), s.schedule, cron_trigger(s.schedule, timezone))
            for s in config.sources if s.enabled]
    jobs.append(JobSpec(DIGEST_JOB, "digest", DIGEST_FUNCTION, (), config.digest.schedule,
                        cron_trigger(config.digest.schedule, timezone)))
    jobs.append(JobSpec(DELIVERIES_JOB, "deliveries", DELIVERIES_FUNCTION, (),
                        DELIVERIES_SCHEDULE, cron_trigger(DELIVERIES_SCHEDULE, timezone)))
    return jobs


def build_scheduler(config: Config, db: Database, *, debug: bool = False,
                    gate: CrawlsFirst | None = None) -> BlockingScheduler:
    """The scheduler with its jobs synchronised from the configuration into the job store
    (jobs no longer configured are removed from the store now; the others are written
    when the scheduler starts)."""
    global _runtime
    timezone = ZoneInfo(config.digest.timezone)
    store = JsonJobStore(db)
    scheduler = BlockingScheduler(
        timezone=timezone, jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )
    gate = gate or CrawlsFirst()
    gate.attach(scheduler)
    _runtime = _Runtime(config, db, debug, gate)
    store.start(scheduler, "default")  # creates the table if needed; read what it holds
    stored = {job.id: job for job in store.get_all_jobs()}
    now = datetime.now(timezone)
    for spec in configured_jobs(config):
        next_run = _next_run(stored.pop(spec.id, None), spec.trigger, now)
        scheduler.add_job(spec.func, spec.trigger, args=list(spec.args), id=spec.id,
                          name=spec.name, replace_existing=True, next_run_time=next_run)
    for job_id in stored:
        log.info("job %s is no longer configured: removed", job_id)
        store.remove_job(job_id)
    return scheduler


def _next_run(stored: Job | None, trigger: CronTrigger, now: datetime) -> datetime | None:
    """The stored next run time if it is still right: always when it has passed (a run was
    missed, and is done once at start), else if the schedule is unchanged."""
    fresh = trigger.get_next_fire_time(None, now)
    if stored is None or stored.next_run_time is None:
        return fresh
    if stored.next_run_time <= now:
        return stored.next_run_time
    same = isinstance(stored.trigger, CronTrigger) \
        and trigger_state(stored.trigger) == trigger_state(trigger)
    return stored.next_run_time if same else fresh


def run_forever(config: Config, db: Database, *, debug: bool = False) -> None:
    """Block until SIGINT or SIGTERM; then stop crawls in flight and exit cleanly.
    SchedulerBusy if another ``doxwatch run`` schedules this database's jobs."""
    with scheduler_lock(db):
        mark_stale_runs(db)  # runs left `running` by a scheduler or crawl that was killed
        gate = CrawlsFirst()
        scheduler = build_scheduler(config, db, debug=debug, gate=gate)

        def stop(signum: int, _frame: object) -> None:
            log.info("received %s, stopping", signal.Signals(signum).name)
            gate.close()
            stop_children(signum)
            if scheduler.running:  # a second Ctrl-C while stopping is not an error
                scheduler.shutdown(wait=False)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            scheduler.start()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


# --- `doxwatch schedule` ----------------------------------------------------------------


@dataclass(frozen=True)
class JobStatus:
    id: str
    name: str
    trigger: str                 # the cron expression (and timezone), as configured
    next_run: datetime | None    # in the configured timezone
    missed: int                  # runs due and not done; done once at the next start
    missed_since: datetime | None
    note: str | None = None


@dataclass(frozen=True)
class ScheduleReport:
    timezone: str
    running: str | None          # who runs the scheduler now, None if nobody
    jobs: list[JobStatus]


def read_schedule(config: Config, db: Database, now: datetime | None = None) -> ScheduleReport:
    """Every job: configured and stored (next run, missed runs), stored only (removed at the
    next start), configured only (added at the next start). Writes nothing."""
    timezone = ZoneInfo(config.digest.timezone)
    now = (now or datetime.now(UTC)).astimezone(timezone)
    running = scheduler_holder(db)
    stored, unreadable = _stored_jobs(db)
    jobs = []
    for spec in configured_jobs(config):
        state = stored.pop(spec.id, None)
        trigger = f"{spec.expression} ({config.digest.timezone})"
        if state is None:
            jobs.append(JobStatus(spec.id, spec.name, trigger,
                                  spec.trigger.get_next_fire_time(None, now), 0, None,
                                  "not scheduled yet: `doxwatch run` adds it"))
            continue
        next_run, missed, since = _missed(state, now, running is not None)
        note = None
        if trigger_state(state["trigger"]) != trigger_state(spec.trigger) and not missed:
            next_run = spec.trigger.get_next_fire_time(None, now)
            note = ("schedule changed in the configuration: "
                    + ("takes effect when `doxwatch run` restarts" if running
                       else "`doxwatch run` takes it up"))
        jobs.append(JobStatus(spec.id, spec.name, trigger, next_run, missed, since, note))
    for job_id, state in stored.items():
        next_run, missed, since = _missed(state, now, running is not None)
        jobs.append(JobStatus(job_id, state["name"], _describe(state["trigger"]), next_run,
                              missed, since, "no longer configured: removed at the next start"))
    for job_id, problem in unreadable.items():
        jobs.append(JobStatus(job_id, job_id, "?", None, 0, None,
                              f"unreadable row ({problem}): dropped at the next start"))
    return ScheduleReport(config.digest.timezone, running, jobs)


def _stored_jobs(db: Database) -> tuple[dict[str, dict], dict[str, str]]:
    if not inspect(db.engine).has_table(JOBS_TABLE):
        return {}, {}
    table = JsonJobStore(db).jobs_t
    stored: dict[str, dict] = {}
    unreadable: dict[str, str] = {}
    with db.engine.connect() as connection:
        for row in connection.execute(select(table.c.id, table.c.job_state,
                                             table.c.next_run_time)):
            try:
                stored[row.id] = decode_job(row.job_state, row.next_run_time)
            except ValueError as error:
                unreadable[row.id] = str(error)
    return stored, unreadable


def _missed(state: dict, now: datetime,
            running: bool) -> tuple[datetime | None, int, datetime | None]:
    """(next run in ``now``'s timezone, runs missed, the first missed)."""
    next_run = state["next_run_time"]
    if next_run is None:
        return None, 0, None
    next_run = next_run.astimezone(now.tzinfo)
    late = datetime_to_utc_timestamp(now) - datetime_to_utc_timestamp(next_run)
    if late <= (_RUNNING_TOLERANCE if running else 0):
        return next_run, 0, None
    trigger, count, moment = state["trigger"], 0, next_run
    while moment is not None and moment <= now and count < MAX_COUNTED_MISSES:
        count += 1
        moment = trigger.get_next_fire_time(moment, moment + _TICK)
    return next_run, count, next_run


def _describe(trigger: CronTrigger) -> str:
    fields = " ".join(f"{name}={value}" for name, value in trigger_state(trigger)["cron"].items())
    return f"cron {fields} ({trigger.timezone})"
