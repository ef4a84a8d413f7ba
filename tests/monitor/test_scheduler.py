"""The scheduler: jobs on their crons in the configured timezone, kept in the database as
JSON references, synchronised with the configuration at each start; `doxwatch schedule`."""

from __future__ import annotations

import json
import os
import pickle
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text

from monitor.config import load_config
from monitor.db import open_database
from monitor.jobstore import JOBS_TABLE, cron_trigger, decode_job
from monitor.scheduler import build_scheduler
from tests.monitor.cli_helpers import run_cli, write_config

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _config_text(tmp_path: Path, *, forum: str = "*/30 * * * *", digest: str = "0 9 * * *",
                 forum_enabled: bool = True, paused: bool = True) -> str:
    return f"""
[database]
url = "sqlite:///{tmp_path / 'w.db'}"

[[sources]]
name = "forum"
kind = "feed"
urls = ["http://127.0.0.1:8800/feed.xml"]
schedule = "{forum}"
enabled = {"true" if forum_enabled else "false"}

[[sources]]
name = "paused"
kind = "feed"
urls = ["http://127.0.0.1:8800/other.xml"]
enabled = {"false" if paused else "true"}

[digest]
schedule = "{digest}"
timezone = "Asia/Shanghai"
"""


def _load(tmp_path: Path, **kwargs):
    return load_config(write_config(tmp_path / "doxwatch.toml", _config_text(tmp_path, **kwargs)))


@contextmanager
def running(scheduler) -> Iterator[None]:
    """The BlockingScheduler in a thread, for the block."""
    thread = threading.Thread(target=scheduler.start, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not scheduler.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert scheduler.running
    try:
        yield
    finally:
        scheduler.shutdown(wait=True)
        thread.join(timeout=10)


def _rows(db) -> dict[str, tuple[float | None, dict]]:
    with db.engine.connect() as connection:
        found = connection.execute(
            text(f"SELECT id, next_run_time, job_state FROM {JOBS_TABLE}")).all()
    return {row[0]: (row[1], json.loads(bytes(row[2]))) for row in found}


def _set_next_run(db, job_id: str, moment: datetime) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(f"UPDATE {JOBS_TABLE} SET next_run_time = :t WHERE id = :id"),
                           {"t": moment.timestamp(), "id": job_id})


def test_jobs_follow_the_configured_crons_in_the_configured_timezone(tmp_path):
    config = _load(tmp_path)
    db = open_database(config.database_url)
    scheduler = build_scheduler(config, db)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"crawl:forum", "digest", "deliveries"}

    after = datetime(2026, 11, 23, 8, 59, tzinfo=SHANGHAI)
    digest_at = jobs["digest"].trigger.get_next_fire_time(None, after)
    assert digest_at == datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    crawl_at = jobs["crawl:forum"].trigger.get_next_fire_time(None, after)
    assert crawl_at == datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    later = jobs["crawl:forum"].trigger.get_next_fire_time(crawl_at, crawl_at)
    assert (later - crawl_at).total_seconds() == 30 * 60
    db.dispose()


# Cron's day of week: 0 and 7 are Sunday. Python's weekday(): Monday is 0.
WEEKDAYS = [
    ("1-5", {0, 1, 2, 3, 4}),
    ("0", {6}),
    ("7", {6}),
    ("0,6", {5, 6}),
    ("sat,sun", {5, 6}),
    ("mon-fri", {0, 1, 2, 3, 4}),
    ("*/2", {6, 1, 3, 5}),        # Sunday, Tuesday, Thursday, Saturday
    ("1-5/2", {0, 2, 4}),
    ("5-7", {4, 5, 6}),
    ("*", set(range(7))),
]


@pytest.mark.parametrize(("field", "expected"), WEEKDAYS, ids=[f for f, _ in WEEKDAYS])
def test_weekdays_are_counted_as_cron_counts_them(field, expected):
    """APScheduler 3 alone reads 1-5 as Tuesday to Saturday."""
    trigger = cron_trigger(f"0 9 * * {field}", SHANGHAI)
    moment = datetime(2026, 11, 22, 0, 0, tzinfo=SHANGHAI)  # a Sunday
    days = set()
    for _ in range(14):
        moment = trigger.get_next_fire_time(None, moment)
        if moment > datetime(2026, 12, 6, tzinfo=SHANGHAI):
            break
        assert moment.hour == 9 and moment.tzinfo == SHANGHAI
        days.add(moment.weekday())
        moment += timedelta(minutes=1)
    assert days == expected


def test_the_job_store_holds_references_and_keeps_a_missed_run_across_restarts(tmp_path):
    config = _load(tmp_path)
    db = open_database(config.database_url)
    with running(build_scheduler(config, db)):
        pass
    rows = _rows(db)
    assert set(rows) == {"crawl:forum", "digest", "deliveries"}
    next_digest, state = rows["digest"]
    # a function reference and string arguments, never a Config, never a pickle
    assert state["func"] == "monitor.scheduler:digest_job" and state["args"] == []
    assert rows["crawl:forum"][1]["func"] == "monitor.scheduler:crawl_job"
    assert rows["crawl:forum"][1]["args"] == ["forum"]
    assert state["trigger"] == {"cron": {"minute": "0", "hour": "9", "day": "*", "month": "*",
                                         "day_of_week": "*"}, "timezone": "Asia/Shanghai"}
    assert state["coalesce"] is True and state["max_instances"] == 1
    assert next_digest > time.time()

    # A digest time passes while nothing runs; the next start must still see it.
    missed = datetime.now(UTC) - timedelta(hours=3)
    _set_next_run(db, "digest", missed)
    scheduler = build_scheduler(config, db)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["digest"].next_run_time.timestamp() == pytest.approx(missed.timestamp())
    # an unchanged future time is kept as stored, too
    assert jobs["crawl:forum"].next_run_time.timestamp() == rows["crawl:forum"][0]
    db.dispose()


def test_each_start_synchronises_the_jobs_with_the_configuration(tmp_path):
    config = _load(tmp_path)
    db = open_database(config.database_url)
    with running(build_scheduler(config, db)):
        pass
    before = _rows(db)

    # forum paused, "paused" enabled, the digest moved to 18:00 on weekdays
    changed = _load(tmp_path, digest="0 18 * * 1-5", forum_enabled=False, paused=False)
    with running(build_scheduler(changed, db)):
        pass
    after = _rows(db)
    assert set(after) == {"crawl:paused", "digest", "deliveries"}
    assert after["digest"][1]["trigger"]["cron"]["hour"] == "18"
    assert after["digest"][1]["trigger"]["cron"]["day_of_week"] == "mon,tue,wed,thu,fri"
    next_digest = datetime.fromtimestamp(after["digest"][0], SHANGHAI)
    assert (next_digest.hour, next_digest.minute) == (18, 0) and next_digest.weekday() < 5
    assert after["digest"][0] != before["digest"][0]
    db.dispose()


def test_rows_naming_other_code_are_refused_not_run(capsys, tmp_path):
    """Whoever can write to the database cannot make the scheduler run their code: a row
    that names another function, or a pickle, is dropped without being called or loaded."""
    config = _load(tmp_path)
    db = open_database(config.database_url)
    with running(build_scheduler(config, db)):
        pass
    by_reference, by_pickle = tmp_path / "by-reference", tmp_path / "by-pickle"

    class Hostile:
        def __reduce__(self):
            return os.mkdir, (str(by_pickle),)

    json_row = {**_rows(db)["digest"][1], "id": "evil", "func": "os:mkdir",
                "args": [str(by_reference)]}
    past = time.time() - 60
    with db.engine.begin() as connection:
        insert = text(f"INSERT INTO {JOBS_TABLE} (id, next_run_time, job_state) "
                      "VALUES (:id, :t, :state)")
        connection.execute(insert, {"id": "evil", "t": past,
                                    "state": json.dumps(json_row).encode()})
        connection.execute(insert, {"id": "pickled", "t": past,
                                    "state": pickle.dumps(Hostile())})
    with pytest.raises(ValueError, match="refusing job function 'os:mkdir'"):
        decode_job(json.dumps(json_row).encode(), past)

    listed = run_cli(capsys, "--config", str(tmp_path / "doxwatch.toml"), "schedule").out
    assert "unreadable row (refusing job function 'os:mkdir')" in listed
    assert "unreadable row (not a doxwatch job (not JSON))" in listed

    with running(build_scheduler(config, db)):
        time.sleep(1.5)  # both rows were due a minute ago
    assert not by_reference.exists() and not by_pickle.exists()
    assert set(_rows(db)) == {"crawl:forum", "digest", "deliveries"}
    db.dispose()


def test_schedule_lists_next_runs_triggers_and_missed_runs(capsys, tmp_path):
    config = _load(tmp_path, forum="15 */2 * * *")
    cli = ("--config", str(tmp_path / "doxwatch.toml"))
    fresh = run_cli(capsys, *cli, "schedule")
    assert fresh.code == 0, fresh.err
    assert "Scheduler: not running" in fresh.out and "Times in Asia/Shanghai." in fresh.out
    assert fresh.out.count("not scheduled yet: `doxwatch run` adds it") == 3
    # the outbox's job: due retries every five minutes, between digests
    [deliveries] = [line for line in fresh.out.splitlines() if line.startswith("deliveries")]
    assert "*/5 * * * * (Asia/Shanghai)" in deliveries
    assert "paused" not in fresh.out

    db = open_database(config.database_url)
    with running(build_scheduler(config, db)):
        pass
    digest_trigger = CronTrigger(hour=9, minute=0, timezone=SHANGHAI)
    now = datetime.now(SHANGHAI)
    # the machine was down across two digest times
    first_missed = digest_trigger.get_next_fire_time(None, now - timedelta(days=2))
    _set_next_run(db, "digest", first_missed)
    db.dispose()

    listed = run_cli(capsys, *cli, "schedule")
    assert listed.code == 0, listed.err
    lines = {line.split()[0] + " " + line.split()[1]: line for line in listed.out.splitlines()
             if line.startswith(("crawl", "digest"))}
    digest = lines["digest 0"]
    assert "0 9 * * * (Asia/Shanghai)" in digest
    assert f"next {first_missed:%Y-%m-%d %H:%M} CST" in digest
    assert (f"MISSED 2 runs since {first_missed:%Y-%m-%d %H:%M}: done once when "
            "`doxwatch run` starts") in digest
    crawl = lines["crawl forum"]
    assert "15 */2 * * * (Asia/Shanghai)" in crawl and "MISSED" not in crawl
    crawl_next = datetime.strptime(crawl.split("next ")[1][:16], "%Y-%m-%d %H:%M")
    assert crawl_next.minute == 15 and crawl_next.hour % 2 == 0
    assert 0 < (crawl_next.replace(tzinfo=SHANGHAI) - now).total_seconds() <= 2 * 3600
