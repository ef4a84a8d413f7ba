"""A spider for RSS 2.0 and Atom feeds.

Each entry becomes a post: its id is the feed's guid/id, else its link; its text is the
description/content with the HTML stripped to what a reader sees. With ``follow = true``
the spider fetches each entry's page and takes that page's visible text instead — for
feeds that carry only a teaser. If the page cannot be fetched, the failure is recorded and
the entry's own text is kept.

A valid feed with no entries is not a failure (a quiet channel is normal). A response that
is not RSS or Atom is: ``<url>: not an RSS or Atom feed``. So is a feed whose entries all
lack text, or an entry with neither guid nor link, which could not be told apart from the
next crawl's copy of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import SourceSpider, web_links
from spiders.extract import page_text
from spiders.items import PostItem
from spiders.options import check_bool
from spiders.syndication import FeedEntry, NotAFeed, read_feed


class FeedSpider(SourceSpider):
    name = "feed"
    option_names = ("follow",)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        check_bool(options, "follow")

    def parse(self, response: Response) -> Iterator[PostItem | scrapy.Request]:
        """A feed document: one post per entry, or one request per entry's page."""
        try:
            entries = read_feed(response.body, response.url)
        except NotAFeed as error:
            self.logger.info("%s is not a feed: %s", response.url, error)
            self.fail(response.url, "not an RSS or Atom feed")
            return
        with_text = [entry for entry in entries if entry.text]
        if entries and not with_text and not self.options.get("follow"):
            self.fail(response.url, "no entry has any text")
        for entry in entries:
            if not (entry.guid or entry.link):
                self.fail(response.url, f"entry {entry.title or '(untitled)'!r} has neither "
                                        "guid nor link, skipped")
                continue
            yield from self._entry_output(response, entry)

    def parse_entry_page(self, response: Response, entry: FeedEntry) -> Iterator[PostItem]:
        """An entry's own page (``follow``): its visible text, else the entry's."""
        text = (page_text(response) if self.is_text(response) else "") or entry.text
        if not text:
            self.fail(response.url, "no visible text on the entry's page or in the feed")
        yield from self._post(entry, response.url, text)

    def entry_page_failed(self, failure: Failure) -> Iterator[PostItem]:
        """Errback of ``follow``: record the failure and keep the feed's own text."""
        self.record_failure(failure)
        entry = failure.request.cb_kwargs["entry"]
        yield from self._post(entry, entry.link or failure.request.url, entry.text)

    def _entry_output(self, response: Response,
                      entry: FeedEntry) -> Iterator[PostItem | scrapy.Request]:
        pages = web_links(response, [entry.link]) if entry.link else []
        if self.options.get("follow") and pages:
            yield self.request(pages[0], self.parse_entry_page, self.entry_page_failed,
                               entry=entry)
        else:
            yield from self._post(entry, entry.link or response.url, entry.text)

    def _post(self, entry: FeedEntry, url: str, text: str) -> Iterator[PostItem]:
        if not text:
            return
        yield PostItem(
            source=self.source_name,
            external_id=entry.guid or entry.link or url,
            url=url,
            text=text,
            title=entry.title,
            author=entry.author,
            posted_at=entry.posted_at,
        )
