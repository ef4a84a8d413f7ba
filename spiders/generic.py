"""A spider for any forum or board, driven by selectors from the configuration.

List pages link to post pages (``item_links``) and to the next list page (``next_page``);
a post page gives the fields. When posts sit on the page itself — replies in a thread, a
board that shows whole posts — ``item`` selects each post block and the field selectors
apply inside the block. Both can combine: ``item_links`` to threads, ``item`` for the posts
in each thread.

A post with no text is not recorded. A page where no post has any text, or a list page
with no links to posts, is a failure line: it usually means the site's layout changed and
the selectors need updating, which the operator should hear about.

Without an ``id`` selector a post's id is its page URL, canonicalised without the fragment.
For post blocks, which share their page's URL, it is the block's own ``id`` anchor on that
page if it has one, else a hash of the post's text — stable when the post moves to
another list page, which a page URL plus a position would not be.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

import scrapy
from scrapy.http import Response
from w3lib.url import canonicalize_url

from spiders.base import SourceSpider, web_links
from spiders.dates import iso_datetime
from spiders.extract import Selectable, first_text, hrefs, joined_text, select
from spiders.items import PostItem
from spiders.options import OptionsError, check_selector

SELECTOR_OPTIONS = ("item_links", "item", "title", "text", "author", "posted_at", "id",
                    "next_page")


class GenericSpider(SourceSpider):
    name = "generic"
    option_names = SELECTOR_OPTIONS

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        if "text" not in options:
            raise OptionsError("text", "required: the selector of a post's text")
        if "item_links" not in options and "item" not in options:
            raise OptionsError("item_links", "set item_links (links from list pages to "
                                             "post pages), item (post blocks), or both")
        for field in cls.option_names:
            check_selector(options, field)

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:
        """A list page: the posts it links to (or holds), then the next list page."""
        if not self.is_text(response):
            return
        if "item_links" in self.options:
            yield from self._post_page_requests(response)
        else:
            yield from self.parse_post_page(response)
        yield from self._next_list_page(response, page)

    def parse_post_page(self, response: Response) -> Iterator[PostItem]:
        """A page of one post, or of several post blocks when ``item`` is set."""
        if not self.is_text(response):
            return
        if "item" in self.options:
            blocks = select(response, self.options["item"])
            if not blocks:
                self.fail(response.url, f"no post blocks matched item {self.options['item']!r}")
                return
            posts = [self._post(response, block, in_block=True) for block in blocks]
        else:
            posts = [self._post(response, response, in_block=False)]
        found = [post for post in posts if post is not None]
        if not found:
            self.fail(response.url, f"no post text matched text {self.options['text']!r}")
        yield from found

    def _post_page_requests(self, response: Response) -> Iterator[scrapy.Request]:
        links = web_links(response, hrefs(select(response, self.options["item_links"])))
        if not links:
            self.fail(response.url,
                      f"no links to posts matched item_links {self.options['item_links']!r}")
        for url in links:
            yield self.request(url, self.parse_post_page)

    def _next_list_page(self, response: Response, page: int) -> Iterator[scrapy.Request]:
        if "next_page" not in self.options or page >= self.max_pages:
            return
        for url in web_links(response, hrefs(select(response, self.options["next_page"])))[:1]:
            yield self.request(url, self.parse, page=page + 1)

    def _post(self, response: Response, scope: Selectable, *, in_block: bool) -> PostItem | None:
        text = joined_text(scope, self.options["text"], separator="\n", relative=in_block)
        if not text:
            return None
        return PostItem(
            source=self.source_name,
            external_id=(self._field(scope, "id", in_block)
                         or _default_id(response, scope, text, in_block)),
            url=response.url,
            text=text,
            title=self._field(scope, "title", in_block, joined=True),
            author=self._field(scope, "author", in_block, joined=True),
            posted_at=iso_datetime(self._field(scope, "posted_at", in_block)),
        )

    def _field(self, scope: Selectable, name: str, in_block: bool, *,
               joined: bool = False) -> str | None:
        """An optional field: all its text joined (a title split by markup), or the first
        value (an id, a date)."""
        if name not in self.options:
            return None
        if joined:
            return joined_text(scope, self.options[name], separator=" ",
                               relative=in_block) or None
        return first_text(scope, self.options[name], relative=in_block)


def _default_id(response: Response, scope: Selectable, text: str, in_block: bool) -> str:
    page = canonicalize_url(response.url, keep_fragments=False)
    if not in_block:
        return page
    anchor = scope.xpath("@id").get()
    if anchor:
        return f"{page}#{anchor}"
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
