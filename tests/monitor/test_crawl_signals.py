"""A crawl survives kill -9 and SIGTERM honestly (issue 12, item 5).

Real parts only: `doxwatch crawl` and `doxwatch run` as processes of their own, real
signals, the real crawl child, and a forum on loopback that answers slowly, so that the
signal lands in the middle of the crawl. Finding the crawl child reads /proc (Linux).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.config import SourceConfig, load_config
from monitor.crawl import (
    STALE_AFTER,
    STALE_ERROR,
    crawl,
    mark_stale_runs,
    process_owner,
    stop_on_signals,
)
from monitor.crawl_child import PARENT_ENV
from monitor.db import get_or_create_source, open_database
from monitor.db.schema import CrawlRun, Post
from monitor.scheduler import build_scheduler
from tests.helpers import LoopbackServer, Recorded, loopback_server
from tests.monitor.cli_helpers import forum_pages, run_cli, write_config
from tests.monitor.test_health import _runs, health_after
from tests.monitor.test_schedule_restart import _set_next_run, running

THREADS = 40
SLOW_SECONDS = 0.5  # per thread page: the whole crawl takes 20 s, a signal lands inside it
POSTS = {f"/forum/t{n}.html": (f"帖子 {n}", f"第 {n} 帖的正文，周末一起去爬山。")
         for n in range(THREADS)}


class SlowForum(LoopbackServer):
    """The forum of ``POSTS``, each thread page answered after SLOW_SECONDS while
    ``slow`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = threading.Event()
        self.slow.set()
        self.handler = self._delay
        for path, page in forum_pages(POSTS).items():
            self.add(path, page)

    def _delay(self, request: Recorded) -> None:
        if request.path.startswith("/forum/t") and self.slow.is_set():
            time.sleep(SLOW_SECONDS)

    def threads_asked(self) -> int:
        return sum(r.path.startswith("/forum/t") for r in self.requests)


def _config(tmp_path: Path, forum: LoopbackServer, schedule: str = "*/30 * * * *") -> Path:
    return write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "sqlite:///{tmp_path / 'watch.db'}"
[crawl]
delay = 0
[[sources]]
name = "forum"
kind = "generic"
urls = ["{forum.url('/forum/')}"]
schedule = "{schedule}"
[sources.options]
item_links = "a.thread::attr(href)"
title = "h1::text"
text = "div.post"
""")


def _doxwatch(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from monitor.cli import main; main()", "--config",
         str(config), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_for(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def _alive(pid: int) -> bool:
    return process_owner(pid) is not None  # a zombie counts as gone


def _crawl_child_of(parent: int) -> int | None:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"monitor.crawl_child" in command:
            return int(stat.parent.name)
    return None


def _runs_and_posts(tmp_path: Path) -> tuple[list[CrawlRun], int]:
    db = open_database(f"sqlite:///{tmp_path / 'watch.db'}")
    try:
        with db.session() as session:
            runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
            session.expunge_all()
            return runs, session.scalar(select(func.count(Post.id))) or 0
    finally:
        db.dispose()


def _start_crawling(process: subprocess.Popen, forum: SlowForum) -> int:
    """Wait until the crawl is well under way; the crawl child's pid."""
    assert _wait_for(lambda: forum.threads_asked() >= 3, 60), process.communicate(timeout=5)
    child = _crawl_child_of(process.pid)
    assert child is not None
    return child


def test_kill_9_of_the_parent_stops_the_child_and_the_next_crawl_marks_the_run(
        capsys, tmp_path):
    forum = SlowForum()
    with loopback_server(forum):
        config = _config(tmp_path, forum)
        parent = _doxwatch(config, "crawl", "forum")
        try:
            child = _start_crawling(parent, forum)
            parent.kill()
            parent.wait(timeout=10)
            assert _wait_for(lambda: not _alive(child), 5), "the crawl child outlived its parent"
            asked = len(forum.requests)
            time.sleep(2 * SLOW_SECONDS + 1)
            assert len(forum.requests) == asked, "the site is still being crawled"
            assert forum.threads_asked() < THREADS
        finally:
            parent.kill()
            parent.communicate()
        [left], stored = _runs_and_posts(tmp_path)
        assert left.status == "running" and left.owner.split()[1] == str(parent.pid)
        assert stored >= 1  # the child stopped gracefully: what it had scraped is kept

        forum.slow.clear()
        again = run_cli(capsys, "--config", str(config), "crawl", "forum")
    assert again.code == 0, again.out + again.err
    stale, fresh = _runs_and_posts(tmp_path)[0]
    assert (stale.status, stale.error, stale.errors) == ("failed", STALE_ERROR, 1)
    assert stale.finished_at is not None
    assert fresh.status == "ok" and fresh.items == THREADS


@pytest.mark.parametrize(("command", "signum"), [
    (("crawl", "forum"), signal.SIGTERM), (("crawl", "forum"), signal.SIGINT),
    (("run", "--once"), signal.SIGTERM)])
def test_a_signal_to_doxwatch_crawl_records_the_run_interrupted(tmp_path, command, signum):
    """``run --once`` stops as ``crawl`` does, and classifies and digests nothing after."""
    forum = SlowForum()
    with loopback_server(forum):
        parent = _doxwatch(_config(tmp_path, forum), *command)
        try:
            child = _start_crawling(parent, forum)
            asked, signalled = forum.threads_asked(), time.monotonic()
            parent.send_signal(signum)
            out, err = parent.communicate(timeout=30)
        finally:
            parent.kill()
        assert not _alive(child)
    # a graceful stop ends the page in flight and fetches no more
    assert time.monotonic() - signalled < 5 and forum.threads_asked() <= asked + 1
    name = signal.Signals(signum).name
    assert parent.returncode == 128 + signum, out + err
    assert "forum: interrupted, " in out and f"stopped by {name} before the crawl finished" in out
    [run], stored = _runs_and_posts(tmp_path)
    assert run.status == "interrupted" and run.finished_at is not None
    assert 3 <= run.pages < THREADS and run.items >= 2 and run.errors == 0
    assert stored == run.items == run.new_posts  # the pipeline flushed on close
    assert "classified" not in out and "digest" not in out.lower()


@pytest.mark.usefixtures("classifier")  # the crawl job classifies what it brought
def test_sigterm_to_the_scheduler_records_its_crawl_in_flight_interrupted(tmp_path):
    forum = SlowForum()
    with loopback_server(forum):
        config_path = _config(tmp_path, forum, schedule="0 3 * * *")
        db = open_database(load_config(config_path).database_url)
        with running(build_scheduler(load_config(config_path), db)):
            pass  # the jobs are stored; now the crawl fell due while nothing ran
        _set_next_run(db, "crawl:forum", datetime.now(UTC) - timedelta(hours=1))
        db.dispose()
        scheduler = _doxwatch(config_path, "run")
        try:
            child = _start_crawling(scheduler, forum)
            scheduler.send_signal(signal.SIGTERM)
            out, err = scheduler.communicate(timeout=60)
        finally:
            scheduler.kill()
        assert not _alive(child)
    assert scheduler.returncode == 0, out + err  # a scheduler told to stop stops cleanly
    [run], stored = _runs_and_posts(tmp_path)
    assert run.status == "interrupted", run.error
    assert run.error == "stopped by SIGTERM before the crawl finished"
    assert 3 <= run.pages < THREADS and stored == run.items >= 2


def _dead_process_owner() -> str:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    owner = process_owner(process.pid)
    process.kill()
    process.wait()
    return owner


def _add_running(url: str, runs: dict[str, tuple[str | None, timedelta]]) -> dict[str, int]:
    """Running crawl runs: name -> (owner, age); their ids by name."""
    db = open_database(url, upgrade=True)
    ids = {}
    with db.session() as session:
        source = get_or_create_source(session, SourceConfig("feed", "feed", ("http://x/",), {}))
        for name, (owner, age) in runs.items():
            run = CrawlRun(source_id=source.id, status="running", owner=owner,
                           started_at=datetime.now(UTC) - age)
            session.add(run)
            session.flush()
            ids[name] = run.id
    db.dispose()
    return ids


def test_running_runs_whose_owner_is_gone_are_marked_failed(db_url):
    here, pid, _ = process_owner().split()
    recent, old = timedelta(minutes=1), STALE_AFTER + timedelta(minutes=1)
    ids = _add_running(db_url, {
        "in flight": (process_owner(), recent),
        "killed": (_dead_process_owner(), recent),
        "pid reused": (f"{here} {pid} another-start", recent),
        "other machine": ("elsewhere/pid:[1] 12 boot:34", recent),
        "other machine, long ago": ("elsewhere/pid:[1] 12 boot:34", old),
        "no owner": (None, recent),
        "no owner, long ago": (None, old),
    })
    db = open_database(db_url)
    marked = mark_stale_runs(db)
    with db.session() as session:
        status = {name: session.get(CrawlRun, run_id).status for name, run_id in ids.items()}
        error = session.get(CrawlRun, ids["killed"]).error
    assert mark_stale_runs(db) == []
    db.dispose()
    assert sorted(marked) == sorted(ids[name] for name in (
        "killed", "pid reused", "other machine, long ago", "no owner, long ago"))
    assert status == {"in flight": "running", "killed": "failed", "pid reused": "failed",
                      "other machine": "running", "other machine, long ago": "failed",
                      "no owner": "running", "no owner, long ago": "failed"}
    assert error == STALE_ERROR


def test_the_scheduler_marks_stale_runs_when_it_starts(tmp_path):
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    config = write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "{url}"
""")
    [run_id] = _add_running(url, {"killed": (_dead_process_owner(), timedelta(0))}).values()
    scheduler = _doxwatch(config, "run")
    try:
        banner = ""
        deadline = time.monotonic() + 30
        while "Ctrl-C" not in banner and time.monotonic() < deadline:
            banner += scheduler.stderr.readline()
        assert "Ctrl-C" in banner
        assert _wait_for(lambda: _runs_and_posts(tmp_path)[0][0].status != "running", 10)
        [run], _ = _runs_and_posts(tmp_path)
        assert run.id == run_id and (run.status, run.error) == ("failed", STALE_ERROR)
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=20) == 0
    finally:
        scheduler.kill()
        scheduler.communicate()


def test_a_signal_before_the_child_starts_starts_no_crawl(tmp_path):
    forum = SlowForum()
    with loopback_server(forum):
        config = load_config(_config(tmp_path, forum))
        db = open_database(config.database_url)
        with stop_on_signals() as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            [summary] = crawl(config, db, ["forum"])
        db.dispose()
    assert stop.signum == signal.SIGTERM
    assert (summary.status, summary.error) == (
        "interrupted", "stopped by SIGTERM before the crawl finished")
    assert forum.requests == []


def test_the_crawl_child_refuses_to_run_for_a_parent_that_is_gone():
    done = subprocess.run([sys.executable, "-m", "monitor.crawl_child"], input="{}",
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, PARENT_ENV: "1"}, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "the crawl's parent process 1 is gone: not crawling")


def test_where_prctl_is_missing_a_thread_notices_the_parent_is_gone():
    """The fallback of ``die_with_parent`` (macOS, BSD), run here for real: a grandchild
    that watches its parent gets SIGTERM when that parent is killed."""
    grandchild = ("import os, threading, time; from monitor.crawl_child import watch_parent; "
                  "threading.Thread(target=watch_parent, args=(os.getppid(),), "
                  "daemon=True).start(); print(os.getpid(), flush=True); time.sleep(60)")
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time; "
         f"subprocess.Popen([sys.executable, '-c', {grandchild!r}]); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())  # the grandchild watches now
        time.sleep(0.5)
        assert _alive(pid)
        parent.kill()
        parent.wait(timeout=10)
        assert _wait_for(lambda: not _alive(pid), 5), "the grandchild outlived its parent"
    finally:
        parent.kill()
        parent.communicate()


@pytest.mark.parametrize(("runs", "broken"), [
    ([("ok", 5, 0, None), ("interrupted", 0, 0, "stopped by SIGTERM")], None),
    ([("failed", 0, 1, "HTTP 500"), ("interrupted", 2, 0, "stopped by SIGTERM")],
     "1 errors in the last crawl: HTTP 500"),  # a stop does not hide a broken source
    ([("ok", 3, 0, None)] + [("interrupted", 0, 0, "stopped by SIGINT")] * 3, None),
])
def test_an_interrupted_crawl_is_shown_but_says_nothing_of_the_site(db_url, runs, broken):
    health = health_after(db_url, runs)
    assert health.broken == broken
    assert health.last_run.status == runs[-1][0]


def test_status_shows_an_interrupted_crawl(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the whole table, no cell cut short
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    config = write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "{url}"
[[sources]]
name = "feed"
kind = "feed"
urls = ["http://127.0.0.1:1/feed.xml"]
""")
    _runs(url, "feed", [("ok", 4, 0, None), ("interrupted", 2, 0, "stopped by SIGTERM")])
    result = run_cli(capsys, "--config", str(config), "status")
    assert result.code == 0, result.err
    line = next(line for line in result.out.splitlines() if "feed" in line)
    assert "interrupted" in line and "BROKEN" not in line
