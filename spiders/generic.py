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

With ``format = "json"`` the source is a JSON API instead (see :class:`JsonApi` below):
the URLs are templates of its pages, ``items`` is the path to the list of posts in each
response and the field options are paths inside each post (``spiders.jsonpath``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response, TextResponse
from w3lib.url import canonicalize_url

from spiders.base import SourceSpider, web_links
from spiders.dates import iso_datetime
from spiders.extract import (
    Selectable,
    first_text,
    fragment_text,
    hrefs,
    joined_text,
    select,
    tidy,
)
from spiders.items import PostItem
from spiders.jsonpath import EACH, JsonPath, PathError, parse_path, scalars, unix_time
from spiders.options import OptionsError, check_selector

SELECTOR_OPTIONS = ("item_links", "item", "title", "text", "author", "posted_at", "id",
                    "next_page")
HTML_ONLY_OPTIONS = ("item_links", "item", "next_page")
JSON_ONLY_OPTIONS = ("items", "url", "first_page", "page_size")
JSON_PATH_OPTIONS = ("items", "id", "text", "title", "author", "posted_at", "url")
JSON_REQUIRED = {
    "items": "the path to the list of posts in each response",
    "text": "the path to a post's text inside each item",
    "id": "the path to a post's id inside each item",
}
FORMATS = ("html", "json")
PLACEHOLDER = re.compile(r"\{(\w*)\}")
PAGE_PLACEHOLDERS = ("page", "offset")
_MARKUP = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|&(?:[A-Za-z]+|#\d+|#x[\dA-Fa-f]+);")
"""A tag or a character reference: the sign that a JSON string holds HTML."""


class GenericSpider(SourceSpider):
    name = "generic"
    option_names = ("format", *SELECTOR_OPTIONS, *JSON_ONLY_OPTIONS)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        form = options.get("format", "html")
        if form not in FORMATS:
            raise OptionsError("format", 'must be "html" (pages and selectors, the default) '
                                         'or "json" (an API and paths)')
        if form == "json":
            JsonApi.check_options(options)
            return
        for field in JSON_ONLY_OPTIONS:
            if field in options:
                raise OptionsError(field, 'an option of JSON sources: set format = "json", '
                                          "or remove it")
        if "text" not in options:
            raise OptionsError("text", "required: the selector of a post's text")
        if "item_links" not in options and "item" not in options:
            raise OptionsError("item_links", "set item_links (links from list pages to "
                                             "post pages), item (post blocks), or both")
        for field in SELECTOR_OPTIONS:
            check_selector(options, field)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api = JsonApi(self) if self.options.get("format") == "json" else None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.api is None:
            async for request in super().start():
                yield request
            return
        for template in self.start_urls:
            yield self.api.page_request(template, 0)

    def parse_api_page(self, response: Response, template: str,
                       index: int) -> Iterator[PostItem | scrapy.Request]:
        """A page of a JSON API (``format = "json"``): its posts, then its next page."""
        assert self.api is not None
        yield from self.api.parse_page(response, template, index)

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


class JsonApi:
    """What ``format = "json"`` adds to the generic spider: pages from URL templates, posts
    from paths.

    A URL holding ``{page}`` is fetched with 1, 2, … (from ``first_page``), one holding
    ``{offset}`` with 0, ``page_size``, 2 × ``page_size``, …; a URL with neither is one
    page. Paging stops at ``max_pages``, at a page with no items, at a page where no item
    gave a post, and at a page whose posts are all stored already (or were all seen earlier
    in this crawl: an API that ignores the page number).

    Strings that hold HTML (a tag or a character reference) become the text a reader would
    see. ``posted_at`` is ISO 8601, a date as forums write it, or a Unix time in seconds or
    milliseconds. A post's ``url`` is its ``url`` path's value, else the API page's URL
    with ``#`` and the post's id.
    """

    def __init__(self, spider: GenericSpider) -> None:
        self.spider = spider
        self.paths: dict[str, JsonPath] = {
            field: parse_path(spider.options[field])
            for field in JSON_PATH_OPTIONS if field in spider.options
        }
        self.first_page: int = spider.options.get("first_page", 1)
        self.page_size: int | None = spider.options.get("page_size")
        for url in spider.start_urls:
            self._check_template(url)
        self.seen: set[str] = set()
        """The ids of the posts yielded so far in this crawl."""

    @staticmethod
    def check_options(options: Mapping[str, Any]) -> None:
        for field in HTML_ONLY_OPTIONS:
            if field in options:
                hint = ("the pages of a JSON source come from {page} or {offset} in its URLs"
                        if field == "next_page" else "use items and paths instead")
                raise OptionsError(field, f'an option of HTML sources, not of format = "json": '
                                          f"{hint}")
        for field, what in JSON_REQUIRED.items():
            if field not in options:
                raise OptionsError(field, f'required with format = "json": {what}')
        for field in JSON_PATH_OPTIONS:
            if field in options:
                try:
                    parse_path(options[field])
                except PathError as error:
                    raise OptionsError(field, f"not a valid path: {error}") from error
        _check_count(options, "first_page", minimum=0)
        _check_count(options, "page_size", minimum=1)

    def _check_template(self, url: str) -> None:
        """A URL's placeholders; checked when the spider starts, as options hold no URLs."""
        for name in PLACEHOLDER.findall(url):
            if name not in PAGE_PLACEHOLDERS:
                raise OptionsError("urls", f"{url}: unknown placeholder {{{name}}}; "
                                           "pages are numbered with {page} or {offset}")
            if name == "offset" and self.page_size is None:
                raise OptionsError("page_size", f"required when a URL holds {{offset}} ({url}):"
                                                " how many items a page holds")

    def page_request(self, template: str, index: int) -> scrapy.Request:
        """The request of page ``index`` (from 0) of ``template``."""
        url = (template.replace("{page}", str(self.first_page + index))
               .replace("{offset}", str(index * (self.page_size or 0))))
        return self.spider.request(url, self.spider.parse_api_page, template=template,
                                   index=index)

    def parse_page(self, response: Response, template: str,
                   index: int) -> Iterator[PostItem | scrapy.Request]:
        parsed = self._document(response)
        if parsed is None:
            return
        items = self._items(response, parsed[0])
        if not items:  # None: a failure, recorded; []: the end of the listing
            return
        posts = self._posts(response, items)
        ids = {post.external_id for post in posts}
        known = self.spider.memory.stored(ids) | (ids & self.seen)
        for post in posts:
            if post.external_id not in self.seen:
                self.seen.add(post.external_id)
                yield post
        paged = any(f"{{{name}}}" in template for name in PAGE_PLACEHOLDERS)
        if paged and posts and known < ids and index + 1 < self.spider.max_pages:
            yield self.page_request(template, index + 1)

    def _document(self, response: Response) -> tuple[Any] | None:
        """The parsed response, in a 1-tuple (a JSON ``null`` is a value); ``None`` if the
        response is not JSON, which is recorded."""
        try:
            body = response.text if isinstance(response, TextResponse) else response.body
            return (json.loads(body),)
        except json.JSONDecodeError as error:
            what = f"{error.msg} at line {error.lineno} column {error.colno}"
        except UnicodeDecodeError:
            what = "not UTF-8 text and no charset declared"
        except (RecursionError, ValueError) as error:  # nested too deep, a number too long
            what = str(error) or type(error).__name__
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        media_type = content_type.split(";")[0].strip() or "no content type"
        self.spider.fail(response.url, f"not JSON: {what} (Content-Type: {media_type})")
        return None

    def _items(self, response: Response, document: Any) -> list[Any] | None:
        """The items the ``items`` path finds; ``None`` (recorded) if it finds no list.

        ``data.list``: the list there (a ``null`` is an empty one). ``data.list[]``: the
        elements of the list, or the values of an object keyed by id, there.
        """
        path = self.paths["items"]
        each = bool(path.steps) and path.steps[-1] is EACH
        containers = JsonPath(path.text, path.steps[:-1] if each else path.steps).find(document)
        usable = (list, dict) if each else (list,)
        lists = [found for found in containers if isinstance(found, usable) or found is None]
        if not lists:
            hint = _what_is_there(containers, document)
            if not each and any(isinstance(found, dict) for found in containers):
                hint += f"; {path.text + '[]'!r} takes an object's values"
            self.spider.fail(response.url, f"no list at items path {path.text!r} ({hint})")
            return None
        items: list[Any] = []
        for found in lists:
            if isinstance(found, dict):
                items.extend(found.values())
            elif found:
                items.extend(found)
        return items

    def _posts(self, response: Response, items: list[Any]) -> list[PostItem]:
        posts: list[PostItem] = []
        without_id = 0
        for item in items:
            text = self._text(item, "text", "\n")
            if not text:
                continue
            external_id = self._first(item, "id")
            if external_id is None:
                without_id += 1
                continue
            posted_at = self._first(item, "posted_at")
            posts.append(PostItem(
                source=self.spider.source_name,
                external_id=external_id,
                url=self._url(response, item, external_id),
                text=text,
                title=self._text(item, "title", " ") or None,
                author=self._text(item, "author", " ") or None,
                posted_at=posted_at and (unix_time(posted_at) or iso_datetime(posted_at)),
            ))
        text_path = self.paths["text"].text
        if without_id:
            self.spider.fail(response.url, f"{without_id} of {len(items)} items have text but "
                                           f"no id at id path {self.paths['id'].text!r}, "
                                           "skipped")
        elif not posts:
            self.spider.fail(response.url, f"no item has text at text path {text_path!r}")
        return posts

    def _values(self, item: Any, field: str) -> list[str]:
        path = self.paths.get(field)
        return scalars(path.find(item)) if path else []

    def _first(self, item: Any, field: str) -> str | None:
        values = self._values(item, field)
        return values[0] if values else None

    def _text(self, item: Any, field: str, separator: str) -> str:
        """Every value the path finds, as text, HTML turned into what a reader sees."""
        texts = (_plain(value) for value in self._values(item, field))
        return separator.join(text for text in texts if text)

    def _url(self, response: Response, item: Any, external_id: str) -> str:
        links = web_links(response, self._values(item, "url")[:1])
        if links:
            return links[0]
        page = canonicalize_url(response.url, keep_fragments=False)
        return f"{page}#{quote(external_id, safe='')}"


def _check_count(options: Mapping[str, Any], field: str, *, minimum: int) -> None:
    if field not in options:
        return
    value = options[field]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise OptionsError(field, f"must be a whole number, {minimum} or more")


def _plain(value: str) -> str:
    return fragment_text(value) if _MARKUP.search(value) else tidy(value)


def _what_is_there(found: list[Any], document: Any) -> str:
    if found:
        kinds = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
        value = found[0]
        kind = next((name for type_, name in kinds.items() if isinstance(value, type_)),
                    "a number")
        return f"found {kind}"
    if isinstance(document, dict):
        keys = [str(key) for key in list(document)[:8]]
        more = ", …" if len(document) > 8 else ""
        return f"nothing there; the response's keys: {', '.join(keys)}{more}"
    return "nothing there"
