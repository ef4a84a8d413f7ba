"""Run the crawls of several sources at once and say how each went.

One ``CrawlerProcess`` runs every source concurrently in this process's Twisted reactor,
which cannot be restarted: call ``run_crawls`` once per process (``monitor/`` runs it in a
child process for that reason). A source whose spider cannot even start — unknown kind,
bad options, an exception in its constructor — gets an ``error`` and the others still run.

A SIGTERM or SIGINT to the process stops every crawl gracefully (Scrapy's shutdown
handler: requests in flight end, item pipelines close, so what was scraped is stored) and
the outcomes say ``interrupted``; a second signal stops the reactor at once, and a crawl
whose spider never closed is ``interrupted`` too: it did not finish, whatever it brought.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.reactor import install_reactor
from twisted.python.failure import Failure

from spiders.distributed import redis_settings
from spiders.memory import CrawlMemory, MarkItem
from spiders.registry import SPIDERS
from spiders.settings import crawler_settings


@dataclass
class CrawlSpec:
    """What to crawl for one source."""

    source: str
    kind: str
    urls: list[str]
    options: dict[str, Any]
    max_pages: int = 50
    refetch_after_seconds: float | None = None  # see spiders.memory.needs_fetch
    # proxy, headers, cookies, obey_robots: see SourceSpider.request
    request: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SharedCrawl:
    """A crawl shared through Redis (``spiders.distributed``): ``seed`` puts each source's
    start pages in its queue (`doxwatch crawl`); a worker only works on what is there, and
    stays until the queues have been empty for ``idle_exit`` seconds."""

    redis_url: str
    seed: bool
    idle_exit: float


@dataclass
class CrawlOutcome:
    """How one source's crawl went: posts scraped, failure lines, or why it never ran."""

    source: str
    items: int
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    pages: int = 0  # responses received, robots.txt included
    unchanged: int = 0  # threads the list showed unchanged since the last crawl
    interrupted: bool = False  # stopped by a signal before it finished


@dataclass
class _Run:
    """One spec's crawl while it runs; the figures are taken when its spider closes."""

    spec: CrawlSpec
    items: int = 0
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    pages: int = 0
    unchanged: int = 0
    closed: str | None = None  # why the spider closed ("finished", "shutdown", ...)

    def item_scraped(self, item: Any) -> None:
        """Posts are counted; the marks a spider leaves for the next crawl are not."""
        if not isinstance(item, MarkItem):
            self.items += 1

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.closed = reason
        self.pages = spider.crawler.stats.get_value("response_received_count", 0)
        self.unchanged = spider.unchanged
        self.failures = list(spider.failures)

    def crawl_failed(self, failure: Failure) -> None:
        self.error = f"{failure.type.__name__}: {failure.getErrorMessage()}"

    def outcome(self) -> CrawlOutcome:
        return CrawlOutcome(source=self.spec.source, items=self.items,
                            failures=self.failures, error=self.error, pages=self.pages,
                            unchanged=self.unchanged,
                            interrupted=self.error is None and self.closed in (None, "shutdown"))


def run_crawls(specs: list[CrawlSpec], settings: dict[str, Any],
               memories: Mapping[str, CrawlMemory] | None = None,
               shared: SharedCrawl | None = None) -> list[CrawlOutcome]:
    """Crawl every spec concurrently and block until all are done; one outcome per spec,
    in the order given. ``memories``: each source's earlier crawls, by source name;
    ``shared``: the crawl is shared with other processes through Redis."""
    process = CrawlerProcess(settings)
    # Install the reactor up front: Scrapy installs it when the first crawler starts, and
    # if that crawler's spider fails to construct, the next ones would find no reactor.
    install_reactor(process.settings["TWISTED_REACTOR"], process.settings["ASYNCIO_EVENT_LOOP"])
    runs = [_start(process, spec, (memories or {}).get(spec.source), shared) for spec in specs]
    process.start()
    return [run.outcome() for run in runs]


def _start(process: CrawlerProcess, spec: CrawlSpec, memory: CrawlMemory | None,
           shared: SharedCrawl | None) -> _Run:
    run = _Run(spec)
    spider_class = SPIDERS.get(spec.kind)
    if spider_class is None:
        run.error = f"unknown source kind {spec.kind!r}"
        return run
    # The downloader takes from the scheduler only what it may download at once: a
    # request waiting in the downloader is one a graceful stop waits for (with the
    # default sixteen and one request a second, a SIGTERM took sixteen seconds), one
    # waiting in the scheduler it drops. A source spanning several sites (a feed that
    # follows its entries elsewhere) pays for it: they share the per-site limit.
    settings = crawler_settings(spec.request) | {
        "CONCURRENT_REQUESTS": process.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")}
    if shared is not None:
        settings |= redis_settings(shared.redis_url, spec.source, shared.idle_exit)
    crawler = process.create_crawler(Crawler(spider_class, settings))
    crawler.signals.connect(run.spider_closed, signal=signals.spider_closed)
    crawler.signals.connect(run.item_scraped, signal=signals.item_scraped)
    refetch_after = (None if spec.refetch_after_seconds is None
                     else timedelta(seconds=spec.refetch_after_seconds))
    seeding = shared is None or shared.seed
    process.crawl(crawler, source_name=spec.source, urls=spec.urls if seeding else [],
                  options=spec.options,
                  max_pages=spec.max_pages, memory=memory, refetch_after=refetch_after,
                  request_options=spec.request).addErrback(run.crawl_failed)
    return run
