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

from sqlalchemy import func, select

from monitor.config import Config, SourceConfig
from monitor.crawl_child import OUTCOME_MARKER
from monitor.db import Database, get_or_create_source
from monitor.db.schema import CrawlRun, Post
from monitor.errors import UsageProblem

#: How long the parent waits for a child before it kills it; a single crawl is also
#: capped inside the child by Scrapy's CLOSESPIDER_TIMEOUT.
CHILD_TIMEOUT_SECONDS = 2 * 3600
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
    run_ids = _open_runs(db, sources)
    plan = {
        "database_url": db.url,
        "debug": debug,
        "crawl": asdict(config.crawl),
        "sources": [
            {"name": s.name, "kind": s.kind, "urls": list(s.urls),
             "options": dict(s.options), "max_pages": s.max_pages}
            for s in sources
        ],
    }
    outcomes, child_error = _run_child(plan, debug=debug)
    return [
        _close_run(db, run_ids[source.name], outcomes.get(source.name), child_error)
        for source in sources
    ]


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


def _run_child(plan: dict, *, debug: bool) -> tuple[dict[str, dict], str | None]:
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
        stdout, stderr = process.communicate(json.dumps(plan), timeout=CHILD_TIMEOUT_SECONDS)
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
            run.error = child_error or "the crawler gave no outcome for this source"
        else:
            run.items = outcome["items"]
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
