"""The issue's example configuration, pointed at local servers: crawl, store, deliver once.

Real parts only: a forum served over HTTP on loopback, the crawl child process, the
classifier, SQLite, a real SMTP server (aiosmtpd) and a real HTTP receiver.
"""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import time
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.db import open_database
from monitor.db.schema import CrawlRun, Delivery, Post
from tests.helpers import LoopbackServer, Route, closed_port, loopback_server
from tests.monitor.cli_helpers import forum_pages, run_cli, write_config
from tests.monitor.examples import ISSUE_EXAMPLE

# They classify through `monitor`: load the session's model rather than train it.
pytestmark = pytest.mark.usefixtures("classifier")

POSTS = {
    "/forum/t1.html": ("出 户籍 开房记录 轨迹定位 机主三网", "可cx 户籍 开房 轨迹 秒出 担保 飞机@box_seller01 一单300U"),
    "/forum/t2.html": ("医保记录 就诊记录 精准出", "历史就诊记录 医保记录 住院记录 精准出 1-2天出单 每条1200元 薇 yb_check_2"),
    "/forum/t3.html": ("周末骑行去郊外", "周六早上八点在公园门口集合，骑行四十公里，记得带水和头盔。"),
    "/forum/t4.html": ("警惕开盒诈骗", "派出所民警提醒：网上声称可以查户籍、查开房记录的都是违法犯罪，切勿轻信，发现请报警。"),
}


def _config(tmp_path: Path, forum: str, smtp_port: int, hook: str) -> Path:
    """The example from the issue, as written, with the loopback addresses filled in,
    no delay between requests, and a second source that is down."""
    text = (ISSUE_EXAMPLE.replace("http://127.0.0.1:8800/forum/", forum)
            .replace("port = 8025", f"port = {smtp_port}")
            .replace("http://127.0.0.1:9000/hook", hook))
    return write_config(tmp_path / "doxwatch.toml", text + f"""
[crawl]
delay = 0

[[sources]]
name = "down"
kind = "feed"
urls = ["http://127.0.0.1:{closed_port()}/feed.xml"]
""")


def test_example_config_crawls_stores_and_delivers_once(capsys, tmp_path, smtp_server):
    site = LoopbackServer()
    for path, page in forum_pages(POSTS).items():
        site.add(path, page)
    hook_port = closed_port()
    with loopback_server(site) as forum:
        config = str(_config(tmp_path, forum.url("/forum/"), smtp_server.port,
                             f"http://127.0.0.1:{hook_port}/hook"))
        first = run_cli(capsys, "--config", config, "run", "--once")
    # One source is down and so is the webhook receiver: both are recorded as failed,
    # and everything else still happened.
    assert first.code == 1
    assert "forum: ok, 4 items, 4 new" in first.out
    assert "down: failed" in first.out
    assert "mail: sent" in first.out and "hook: failed" in first.out
    assert len(smtp_server.messages) == 1

    message = email.message_from_bytes(smtp_server.messages[0][2], policy=default_policy)
    assert smtp_server.messages[0][1] == ["soc@example.org"]
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "box_seller01" in text and "yb_check_2" in html
    assert "骑行" not in text and "民警" not in text

    db = open_database(f"sqlite:///{tmp_path / 'watch.db'}")
    with db.session() as session:
        assert len(session.scalars(select(Post)).all()) == 4
        runs = {r.status for r in session.scalars(select(CrawlRun)).all()}
        assert runs == {"ok", "failed"}
        hook = session.scalar(select(Delivery).where(Delivery.channel == "hook"))
        assert hook.status == "failed" and "127.0.0.1" in hook.last_error

    # The receiver comes up: the next digest delivers the waiting digest to it, once,
    # and sends nothing again to the mail channel.
    received = LoopbackServer()
    received.add("/hook", "accepted", content_type="text/plain")
    with loopback_server(received, port=hook_port):
        second = run_cli(capsys, "--config", config, "digest")
        third = run_cli(capsys, "--config", config, "digest")
    assert second.code == 0, second.out + second.err
    assert "hook: sent" in second.out and "mail" not in second.out
    assert third.code == 0 and "nothing new" in third.out and "sent" not in third.out
    posted = [r for r in received.requests if r.method == "POST"]
    assert len(posted) == 1
    body = json.loads(posted[0].body)
    assert len(body["entries"]) == 2
    assert posted[0].headers["Idempotency-Key"].startswith("doxwatch-digest-")
    assert len(smtp_server.messages) == 1
    with db.session() as session:
        assert {d.status for d in session.scalars(select(Delivery)).all()} == {"sent"}
    db.dispose()


def test_recrawl_does_not_duplicate(capsys, tmp_path, smtp_server):
    site = LoopbackServer()
    for path, page in forum_pages(POSTS).items():
        site.add(path, page)
    with loopback_server(site) as forum:
        config = str(_config(tmp_path, forum.url("/forum/"), smtp_server.port,
                             forum.url("/hook")))
        first = run_cli(capsys, "--config", config, "crawl", "forum")
        second = run_cli(capsys, "--config", config, "crawl", "forum")
    assert first.code == 0 and "4 new" in first.out
    assert second.code == 0 and "4 items, 0 new" in second.out


def test_crawl_child_crash_is_recorded(capsys, tmp_path, smtp_server, monkeypatch):
    """A child that dies mid-crawl leaves a failed run with the reason, not a silent gap."""
    site = LoopbackServer()
    with loopback_server(site) as forum:
        config = str(_config(tmp_path, forum.url("/forum/"), smtp_server.port,
                             forum.url("/hook")))
        monkeypatch.setenv("PYTHONPATH", str(tmp_path / "crash"))
        crash = tmp_path / "crash" / "sitecustomize.py"
        crash.parent.mkdir()
        crash.write_text("import os\nos._exit(3)\n", encoding="utf-8")
        result = run_cli(capsys, "--config", config, "crawl", "forum")
    assert result.code == 1
    assert "crawler process exited with status 3" in result.out


def test_run_stops_cleanly_on_sigterm(tmp_path):
    config = write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "sqlite:///{tmp_path / 'watch.db'}"
[[sources]]
name = "forum"
kind = "generic"
urls = ["http://127.0.0.1:{closed_port()}/"]
schedule = "0 3 * * *"
[sources.options]
item_links = "a::attr(href)"
text = "div.post"
""")
    process = subprocess.Popen(
        [sys.executable, "-c", "from monitor.cli import main; main()", "--config",
         str(config), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        banner = ""
        while "Ctrl-C" not in banner and time.monotonic() < deadline:
            banner += process.stderr.readline()
        assert "Ctrl-C" in banner
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()


def test_oversized_and_garbage_pages_are_failures_not_crashes(capsys, tmp_path, smtp_server):
    site = LoopbackServer()
    site.routes["/feed.xml"] = Route(b"<html><body>not a feed</body></html>", 200, "text/html")
    with loopback_server(site) as server:
        config = write_config(tmp_path / "c.toml", f"""
[database]
url = "sqlite:///{tmp_path / 'watch.db'}"
[[sources]]
name = "garbage"
kind = "feed"
urls = ["{server.url('/feed.xml')}"]
""")
        result = run_cli(capsys, "--config", str(config), "crawl")
    assert result.code == 1
    assert "not an RSS or Atom feed" in result.out
