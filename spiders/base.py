"""What every doxwatch spider shares: its constructor arguments and its list of failures.

Each spider is built with ``source_name``, ``urls``, ``options`` and ``max_pages``, and
optionally the ``memory`` of earlier crawls and ``refetch_after`` (see ``spiders.memory``);
it keeps ``failures``: one line per URL that failed or gave garbage. Every request it makes
carries an errback, so nothing fails silently — not a refused connection, not a 404
(``HttpError``), not a page Scrapy dropped for being larger than ``DOWNLOAD_MAXSIZE``, not
an exception raised while parsing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from spiders.failures import describe, failure_line
from spiders.memory import CrawlMemory, DictMemory, needs_fetch
from spiders.options import check_known_keys

WEB_SCHEMES = frozenset({"http", "https"})


class SourceSpider(scrapy.Spider):
    """Base of the spiders in ``spiders.SPIDERS``; subclasses parse, this class records."""

    option_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, source_name: str, urls: list[str], options: Mapping[str, Any],
                 max_pages: int, memory: CrawlMemory | None = None,
                 refetch_after: timedelta | None = None,
                 request_options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self.check_options(options)
        super().__init__(**kwargs)
        self.source_name = source_name
        self.start_urls = list(urls)
        self.options: dict[str, Any] = dict(options)
        self.max_pages = max_pages
        self.memory: CrawlMemory = memory or DictMemory()
        self.refetch_after = refetch_after
        self.request_options: dict[str, Any] = dict(request_options or {})
        self.unchanged = 0  # threads seen on list pages and left alone: nothing new
        self.failures: list[str] = []

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Raise ``OptionsError`` if ``options`` are not valid for this kind of source.

        Every kind rejects keys it does not know (a typo in the config must not pass
        silently); kinds extend this with their own checks.
        """
        check_known_keys(options, cls.option_names)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """Also record exceptions raised while parsing, which Scrapy would only log."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.record_parse_error, signal=signals.spider_error)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield self.request(url, self.parse)

    def request(self, url: str, callback: Callable[..., Any],
                errback: Callable[[Failure], Any] | None = None,
                **cb_kwargs: Any) -> scrapy.Request:
        """A request whose failure, whatever it is, ends up in ``failures``, sent as the
        source says: ``proxy``, ``headers``, ``cookies``, and ``obey_robots = false`` for a
        source whose operator has the site's leave to ignore robots.txt."""
        options = self.request_options
        meta: dict[str, Any] = {}
        if options.get("proxy"):
            meta["proxy"] = options["proxy"]
        if options.get("obey_robots") is False:
            meta["dont_obey_robotstxt"] = True
        return scrapy.Request(url, callback=callback, errback=errback or self.record_failure,
                              cb_kwargs=cb_kwargs, headers=options.get("headers"),
                              cookies=options.get("cookies") or {}, meta=meta)

    def needs_fetch(self, key: str, listing: Mapping[str, Any]) -> bool:
        """Whether the thread under ``key`` must be fetched (``spiders.memory.needs_fetch``);
        a thread left alone is counted, so a quiet crawl of a working board is not taken
        for a broken one."""
        if needs_fetch(self.memory, key, listing, self.refetch_after):
            return True
        self.unchanged += 1
        return False

    def record_failure(self, failure: Failure) -> None:
        """Errback: one failure line for the request that failed."""
        settings = getattr(self, "settings", None)
        max_page_bytes = settings.getint("DOWNLOAD_MAXSIZE") if settings else None
        self.fail(failure.request.url, describe(failure, max_page_bytes=max_page_bytes))

    def record_parse_error(self, failure: Failure, response: Response) -> None:
        """``spider_error`` handler: a callback raised on this response."""
        self.fail(response.url, f"could not parse: {describe(failure)}")

    def fail(self, url: str, what: str) -> None:
        line = failure_line(url, what)
        self.failures.append(line)
        self.logger.warning(line)

    def is_text(self, response: Response) -> bool:
        """True for HTML/XML/text responses; records a failure for anything else."""
        if isinstance(response, TextResponse):
            return True
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        self.fail(response.url, f"not a text page ({content_type or 'no content type'})")
        return False


def web_links(response: Response, hrefs: Iterable[str]) -> list[str]:
    """Absolute http(s) URLs for ``hrefs`` found on ``response``; ``javascript:`` and
    ``mailto:`` links are not pages to crawl."""
    absolute = (response.urljoin(href) for href in hrefs)
    return [url for url in absolute if urlsplit(url).scheme in WEB_SCHEMES]
