"""The unattended loop: each source on its cron, the digest on its cron, in one timezone.

Where the schedule lives: APScheduler's job store is a table of the doxwatch database
(``apscheduler_jobs``, SQLite or PostgreSQL alike), so the schedule and a run that was
missed while the machine was down survive a restart. Each start synchronises the jobs
with the configuration (added, updated, removed) and keeps a stored next run time, so
a run that fell due while nothing was running is seen and done, once.

What a row holds: JSON, not APScheduler's pickle. A job is a textual reference to one of
the job functions of this module (``JOB_FUNCTIONS``) with JSON arguments (a source name, or
none), its cron fields, the timezone and the next run time; never a Config object, never
scraped text. Reading a row builds nothing but a CronTrigger and refuses any other
function, so whoever can write to the database cannot make the scheduler run code of
their choosing (nor unpickle anything). The configuration and the database a job needs
come from the process that runs it (``build_scheduler``).

When jobs run: cron triggers in ``[digest] timezone``; cron's day-of-week numbers
(0 or 7 = Sunday) are translated for APScheduler 3, which counts from Monday. A job never
overlaps itself (``max_instances=1``). A run that was due while the scheduler was down
is done when it starts, however late, and only once however many were missed
(``coalesce``, no misfire grace limit): a machine down all week sends one digest, not
seven. A digest due in the same minute as crawls (or while crawls run) waits for those
crawls to finish, so it holds what they found (``CrawlsFirst``). Every five minutes the
deliveries job sends what the outbox has due (a failed delivery whose backoff has elapsed),
so a channel that was down at nine gets its digest by itself later.

One scheduler per database: ``run_forever`` holds a lock for as long as it runs (a
PostgreSQL advisory lock; for SQLite, an flock on ``<database file>.scheduler-lock``),
released by the system if the process dies, and a second ``doxwatch run`` on the same
database refuses to start, naming the first. A failing job is logged and recorded by the
step that failed; the scheduler itself keeps running.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from monitor.classify import ClassifyReport, classify_pending
from monitor.config import Config
from monitor.crawl import CrawlSummary, crawl, mark_stale_runs, stop_children, stop_on_signals
from monitor.db import Database
from monitor.db.engine import is_sqlite, parse_url, sqlite_file
from monitor.digest import DigestReport, run_digest, send_deliveries
from monitor.errors import DoxwatchError
from monitor.immediate import send_immediate
from monitor.modelstore import configured_classifier
from monitor.outbox import DeliveryOutcome

log = logging.getLogger("doxwatch.scheduler")

JOBS_TABLE = "apscheduler_jobs"
DIGEST_JOB = "digest"
CRAWL_JOB_PREFIX = "crawl:"
CRAWL_FUNCTION = "monitor.scheduler:crawl_job"
DIGEST_FUNCTION = "monitor.scheduler:digest_job"
DELIVERIES_JOB = "deliveries"
DELIVERIES_FUNCTION = "monitor.scheduler:deliveries_job"
DELIVERIES_SCHEDULE = "*/5 * * * *"  # retries wait at least [digest] retry_backoff anyway
JOB_FUNCTIONS = frozenset({CRAWL_FUNCTION, DIGEST_FUNCTION, DELIVERIES_FUNCTION})  # all a
# stored row may name
# None: a missed run is done however late it is (once, with coalesce); a limit would
# skip the digest of a machine that was down at nine and back at ten.
MISFIRE_GRACE_SECONDS: int | None = None
CRAWLS_FIRST_TIMEOUT = 30 * 60  # the longest a digest waits for the crawls before it
SUBMISSION_WAIT = 10.0
LOCK_SUFFIX = ".scheduler-lock"
PG_LOCK_KEY = int.from_bytes(b"doxwrun\x00", "big")  # pg_try_advisory_lock(bigint)
_RUNNING_TOLERANCE = 60  # seconds a running scheduler may be behind before a run counts as missed
_TICK = timedelta(microseconds=1)
MAX_COUNTED_MISSES = 10_000


class SchedulerBusy(DoxwatchError):
    """Another ``doxwatch run`` already schedules the jobs of this database."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        super().__init__(
            f"another `doxwatch run` already schedules the jobs of this database ({holder}); "
            "one scheduler per database: stop that one first")


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


# --- cron ------------------------------------------------------------------------------

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(expression: str, timezone: ZoneInfo) -> CronTrigger:
    """A crontab expression as cron reads it, in ``timezone``.

    APScheduler 3 numbers weekdays from Monday (``1-5`` would be Tuesday to Saturday), so
    the day-of-week field is rewritten as day names first. When both day of month and day
    of week are restricted, APScheduler wants both to match (cron: either).
    """
    fields = expression.split()
    if len(fields) == 5:
        fields[4] = _weekday_names(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


def _weekday_names(field: str) -> str:
    """Cron's day-of-week field (0 or 7 = Sunday, ranges, steps, names) as day names."""
    if field == "*":
        return field
    days: set[int] = set()
    try:
        for part in field.lower().split(","):
            body, slash, step = part.partition("/")
            every = int(step) if slash else 1
            if body == "*":
                first, last = 0, 6
            elif "-" in body:
                start, end = body.split("-", 1)
                first, last = _cron_day(start), _cron_day(end)
            else:
                first = _cron_day(body)
                last = 7 if slash else first
            if last < first or every < 1:
                return field
            days.update(range(first, last + 1, every))
    except ValueError:
        return field  # not ours to judge: APScheduler says what is wrong
    return ",".join(_CRON_DAYS[day] for day in sorted({day % 7 for day in days}))


def _cron_day(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token[:3] in _CRON_DAYS:
        return _CRON_DAYS.index(token[:3])
    raise ValueError(token)


# --- the job store ----------------------------------------------------------------------


class JsonJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store, on the doxwatch engine, with JSON rows.

    Rows are written by ``encode_job`` and read by ``decode_job`` (see the module
    docstring for why not pickle). Due jobs come crawls first, so that in one pass of the
    scheduler the crawls are submitted before the digest due with them.
    """

    def __init__(self, db: Database) -> None:
        super().__init__(engine=db.engine, tablename=JOBS_TABLE)

    def add_job(self, job: Job) -> None:
        row = {"id": job.id, "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
               "job_state": encode_job(job)}
        with self.engine.begin() as connection:
            try:
                connection.execute(self.jobs_t.insert().values(**row))
            except IntegrityError:
                raise ConflictingIdError(job.id) from None

    def update_job(self, job: Job) -> None:
        update = self.jobs_t.update().where(self.jobs_t.c.id == job.id).values(
            next_run_time=datetime_to_utc_timestamp(job.next_run_time),
            job_state=encode_job(job))
        with self.engine.begin() as connection:
            if connection.execute(update).rowcount == 0:
                raise JobLookupError(job.id)

    def get_due_jobs(self, now: datetime) -> list[Job]:
        return sorted(super().get_due_jobs(now), key=lambda job: job.id == DIGEST_JOB)

    def shutdown(self) -> None:
        """The engine belongs to the Database, which closes it."""

    def lookup_job(self, job_id: str) -> Job | None:
        query = select(self.jobs_t.c.job_state, self.jobs_t.c.next_run_time) \
            .where(self.jobs_t.c.id == job_id)
        with self.engine.begin() as connection:
            row = connection.execute(query).first()
        return self._reconstitute_job(row.job_state, row.next_run_time) if row else None

    def _get_jobs(self, *conditions: Any) -> list[Job]:
        """The jobs in order of next run time; a row that cannot be read is logged and
        deleted (as APScheduler does), so it cannot stop the scheduler."""
        query = select(self.jobs_t.c.id, self.jobs_t.c.job_state, self.jobs_t.c.next_run_time) \
            .order_by(self.jobs_t.c.next_run_time)
        if conditions:
            query = query.where(*conditions)
        jobs, unreadable = [], []
        with self.engine.begin() as connection:
            for row in connection.execute(query):
                try:
                    jobs.append(self._reconstitute_job(row.job_state, row.next_run_time))
                except ValueError as error:
                    log.error("job %s in %s cannot be read (%s): removed", row.id,
                              JOBS_TABLE, error)
                    unreadable.append(row.id)
            if unreadable:
                connection.execute(self.jobs_t.delete().where(self.jobs_t.c.id.in_(unreadable)))
        return jobs

    def _reconstitute_job(self, job_state: bytes, next_run_time: float | None = None) -> Job:
        state = decode_job(job_state, next_run_time)
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job


def encode_job(job: Job) -> bytes:
    """The row's ``job_state``: JSON of a function reference, string arguments, options and
    cron fields. The next run time is the row's own ``next_run_time`` column only."""
    state = job.__getstate__()
    trigger = state["trigger"]
    if not isinstance(trigger, CronTrigger) or trigger.start_date or trigger.end_date \
            or trigger.jitter:
        raise ValueError(f"job {job.id}: only plain cron triggers are stored")
    if state["func"] not in JOB_FUNCTIONS or state["kwargs"] \
            or not all(isinstance(arg, str) for arg in state["args"]):
        raise ValueError(f"job {job.id}: only doxwatch job functions with string arguments")
    return json.dumps({
        "version": 1,
        "id": state["id"],
        "name": state["name"],
        "func": state["func"],
        "args": list(state["args"]),
        "executor": state["executor"],
        "misfire_grace_time": state["misfire_grace_time"],
        "coalesce": state["coalesce"],
        "max_instances": state["max_instances"],
        "trigger": trigger_state(trigger),
    }, ensure_ascii=False, sort_keys=True).encode("utf-8")


def decode_job(raw: bytes, next_run_time: float | None) -> dict[str, Any]:
    """A stored row (``job_state``, ``next_run_time`` in UTC seconds) as the state
    ``Job.__setstate__`` takes; ValueError if it is not one doxwatch wrote (another function,
    arguments that are not strings, another trigger)."""
    try:
        data = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("not a doxwatch job (not JSON)") from None
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ValueError("not a doxwatch job (no version 1)")
    if data.get("func") not in JOB_FUNCTIONS:
        raise ValueError(f"refusing job function {data.get('func')!r}")
    args = data.get("args")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError("job arguments must be strings")
    if not isinstance(data.get("id"), str) or not isinstance(data.get("name"), str):
        raise ValueError("job id and name must be strings")
    grace = data.get("misfire_grace_time")
    if not (grace is None or isinstance(grace, int | float)) \
            or not isinstance(data.get("max_instances"), int) \
            or not isinstance(data.get("coalesce"), bool):
        raise ValueError("bad job options")
    return {
        "version": 1,
        "id": data["id"],
        "name": data["name"],
        "func": data["func"],
        "trigger": _trigger_from_state(data.get("trigger")),
        "executor": str(data.get("executor", "default")),
        "args": tuple(args),
        "kwargs": {},
        "misfire_grace_time": grace,
        "coalesce": data["coalesce"],
        "max_instances": data["max_instances"],
        "next_run_time": utc_timestamp_to_datetime(next_run_time),
    }


def trigger_state(trigger: CronTrigger) -> dict[str, Any]:
    """The cron fields that are set, and the timezone: what tells two schedules apart."""
    return {"cron": {f.name: str(f) for f in trigger.fields if not f.is_default},
            "timezone": str(trigger.timezone)}


def _trigger_from_state(state: Any) -> CronTrigger:
    if not isinstance(state, dict) or not isinstance(state.get("cron"), dict):
        raise ValueError("not a cron trigger")
    cron = state["cron"]
    if not set(cron) <= set(CronTrigger.FIELD_NAMES) \
            or not all(isinstance(v, str) for v in cron.values()):
        raise ValueError("bad cron fields")
    try:
        return CronTrigger(timezone=ZoneInfo(str(state.get("timezone"))), **cron)
    except (ValueError, KeyError) as error:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"bad cron trigger: {error}") from None


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


# --- one scheduler per database ---------------------------------------------------------


@contextmanager
def scheduler_lock(db: Database) -> Iterator[None]:
    """Hold the database's scheduler lock for the block; SchedulerBusy if another process
    holds it. The system releases it when the holder dies (even by SIGKILL)."""
    url = parse_url(db.url)
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is None:  # in memory: no other process can see this database
            yield
            return
        with _file_lock(_lock_file(path)):
            yield
    elif url.get_backend_name() == "postgresql":
        with _advisory_lock(db):
            yield
    else:
        log.warning("%s: no scheduler lock for this database; run one scheduler only",
                    url.get_backend_name())
        yield


def scheduler_holder(db: Database) -> str | None:
    """Who runs the scheduler of this database now ("pid 12 on host since ..."), or None."""
    url = parse_url(db.url)
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is None or not _lock_file(path).exists():
            return None
        try:
            with _file_lock(_lock_file(path), record=False):
                return None
        except SchedulerBusy as busy:
            return busy.holder
    if url.get_backend_name() == "postgresql":
        try:
            with _advisory_lock(db, record=False):
                return None
        except SchedulerBusy as busy:
            return busy.holder
    return None


def _lock_file(database: Path) -> Path:
    return database.with_name(database.name + LOCK_SUFFIX)


def _me() -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()} since {started}"


@contextmanager
def _file_lock(path: Path, *, record: bool = True) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not a POSIX system: nothing to lock with
        log.warning("no file locking here: run one scheduler per database only")
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
            raise SchedulerBusy(holder or "a process on this machine") from None
        if record:
            os.ftruncate(fd, 0)
            os.pwrite(fd, _me().encode("utf-8"), 0)
        try:
            yield
        finally:
            if record:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _advisory_lock(db: Database, *, record: bool = True) -> Iterator[None]:
    """A session-level advisory lock on a connection of its own, held while the block runs;
    that connection is closed for good afterwards, which releases the lock."""
    connection = db.engine.connect()
    try:
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                 {"key": PG_LOCK_KEY}).scalar()
        if not got:
            holder = _pg_holder(connection)
            connection.rollback()
            raise SchedulerBusy(holder)
        if record:  # shows in pg_stat_activity, and in the message of a second run
            connection.execute(text("SELECT set_config('application_name', :me, false)"),
                               {"me": f"doxwatch run, {_me()}"[:63]})
        connection.commit()  # the lock is the session's: no transaction stays open
        yield
    finally:
        with suppress(SQLAlchemyError):
            connection.invalidate()  # the session ends: lock released, nothing pooled
        connection.close()


def _pg_holder(connection: Any) -> str:
    row = connection.execute(text(
        "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid::bigint = :high AND l.objid::bigint = :low "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
        {"high": PG_LOCK_KEY >> 32, "low": PG_LOCK_KEY & 0xFFFF_FFFF}).first()
    if row is None:
        return "a session of this PostgreSQL database"
    name, address, since = row
    if name and name.startswith("doxwatch run, "):
        return name.removeprefix("doxwatch run, ")
    where = f"from {address}" if address else "over a local socket"
    return f"a PostgreSQL session {where} since {since:%Y-%m-%d %H:%M:%S}"


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
