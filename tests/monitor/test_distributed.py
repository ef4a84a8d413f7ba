"""One crawl shared by several processes through the real Redis, writing to the real
PostgreSQL on this machine: every post stored once, every page fetched once (counted at
the server), and two processes finish sooner than one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.db import open_database
from monitor.db.schema import Post, Source
from tests.conftest import _reset_pg, _unavailable
from tests.helpers import LoopbackServer, Recorded, Route, loopback_server
from tests.monitor.cli_helpers import write_config

DOXWATCH = str(Path(sys.executable).with_name("doxwatch"))
REDIS_URL = os.environ.get("DOXWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")
THREADS = 24
PAGE_SECONDS = 0.08  # each page takes this long to serve, as a real board's would


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.RedisError as error:
        _unavailable(f"Redis at {REDIS_URL}", error)
    yield REDIS_URL
    for key in server.scan_iter("doxwatch:test-*"):
        server.delete(key)
    server.close()


class Board:
    """A slow forum under ``/<name>/``: list pages of thread links, one post per thread."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        server.handler = self.serve

    def serve(self, request: Recorded) -> Route | None:
        parts = request.path.strip("/").split("/")
        if len(parts) < 2:
            return None
        with self.lock:
            self.times.setdefault(parts[0], []).append(time.monotonic())
        time.sleep(PAGE_SECONDS)
        if parts[1] == "list":
            page = int(parts[2])
            links = "".join(f'<a class="t" href="/{parts[0]}/thread/{n}">t</a>'
                            for n in range(page * 8, page * 8 + 8))
            more = f'<a class="next" href="/{parts[0]}/list/{page + 1}">next</a>' \
                if (page + 1) * 8 < THREADS else ""
            return Route(f"<html><body>{links}{more}</body></html>".encode())
        return Route(f"<html><body><div class='post'>代查 户籍 {parts[2]} 号 私聊"
                     f"</div></body></html>".encode())

    def pages(self, name: str) -> list[str]:
        return [r.path for r in self.server.requests if r.path.startswith(f"/{name}/")]

    def span(self, name: str) -> float:
        times = self.times[name]
        return max(times) - min(times)


def _config(tmp_path: Path, pg: str, server: LoopbackServer, names: list[str]) -> Path:
    sources = "".join(f"""
[[sources]]
name = "{name}"
kind = "generic"
urls = ["{server.url(f'/{name}/list/0')}"]
max_pages = 10
[sources.options]
item_links = "a.t::attr(href)"
next_page = "a.next::attr(href)"
text = "div.post"
""" for name in names)
    return write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "{pg}"
[crawl]
backend = "redis"
redis_url = "{REDIS_URL}"
delay = 0
obey_robots = false
{sources}""")


def _doxwatch(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([DOXWATCH, "--config", str(config), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stored(pg: str, name: str) -> tuple[int, int]:
    db = open_database(pg)
    with db.session() as session:
        query = select(Post.external_id).join(Source).where(Source.name == name)
        ids = session.scalars(query).all()
        count = session.scalar(select(func.count()).select_from(query.subquery()))
    db.dispose()
    return len(set(ids)), count


def test_two_workers_share_a_crawl_exactly_once_and_sooner(tmp_path, pg_url, redis_url):
    _reset_pg(pg_url)
    alone, shared = f"test-{uuid.uuid4().hex[:6]}-a", f"test-{uuid.uuid4().hex[:6]}-b"
    with loopback_server() as server:
        board = Board(server)
        config = _config(tmp_path, pg_url, server, [alone, shared])
        upgrade = _doxwatch(config, "db", "upgrade")
        assert upgrade.wait(60) == 0, upgrade.stderr.read()

        one = _doxwatch(config, "crawl", alone)
        out, err = one.communicate(timeout=240)
        assert one.returncode == 0, err
        assert f"{alone}: ok, {THREADS} items, {THREADS} new" in out

        worker = _doxwatch(config, "worker", "--idle-exit", "8")
        time.sleep(4)  # let it start and wait on the (empty) queues
        two = _doxwatch(config, "crawl", shared)
        crawl_out, crawl_err = two.communicate(timeout=240)
        worker_out, worker_err = worker.communicate(timeout=240)
        assert two.returncode == 0, crawl_err
        assert worker.returncode == 0, worker_err

    for name in (alone, shared):
        pages = board.pages(name)
        assert len(pages) == len(set(pages)) == THREADS + THREADS // 8  # each page once
        assert _stored(pg_url, name) == (THREADS, THREADS)  # each post once
    by_crawl = int(crawl_out.split(f"{shared}: ok, ")[1].split(" items")[0])
    by_worker = int(worker_out.split(f"{shared}: ")[1].split(" posts")[0])
    assert by_crawl > 0 and by_worker > 0 and by_crawl + by_worker == THREADS
    print(f"one process {board.span(alone):.2f} s, two {board.span(shared):.2f} s")
    assert board.span(shared) < 0.8 * board.span(alone), (board.span(shared),
                                                          board.span(alone))
