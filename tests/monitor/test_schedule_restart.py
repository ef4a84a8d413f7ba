"""The real scheduler on a real database, with real receivers: a machine that was down sends
one digest, not one per missed day; a digest due with crawls waits for them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select, text

from monitor.config import load_config
from monitor.db import open_database
from monitor.db.schema import DigestRecord
from monitor.jobstore import JOBS_TABLE
from monitor.scheduler import build_scheduler
from tests.helpers import LoopbackServer, loopback_server
from tests.monitor.cli_helpers import run_cli, write_config

pytestmark = pytest.mark.usefixtures("classifier")

SHANGHAI = ZoneInfo("Asia/Shanghai")
NINE = CronTrigger(hour=9, minute=0, timezone=SHANGHAI)
OFFER_TITLE = "出户籍 开房 轨迹"
OFFER_TEXT = "可cx 户籍 开房 轨迹 机主 秒出 担保交易 飞机@order_seller 价格私聊"


@contextmanager
def running(scheduler) -> Iterator[None]:
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
        thread.join(timeout=30)


def _posts(server: LoopbackServer, path: str) -> list:
    return [r for r in server.requests if r.method == "POST" and r.path == path]


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _next_runs(db) -> dict[str, float]:
    with db.engine.connect() as connection:
        return dict(connection.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE}")).all())


def _set_next_run(db, job_id: str, moment: datetime) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(f"UPDATE {JOBS_TABLE} SET next_run_time = :t WHERE id = :id"),
                           {"t": moment.timestamp(), "id": job_id})


def test_a_scheduler_down_across_two_digest_times_sends_one_digest(capsys, tmp_path: Path):
    receiver = LoopbackServer()
    receiver.add("/hook", "ok", content_type="text/plain")
    with loopback_server(receiver):
        config_path = write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "sqlite:///{tmp_path / 'watch.db'}"
[digest]
schedule = "0 9 * * *"
timezone = "Asia/Shanghai"
send_empty = true                 # every run that happens makes a digest: they can be counted
[[channels]]
name = "hook"
kind = "webhook"
url = "{receiver.url('/hook')}"
""")
        config = load_config(config_path)
        db = open_database(config.database_url)
        with running(build_scheduler(config, db)):
            pass  # the schedule is in the database; nothing was due

        # Stopped for two days: the digest times of yesterday and the day before pass.
        now = datetime.now(SHANGHAI)
        first_missed = NINE.get_next_fire_time(None, now - timedelta(days=2))
        _set_next_run(db, "digest", first_missed)
        listed = run_cli(capsys, "--config", str(config_path), "schedule")
        assert "MISSED 2 runs" in listed.out, listed.out

        with running(build_scheduler(config, db)):
            assert _wait_for(lambda: _posts(receiver, "/hook"), 60), "no digest was sent"
            time.sleep(2)  # time for a second (or third) one, if the runs were not coalesced
        with db.session() as session:
            digests = session.scalar(select(func.count(DigestRecord.id)))
    assert len(_posts(receiver, "/hook")) == 1 and digests == 1
    # and the schedule goes on from now: the next nine o'clock, nothing missed any more
    upcoming = NINE.get_next_fire_time(None, datetime.now(SHANGHAI))
    assert _next_runs(db)["digest"] == upcoming.timestamp()
    assert "MISSED" not in run_cli(capsys, "--config", str(config_path), "schedule").out
    db.dispose()


def _rss(base: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>b</title>'
            f"<item><guid>ad-1</guid><link>{base}/ad/1</link><title>{OFFER_TITLE}</title>"
            f"<description>{OFFER_TEXT}</description></item></channel></rss>")


def test_a_digest_due_with_a_crawl_waits_for_it_and_holds_what_it_found(tmp_path: Path):
    site = LoopbackServer()
    crawling, release = threading.Event(), threading.Event()

    def slow_feed(request):
        if request.path == "/feed.xml":
            crawling.set()
            release.wait(30)  # the crawl is in flight for as long as the test says
        return None

    site.handler = slow_feed
    with loopback_server(site) as server:
        site.add("/feed.xml", _rss(server.base), content_type="application/rss+xml")
        site.add("/hook", "ok", content_type="text/plain")
        config = load_config(write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "sqlite:///{tmp_path / 'watch.db'}"
[[sources]]
name = "board"
kind = "feed"
urls = ["{server.url('/feed.xml')}"]
schedule = "0 9 * * *"
[digest]
schedule = "0 9 * * *"            # the same minute as the crawl
timezone = "Asia/Shanghai"
[crawl]
delay = 0
[[channels]]
name = "hook"
kind = "webhook"
url = "{server.url('/hook')}"
"""))
        db = open_database(config.database_url)
        with running(build_scheduler(config, db)):
            pass
        # both were due at the same nine o'clock while the scheduler was stopped
        due = NINE.get_next_fire_time(None, datetime.now(SHANGHAI) - timedelta(days=1))
        _set_next_run(db, "crawl:board", due)
        _set_next_run(db, "digest", due)

        try:
            with running(build_scheduler(config, db)):
                assert crawling.wait(60), "the crawl did not start"
                time.sleep(2)
                assert not _posts(site, "/hook"), "the digest went out before the crawl ended"
                release.set()
                assert _wait_for(lambda: _posts(site, "/hook"), 60), "no digest after the crawl"
        finally:
            release.set()
    [delivered] = _posts(site, "/hook")
    body = json.loads(delivered.body)
    assert [entry["title"] for entry in body["entries"]] == [OFFER_TITLE]
    db.dispose()
