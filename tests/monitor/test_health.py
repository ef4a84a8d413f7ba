"""Source health from crawl runs, and `doxwatch status` showing a broken source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import SourceConfig
from monitor.db import get_or_create_source, open_database
from monitor.db.schema import CrawlRun
from monitor.health import SourceHealth, source_health
from tests.monitor.cli_helpers import run_cli, write_config

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def health_after(url: str, runs: list[tuple]) -> SourceHealth:
    """The health of source "feed" after ``runs`` (as :func:`_runs` takes them)."""
    _runs(url, "feed", runs)
    db = open_database(url)
    with db.session() as session:
        health = source_health(session, "feed", broken_after=3)
    db.dispose()
    return health


def _runs(url: str, name: str, runs: list[tuple]) -> None:
    """(status, items, errors, error[, unchanged]) of each run, oldest first."""
    db = open_database(url, upgrade=True)
    with db.session() as session:
        source = get_or_create_source(session, SourceConfig(name, "feed", ("http://x/",), {}))
        for n, (status, items, errors, error, *unchanged) in enumerate(runs):
            began = START + timedelta(hours=n)
            session.add(CrawlRun(source_id=source.id, started_at=began, status=status,
                                 finished_at=began + timedelta(seconds=42), items=items,
                                 errors=errors, error=error, pages=items + 1,
                                 unchanged=unchanged[0] if unchanged else 0))
    db.dispose()


@pytest.mark.parametrize(("runs", "broken"), [
    ([("ok", 5, 0, None)], None),
    ([("ok", 0, 0, None), ("ok", 0, 0, None)], None),  # two quiet crawls: not yet
    ([("ok", 3, 0, None), ("ok", 0, 0, None), ("ok", 0, 0, None), ("ok", 0, 0, None)],
     "no posts in the last 3 crawls"),
    ([("ok", 0, 0, None)] * 3 + [("ok", 1, 0, None)], None),  # it came back
    ([("ok", 0, 0, None, 12)] * 4, None),  # a quiet board: its threads listed, unchanged
    ([("ok", 4, 0, None), ("partial", 2, 2, "http://x/2: HTTP 500; http://x/3: HTTP 500")],
     "2 errors in the last crawl: http://x/2: HTTP 500"),
    ([("failed", 0, 1, "crawler process was stopped by signal SIGKILL")],
     "1 errors in the last crawl: crawler process was stopped by signal SIGKILL"),
])
def test_a_source_is_broken_after_errors_or_quiet_crawls(db_url, runs, broken):
    health = health_after(db_url, runs)
    assert health.broken == broken
    assert health.last_run.items == runs[-1][1]


def test_status_shows_pages_duration_and_broken_sources(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    config = write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "{url}"
[crawl]
broken_after = 2
[[sources]]
name = "quiet"
kind = "feed"
urls = ["http://127.0.0.1:1/feed.xml"]
[[sources]]
name = "fine"
kind = "feed"
urls = ["http://127.0.0.1:1/other.xml"]
""")
    _runs(url, "quiet", [("ok", 0, 0, None), ("ok", 0, 0, None)])
    _runs(url, "fine", [("ok", 7, 0, None)])
    result = run_cli(capsys, "--config", str(config), "status")
    assert result.code == 0, result.err
    quiet = next(line for line in result.out.splitlines() if "quiet" in line)
    fine = next(line for line in result.out.splitlines() if "fine" in line)
    assert "BROKEN" in quiet and "broken: quiet: no posts in the last 2 crawls" in result.out
    assert "42 s" in fine and " 8 " in fine and "ok" in fine and "BROKEN" not in fine
    assert "broken: fine" not in result.out


def test_the_digest_names_broken_sources_in_every_format(tmp_path):
    from alerts.digest import Digest
    from alerts.render import render_html, render_markdown, render_text
    from monitor.config import load_config
    from monitor.digest import broken_sources

    url = f"sqlite:///{tmp_path / 'watch.db'}"
    config = load_config(write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "{url}"
[[sources]]
name = "bbs"
kind = "feed"
urls = ["http://127.0.0.1:1/feed.xml"]
"""), env={})
    _runs(url, "bbs", [("failed", 0, 1, "http://127.0.0.1:1/feed.xml: Connection refused")])
    db = open_database(url)
    with db.session() as session:
        broken = broken_sources(session, config)
    db.dispose()
    assert broken == (("bbs", "1 errors in the last crawl: http://127.0.0.1:1/feed.xml: "
                               "Connection refused"),)
    digest = Digest(id=1, created_at=START, entries=(), broken_sources=broken)
    assert Digest.from_dict(digest.to_dict()) == digest
    assert "BROKEN SOURCE bbs: 1 errors in the last crawl" in render_text(digest)
    assert "Broken source" in render_markdown(digest) and "bbs" in render_markdown(digest)
    assert "Broken source bbs: 1 errors" in render_html(digest)
