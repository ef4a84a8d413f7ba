"""One scheduler per database: a second `doxwatch run` on the same database refuses to
start and names the first; the lock goes with its holder, even one killed by SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.db import open_database, upgrade_database
from monitor.schedule_lock import SchedulerBusy, scheduler_holder, scheduler_lock
from tests.monitor.cli_helpers import run_cli, write_config


def _config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "doxwatch.toml", """
[digest]
schedule = "0 9 * * *"
timezone = "Asia/Shanghai"
""")


def _run(config: Path, db_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from monitor.cli import main; main()", "--config",
         str(config), "--db", db_url, "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_for_holder(db, first: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        holder = scheduler_holder(db)
        if holder is not None:
            return holder
        assert first.poll() is None, first.communicate()
        time.sleep(0.1)
    raise AssertionError("the first `doxwatch run` never took the scheduler lock")


def test_a_second_scheduler_on_the_same_database_refuses_to_start(capsys, tmp_path, db_url):
    upgrade_database(db_url)
    config = _config(tmp_path)
    db = open_database(db_url)
    assert scheduler_holder(db) is None
    first = _run(config, db_url)
    try:
        holder = _wait_for_holder(db, first)
        assert f"pid {first.pid} on " in holder
        listed = run_cli(capsys, "--config", str(config), "--db", db_url, "schedule")
        assert f"Scheduler: running, pid {first.pid} on " in listed.out, listed.out

        second = _run(config, db_url)
        try:
            out, err = second.communicate(timeout=60)
        finally:
            second.kill()
        assert second.returncode == 1, out + err
        assert "another `doxwatch run` already schedules the jobs of this database" in err
        assert f"pid {first.pid} on " in err and "stop that one first" in err
        assert first.poll() is None  # the first one goes on

        # killed outright, it cannot clean up: the system releases the lock anyway
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=20)
        deadline = time.monotonic() + 20
        while scheduler_holder(db) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert scheduler_holder(db) is None
        with scheduler_lock(db):  # and a new scheduler can start
            assert scheduler_holder(db) is not None
    finally:
        first.kill()
        first.wait(timeout=20)
        db.dispose()


def test_the_lock_is_held_only_while_the_block_runs(tmp_path, db_url):
    upgrade_database(db_url)
    one, two = open_database(db_url), open_database(db_url)
    try:
        with scheduler_lock(one), pytest.raises(SchedulerBusy, match=f"pid {os.getpid()} on "), \
                scheduler_lock(two):
            pass
        with scheduler_lock(two):
            assert f"pid {os.getpid()}" in scheduler_holder(one)
        assert scheduler_holder(one) is None
    finally:
        one.dispose()
        two.dispose()
