"""The crawl child process: ``python -m monitor.crawl_child`` with a JSON plan on stdin.

Why a child: Twisted's reactor starts once per process and cannot be restarted, so a
long-lived scheduler that crawls every half hour must crawl elsewhere. The child
stores posts as they arrive (``monitor.crawl_store.StorePipeline`` commits each item), so a
crash in the middle of a crawl loses only the page being parsed. It prints the
outcomes as one JSON line on stdout; everything else (Scrapy's log) goes to stderr.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import sys

from monitor.crawl_store import DatabaseMemory, source_id
from monitor.db import open_database
from spiders.runner import CrawlSpec, SharedCrawl, run_crawls
from spiders.settings import crawl_settings

OUTCOME_MARKER = "DOXWATCH-OUTCOMES "


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
