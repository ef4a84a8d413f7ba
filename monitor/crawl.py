"""Run the crawl of configured sources and record one crawl run per source.

The parent opens a ``running`` crawl run for every source *before* the child starts,
so a child that dies (killed, out of memory, a bug in a parser) still leaves a row
that says so: nothing is silently lost, and the next crawl simply runs again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from monitor.config import Config, ConfigError, SourceConfig, check_proxy
from monitor.crawl_child import OUTCOME_MARKER
from monitor.db import Database, get_or_create_source
from monitor.db.schema import CrawlRun, Post
from monitor.errors import DoxwatchError, UsageProblem

#: How long the parent waits for a child before it kills it; a single crawl is also
#: capped inside the child by Scrapy's CLOSESPIDER_TIMEOUT.
CHILD_TIMEOUT_SECONDS = 2 * 3600
#: With the Redis backend, how long `doxwatch crawl` keeps working once its queues are
#: empty, in case a worker is about to add requests (scrapy checks every 5 seconds).
SEED_IDLE_EXIT = 5.0
MAX_ERROR_LINES = 10

_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()


@dataclass(frozen=True)
class CrawlSummary:
    source: str
    run_id: int
    status: str
    items: int
    new_posts: int
    error: str | None


def select_sources(config: Config, names: Sequence[str] = ()) -> list[SourceConfig]:
    """Named sources (even disabled ones: asking by name is explicit), else every enabled one."""
    if names:
        return [config.source(name) for name in names]
    return [source for source in config.sources if source.enabled]


def crawl(config: Config, db: Database, names: Sequence[str] = (), *,
          debug: bool = False) -> list[CrawlSummary]:
    """Crawl the chosen sources in one child process and record how each went."""
    sources = select_sources(config, names)
    if not sources:
        raise UsageProblem("no sources to crawl: add [[sources]] to the configuration")
    plan = _plan(config, db, sources, debug)
    run_ids = _open_runs(db, sources)
    if config.crawl.backend == "redis":
        from spiders.distributed import start_fresh

        start_fresh(config.crawl.redis_url, [source.name for source in sources])
        plan["shared"] = {"redis_url": config.crawl.redis_url, "seed": True,
                          "idle_exit": SEED_IDLE_EXIT}
    outcomes, child_error = _run_child(plan, debug=debug)
    return [
        _close_run(db, run_ids[source.name], outcomes.get(source.name), child_error)
        for source in sources
    ]


def work(config: Config, db: Database, *, idle_exit: float | None,
         debug: bool = False) -> dict[str, dict]:
    """Work on the shared crawl queues of every enabled source (`doxwatch worker`) until
    they have been empty for ``idle_exit`` seconds (None: until stopped); the outcome of
    each source's share. No crawl run is recorded: the `doxwatch crawl` that seeded the
    queue records the crawl, and a worker that found nothing to do is not a broken source."""
    if config.crawl.backend != "redis":
        raise UsageProblem('doxwatch worker shares crawls through Redis: set [crawl] '
                           'backend = "redis" and redis_url')
    sources = select_sources(config)
    if not sources:
        raise UsageProblem("no sources to work on: add [[sources]] to the configuration")
    plan = _plan(config, db, sources, debug)
    with db.session() as session:
        for source in sources:
            get_or_create_source(session, source)
    plan["shared"] = {"redis_url": config.crawl.redis_url, "seed": False,
                      "idle_exit": float("inf") if idle_exit is None else idle_exit}
    outcomes, child_error = _run_child(plan, debug=debug, timeout=None)
    if child_error:
        raise DoxwatchError(child_error)
    return outcomes


def _plan(config: Config, db: Database, sources: Sequence[SourceConfig], debug: bool) -> dict:
    """What the crawl child is told: where to store, how to crawl, each source."""
    requests = {source.name: request_options(config, source) for source in sources}
    return {
        "database_url": db.url,
        "debug": debug,
        "crawl": asdict(config.crawl),
        "sources": [
            {"name": s.name, "kind": s.kind, "urls": list(s.urls),
             "options": dict(s.options), "max_pages": s.max_pages,
             "refetch_after": s.refetch_after, "request": requests[s.name]}
            for s in sources
        ],
    }


def request_options(config: Config, source: SourceConfig) -> dict[str, Any]:
    """How the source's requests go out, with the secrets read from the environment now:
    a variable that is not set stops the crawl with the field to fix, before any request."""
    request = source.request
    where = f"sources[{config.sources.index(source)}]" if source in config.sources \
        else f"source {source.name}"
    file = str(config.path or "<defaults>")

    def variable(field: str, name: str) -> str:
        value = os.environ.get(name)
        if value is None:
            raise ConfigError(file, f"{where}.{field}", f"environment variable {name} is not set")
        return value

    proxy = request.proxy
    if request.proxy_env:
        proxy = variable("proxy_env", request.proxy_env)
        check_proxy(proxy, lambda message: ConfigError(file, f"{where}.proxy_env", message))
    return {
        "proxy": proxy,
        "headers": {**request.headers, **{header: variable(f"headers_env.{header}", name)
                                          for header, name in request.headers_env.items()}},
        "cookies": {**request.cookies, **{cookie: variable(f"cookies_env.{cookie}", name)
                                          for cookie, name in request.cookies_env.items()}},
        "obey_robots": config.crawl.obey_robots if source.obey_robots is None
        else source.obey_robots,
    }


def _open_runs(db: Database, sources: Sequence[SourceConfig]) -> dict[str, int]:
    with db.session() as session:
        runs = {}
        for source in sources:
            row = get_or_create_source(session, source)
            run = CrawlRun(source_id=row.id, started_at=_now(), status="running")
            session.add(run)
            session.flush()
            runs[source.name] = run.id
        return runs


def _run_child(plan: dict, *, debug: bool, timeout: float | None = CHILD_TIMEOUT_SECONDS,
               ) -> tuple[dict[str, dict], str | None]:
    """Run the child; return outcomes by source and, if it failed as a whole, why."""
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.crawl_child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None if debug else subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    with _children_lock:
        _children.add(process)
    try:
        stdout, stderr = process.communicate(json.dumps(plan), timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return {}, f"crawl took longer than {CHILD_TIMEOUT_SECONDS} s and was stopped"
    finally:
        with _children_lock:
            _children.discard(process)
    outcomes = _parse_outcomes(stdout)
    if outcomes is None:
        return {}, _child_failure(process.returncode, stderr)
    return {o["source"]: o for o in outcomes}, None


def _parse_outcomes(stdout: str) -> list[dict] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(OUTCOME_MARKER):
            return json.loads(line[len(OUTCOME_MARKER):])
    return None


def _child_failure(returncode: int, stderr: str | None) -> str:
    if returncode < 0:
        reason = f"crawler process was stopped by signal {signal.Signals(-returncode).name}"
    else:
        reason = f"crawler process exited with status {returncode}"
    last = [line for line in (stderr or "").strip().splitlines() if line.strip()][-1:]
    return f"{reason}: {last[0]}" if last else reason


def stop_children() -> None:
    """Stop running crawls (SIGTERM to the scheduler): their runs are then marked failed."""
    with _children_lock:
        for process in _children:
            process.terminate()


def _close_run(db: Database, run_id: int, outcome: dict | None,
               child_error: str | None) -> CrawlSummary:
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
        run.finished_at = _now()
        run.new_posts = session.scalar(
            select(func.count(Post.id)).where(
                Post.source_id == run.source_id, Post.first_seen_at >= run.started_at
            )
        ) or 0
        if outcome is None:
            run.status = "failed"
            run.errors = 1
            run.error = child_error or "the crawler gave no outcome for this source"
        else:
            run.items = outcome["items"]
            run.pages = outcome.get("pages", 0)
            run.unchanged = outcome.get("unchanged", 0)
            run.errors = len(outcome.get("failures") or []) + bool(outcome.get("error"))
            run.status, run.error = _judge(outcome)
        source_name = run.source.name
        return CrawlSummary(source_name, run.id, run.status, run.items, run.new_posts, run.error)


def _judge(outcome: dict) -> tuple[str, str | None]:
    """ok: no failure; partial: some pages failed but posts came; failed: nothing came."""
    failures = list(outcome.get("failures") or [])
    if outcome.get("error"):
        return "failed", outcome["error"]
    if not failures:
        return "ok", None
    shown = "; ".join(failures[:MAX_ERROR_LINES])
    if len(failures) > MAX_ERROR_LINES:
        shown += f" (+{len(failures) - MAX_ERROR_LINES} more)"
    return ("partial" if outcome["items"] else "failed"), shown


def _now() -> datetime:
    return datetime.now(UTC)
