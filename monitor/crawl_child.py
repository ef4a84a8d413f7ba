"""The crawl child process: ``python -m monitor.crawl_child`` with a JSON plan on stdin.

Why a child: Twisted's reactor starts once per process and cannot be restarted, so a
long-lived scheduler that crawls every half hour must crawl elsewhere. The child
stores posts as they arrive (``monitor.crawl_store.StorePipeline`` commits each item), so a
crash in the middle of a crawl loses only the page being parsed. It prints the
outcomes as one JSON line on stdout; everything else (Scrapy's log) goes to stderr.

The child dies with its parent (``die_with_parent``): a parent killed by SIGKILL cannot
tell it to stop, and an orphaned crawl would go on fetching for hours with nobody to
record it (the next crawl marks the parent's run failed: ``monitor.crawl.mark_stale_runs``).
"""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import json
import os
import signal
import sys
import threading
import time

from monitor.crawl_store import DatabaseMemory, source_id
from monitor.db import open_database
from spiders.runner import CrawlSpec, SharedCrawl, run_crawls
from spiders.settings import crawl_settings

OUTCOME_MARKER = "DOXWATCH-OUTCOMES "
#: The environment variable by which the parent gives its pid, so that the child can
#: tell whether it is still the parent's child.
PARENT_ENV = "DOXWATCH_CRAWL_PARENT"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_POLL_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """Have this process receive SIGTERM when ``parent`` dies: Scrapy then stops the crawl
    as for any SIGTERM, gracefully, so what was scraped is stored.

    On Linux the kernel sends it (``prctl(PR_SET_PDEATHSIG)``, at once; it is set here and
    not in ``preexec_fn``, which is unsafe in the scheduler's threaded parent). It fires
    when the thread that started the child ends, which here is the thread that waits for
    the child, so only when the parent is gone. Elsewhere (macOS, BSD) a thread watches
    for the child being handed to another parent. The parent may have died before either
    was in place: then no signal will come, and the child stops now.
    """
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        threading.Thread(target=watch_parent, args=(parent,), daemon=True,
                         name="watch-parent").start()
    if os.getppid() != parent:
        raise SystemExit(f"the crawl's parent process {parent} is gone: not crawling")


def watch_parent(parent: int) -> None:
    """Send this process SIGTERM once it is no longer ``parent``'s child (an orphan is
    adopted by init or a subreaper), checking every PARENT_POLL_SECONDS."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


def settings_for(plan: dict) -> dict:
    """Polite crawl settings from the plan, plus our storage pipeline. robots.txt is read
    if any source obeys it; the others say so on each request (``SourceSpider.request``)."""
    crawl = plan["crawl"]
    settings = crawl_settings(
        delay=crawl["delay"],
        timeout=crawl["timeout"],
        max_page_bytes=crawl["max_page_bytes"],
        user_agent=crawl["user_agent"],
        obey_robots=any(s["request"]["obey_robots"] for s in plan["sources"]),
        per_domain=crawl["per_domain"],
    )
    settings["ITEM_PIPELINES"] = {"monitor.crawl_store.StorePipeline": 300}
    settings["DOXWATCH_DATABASE_URL"] = plan["database_url"]
    settings["CLOSESPIDER_TIMEOUT"] = crawl.get("max_seconds", 3600)
    if plan.get("debug"):
        settings["LOG_LEVEL"] = "DEBUG"
    return settings


def main() -> int:
    die_with_parent(int(os.environ[PARENT_ENV]))
    plan = json.loads(sys.stdin.read())
    specs = [
        CrawlSpec(
            source=s["name"],
            kind=s["kind"],
            urls=list(s["urls"]),
            options=dict(s["options"]),
            max_pages=s["max_pages"],
            refetch_after_seconds=s["refetch_after"],
            request=s["request"],
        )
        for s in plan["sources"]
    ]
    db = open_database(plan["database_url"], upgrade=False)
    try:
        memories = {spec.source: DatabaseMemory(db, source_id(db, spec.source)) for spec in specs}
        shared = SharedCrawl(**plan["shared"]) if plan.get("shared") else None
        # What is loaded by now (Scrapy, SQLAlchemy, the models' lexicon) lives as long as
        # the process: frozen, full garbage collections stop walking it (6 % of a crawl).
        gc.freeze()
        outcomes = run_crawls(specs, settings_for(plan), memories, shared)
    finally:
        db.dispose()
    payload = [dataclasses.asdict(outcome) for outcome in outcomes]
    sys.stdout.write(OUTCOME_MARKER + json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
