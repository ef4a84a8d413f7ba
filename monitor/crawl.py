"""Run the crawl of configured sources and record one crawl run per source.

The parent opens a ``running`` crawl run for every source *before* the child starts,
so a child that dies (killed, out of memory, a bug in a parser) still leaves a row
that says so: nothing is silently lost, and the next crawl simply runs again.

A parent that dies without closing its rows (SIGKILL, a power cut) leaves them
``running``; the next crawl, or the scheduler's start, marks them failed
(``mark_stale_runs``), and its child dies with it (``monitor.crawl_child.die_with_parent``).
A SIGTERM or SIGINT is not a death: the child is told to stop, stops gracefully, and the
runs are recorded ``interrupted`` with what they brought (``stop_children``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from monitor.config import Config, ConfigError, SourceConfig, check_proxy
from monitor.crawl_child import OUTCOME_MARKER, PARENT_ENV
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
#: A ``running`` run older than this is stale wherever its owner runs: by then the owner
#: would have stopped its child (CHILD_TIMEOUT_SECONDS) and recorded the run.
STALE_AFTER = timedelta(seconds=CHILD_TIMEOUT_SECONDS + 10 * 60)
STALE_ERROR = "the crawl process ended without recording a result (killed?)"
#: How often the thread that waits for a child looks for a request to stop it.
STOP_POLL_SECONDS = 0.2

# Signals received that ask this process's crawls to stop, oldest first. A signal
# handler only appends here (it must not take a lock that the interrupted code may hold);
# the thread that waits for each child forwards them to it.
_stop_requests: list[int] = []


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
    """Crawl the chosen sources in one child process and record how each went (first
    marking failed the runs of crawls whose process is gone)."""
    sources = select_sources(config, names)
    if not sources:
        raise UsageProblem("no sources to crawl: add [[sources]] to the configuration")
    plan = _plan(config, db, sources, debug)
    mark_stale_runs(db)
    run_ids = _open_runs(db, sources)
    if config.crawl.backend == "redis":
        from spiders.distributed import start_fresh

        start_fresh(config.crawl.redis_url, [source.name for source in sources])
        plan["shared"] = {"redis_url": config.crawl.redis_url, "seed": True,
                          "idle_exit": SEED_IDLE_EXIT}
    child = _run_child(plan, debug=debug)
    return [_close_run(db, run_ids[source.name], child, source.name) for source in sources]


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
    child = _run_child(plan, debug=debug, timeout=None)
    if child.error:
        raise DoxwatchError(child.error)
    return child.outcomes


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
    owner = process_owner()
    with db.session() as session:
        runs = {}
        for source in sources:
            row = get_or_create_source(session, source)
            run = CrawlRun(source_id=row.id, started_at=_now(), status="running", owner=owner)
            session.add(run)
            session.flush()
            runs[source.name] = run.id
        return runs


@dataclass(frozen=True)
class _ChildResult:
    """What a crawl child left: outcomes by source; why it failed as a whole, if it did;
    the signal that asked it to stop, if one was forwarded to it (or it was not started)."""

    outcomes: dict[str, dict]
    error: str | None = None
    stopped_by: int | None = None


def _run_child(plan: dict, *, debug: bool, timeout: float | None = CHILD_TIMEOUT_SECONDS,
               ) -> _ChildResult:
    """Run the child, forwarding to it the requests to stop (``stop_children``).

    The child has a session of its own, so a Ctrl-C at the terminal reaches the parent
    alone, which tells the child once: Scrapy takes a second signal as "stop now, unclean".
    """
    if _stop_requests:  # stopping: start no crawl
        return _ChildResult({}, stopped_by=_stop_requests[0])
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.crawl_child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None if debug else subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8", PARENT_ENV: str(os.getpid())},
        start_new_session=True,
    )
    deadline = None if timeout is None else time.monotonic() + timeout
    plan_text: str | None = json.dumps(plan)
    forwarded = 0
    while True:
        try:
            stdout, stderr = process.communicate(plan_text, timeout=STOP_POLL_SECONDS)
            break
        except subprocess.TimeoutExpired:
            plan_text = None  # being written: communicate goes on with it
        while forwarded < len(_stop_requests):
            process.send_signal(signal.SIGTERM)
            forwarded += 1
        if deadline is not None and time.monotonic() > deadline:
            process.kill()
            process.communicate()
            return _ChildResult({}, f"crawl took longer than {timeout:.0f} s and was stopped")
    stopped_by = _stop_requests[0] if forwarded else None
    outcomes = _parse_outcomes(stdout)
    if outcomes is None:
        return _ChildResult({}, _child_failure(process.returncode, stderr), stopped_by)
    return _ChildResult({o["source"]: o for o in outcomes}, None, stopped_by)


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


def stop_children(signum: int = signal.SIGTERM) -> None:
    """Ask the crawls of this process to stop (a signal handler may call it): each child
    is sent SIGTERM within STOP_POLL_SECONDS, stops gracefully, and its runs are recorded
    ``interrupted``; no new crawl starts. A second call forwards a second SIGTERM, which
    Scrapy takes as "stop now"."""
    _stop_requests.append(signum)


@dataclass
class StopSignal:
    """The first SIGINT or SIGTERM received inside ``stop_on_signals``, if any."""

    signum: int | None = None


@contextmanager
def stop_on_signals() -> Iterator[StopSignal]:
    """For a command that crawls in the main thread: SIGINT and SIGTERM stop its crawls
    (``stop_children``) instead of killing the parent, which would leave the runs
    ``running`` and the child crawling; the caller exits as the signal asks once the runs
    are recorded."""
    received = StopSignal()

    def handler(signum: int, _frame: object) -> None:
        received.signum = received.signum or signum
        stop_children(signum)

    _stop_requests.clear()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _stop_requests.clear()


def _close_run(db: Database, run_id: int, child: _ChildResult, source: str) -> CrawlSummary:
    outcome = child.outcomes.get(source)
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
        run.finished_at = _now()
        run.new_posts = session.scalar(
            select(func.count(Post.id)).where(
                Post.source_id == run.source_id, Post.first_seen_at >= run.started_at
            )
        ) or 0
        run.status, run.error = _judge(outcome, child)
        if outcome is None:
            run.errors = int(run.status == "failed")
        else:
            run.items = outcome["items"]
            run.pages = outcome.get("pages", 0)
            run.unchanged = outcome.get("unchanged", 0)
            run.errors = len(outcome.get("failures") or []) + bool(outcome.get("error"))
        return CrawlSummary(source, run.id, run.status, run.items, run.new_posts, run.error)


def _judge(outcome: dict | None, child: _ChildResult) -> tuple[str, str | None]:
    """ok: no failure; partial: some pages failed but posts came; failed: nothing came,
    or no outcome; interrupted: stopped before it finished (what it brought is kept)."""
    if outcome is None:
        if child.stopped_by is not None:
            return "interrupted", _stopped(child.stopped_by)
        return "failed", child.error or "the crawler gave no outcome for this source"
    if outcome.get("error"):
        return "failed", outcome["error"]
    failures = list(outcome.get("failures") or [])
    shown = "; ".join(failures[:MAX_ERROR_LINES])
    if len(failures) > MAX_ERROR_LINES:
        shown += f" (+{len(failures) - MAX_ERROR_LINES} more)"
    if outcome.get("interrupted"):
        return "interrupted", "; ".join(filter(None, (_stopped(child.stopped_by), shown)))
    if not failures:
        return "ok", None
    return ("partial" if outcome["items"] else "failed"), shown


def _stopped(signum: int | None) -> str:
    by = signal.Signals(signum).name if signum else "a signal"
    return f"stopped by {by} before the crawl finished"


# --- runs whose process is gone ---------------------------------------------------------


def mark_stale_runs(db: Database) -> list[int]:
    """Mark failed (STALE_ERROR) every ``running`` run whose owner is gone; their ids.

    A run's ``owner`` is "<machine> <pid> <start>" of the process that opened it. A pid
    alone is not enough: after a reboot, or enough processes, another process has it;
    so the process's start is recorded too (Linux: boot id and start tick). A pid means
    nothing on another machine (crawls on several hosts share PostgreSQL), nor in another
    container of this host: "machine" is the host name and the pid namespace, and a run
    of another machine is judged by its age alone (older than STALE_AFTER, its owner
    would have recorded it), as is a run with no owner (opened before owners were
    recorded). No heartbeat: it would cost a write every few seconds for every crawl
    to learn sooner of an event (a machine killed) that the age covers.

    Called when a crawl starts and when the scheduler starts; `doxwatch status` only
    reads, so it shows the last finished run until then.
    """
    now = _now()
    with db.session() as session:
        running = session.execute(select(CrawlRun.id, CrawlRun.owner, CrawlRun.started_at)
                                  .where(CrawlRun.status == "running")).all()
        stale = [run_id for run_id, owner, started in running
                 if _owner_gone(owner, started, now)]
        if stale:
            session.execute(update(CrawlRun)
                            .where(CrawlRun.id.in_(stale), CrawlRun.status == "running")
                            .values(status="failed", finished_at=now, errors=1,
                                    error=STALE_ERROR))
    return stale


def process_owner(pid: int | None = None) -> str | None:
    """The owner string of process ``pid`` (default: this one); None if there is none."""
    pid = os.getpid() if pid is None else pid
    started = _started(pid)
    return None if started is None else f"{_machine()} {pid} {started}"


def _owner_gone(owner: str | None, started_at: datetime, now: datetime) -> bool:
    if now - started_at > STALE_AFTER:
        return True
    if owner is None:
        return False
    machine, pid, _ = owner.split(" ")
    return machine == _machine() and process_owner(int(pid)) != owner


@cache
def _machine() -> str:
    """Where a pid names one process: this host and, on Linux, this pid namespace
    (containers on one host may share its name, not its pids)."""
    try:
        return f"{socket.gethostname()}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return socket.gethostname()


@cache
def _boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()


def _started(pid: int) -> str | None:
    """When process ``pid`` started, as a token a later process with that pid will not
    have (Linux: boot id and start tick), or "?" where the system does not tell; None if
    there is no such process (a zombie, dead and not yet reaped, counts as gone)."""
    if not Path("/proc/self/stat").exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:  # it exists, owned by someone else
            pass
        return "?"
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (name)": state is field 3
    if fields[0] in ("Z", "X"):
        return None
    return f"{_boot_id()}:{fields[19]}"  # field 22, starttime


def _now() -> datetime:
    return datetime.now(UTC)
