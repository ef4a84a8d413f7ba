"""Where the schedule lives, and what a stored job may be.

APScheduler's job store is a table of the doxwatch database (``apscheduler_jobs``, SQLite
or PostgreSQL alike), so the schedule and a run that was missed while the machine was down
survive a restart.

What a row holds: JSON, not APScheduler's pickle. A job is a textual reference to one of
the job functions of ``monitor.scheduler`` (``JOB_FUNCTIONS``) with JSON arguments (a
source name, or none), its cron fields, the timezone and the next run time; never a Config
object, never scraped text. Reading a row builds nothing but a CronTrigger and refuses any
other function, so whoever can write to the database cannot make the scheduler run code of
their choosing (nor unpickle anything).

Cron's day-of-week numbers (0 or 7 = Sunday) are translated for APScheduler 3, which
counts from Monday.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monitor.db import Database

log = logging.getLogger("doxwatch.scheduler")

JOBS_TABLE = "apscheduler_jobs"
DIGEST_JOB = "digest"
CRAWL_FUNCTION = "monitor.scheduler:crawl_job"
DIGEST_FUNCTION = "monitor.scheduler:digest_job"
DELIVERIES_FUNCTION = "monitor.scheduler:deliveries_job"
# all a stored row may name
JOB_FUNCTIONS = frozenset({CRAWL_FUNCTION, DIGEST_FUNCTION, DELIVERIES_FUNCTION})


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

