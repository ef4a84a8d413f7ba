"""The scheduler: one crawl job per enabled source and the digest, on their crons."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.config import load_config
from monitor.db import open_database
from monitor.scheduler import build_scheduler
from tests.monitor.cli_helpers import write_config


def test_jobs_follow_the_configured_crons_in_the_configured_timezone(tmp_path):
    config = load_config(write_config(tmp_path / "doxwatch.toml", """
[[sources]]
name = "forum"
kind = "feed"
urls = ["http://127.0.0.1:8800/feed.xml"]
schedule = "*/30 * * * *"

[[sources]]
name = "paused"
kind = "feed"
urls = ["http://127.0.0.1:8800/other.xml"]
enabled = false

[digest]
schedule = "0 9 * * *"
timezone = "Asia/Shanghai"
"""))
    db = open_database(f"sqlite:///{tmp_path / 'w.db'}")
    scheduler = build_scheduler(config, db)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"crawl:forum", "digest"}

    shanghai = ZoneInfo("Asia/Shanghai")
    after = datetime(2026, 11, 23, 8, 59, tzinfo=shanghai)
    digest_at = jobs["digest"].trigger.get_next_fire_time(None, after)
    assert digest_at == datetime(2026, 11, 23, 9, 0, tzinfo=shanghai)
    crawl_at = jobs["crawl:forum"].trigger.get_next_fire_time(None, after)
    assert crawl_at == datetime(2026, 11, 23, 9, 0, tzinfo=shanghai)
    later = jobs["crawl:forum"].trigger.get_next_fire_time(crawl_at, crawl_at)
    assert (later - crawl_at).total_seconds() == 30 * 60
    db.dispose()
