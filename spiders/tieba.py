"""A spider for Baidu Tieba forums (贴吧): list pages ``/f?kw=…&pn=…``, thread pages ``/p/<tid>``.

Configuration: ``kind = "tieba"`` and the forum's list page as the URL
(``https://tieba.baidu.com/f?kw=<forum>``). There are no options.

**List pages.** Tieba sends the page as BigPipe "pagelets": the thread list is not in the
document a crawler receives but inside an HTML *comment*, in
``<code class="pagelet_html" id="pagelet_html_frs-list/pagelet/thread_list"
style="display:none;"><!-- <ul id="thread_list">…</ul> … --></code>``, which the page's
JavaScript turns into markup. A parser sees a comment, not elements, so the spider takes
the text of the comment in every ``code.pagelet_html`` and parses it as HTML of its own,
then looks for threads there as well as in the page itself (a page saved from a browser,
and older layouts, have the rows in the document). The list's pager lives in the same
comment, below the rows.

Each thread is an ``li.j_thread_list`` whose ``data-field`` attribute holds JSON, HTML-escaped
in the markup (``{&quot;id&quot;:9079949995,…,&quot;reply_num&quot;:18,…}``). From a row
the spider takes

- the thread id: ``data-field`` ``id``, else ``data-tid``, else the ``/p/<tid>`` of ``a.j_th_tit``;
- the title: ``a.j_th_tit`` (its ``title`` attribute, else its text);
- the reply count: ``data-field`` ``reply_num``, else ``span.threadlist_rep_num``;
- the last-reply time as the list writes it: ``span.threadlist_reply_date`` (``13:05`` for
  today, ``8-7`` this year, ``2023-11`` before), kept as text: it only has to change when
  the thread does.

The next list page is ``a.next.pagination-item`` (``#frs_list_pager a.next``; ``pn`` steps by
50, the href is protocol-relative, ``//tieba.baidu.com/f?…``), followed up to ``max_pages``
list pages. A list page with no thread row at all — neither in the page nor in a pagelet —
is a failure line: the layout changed, or Baidu answered with its security check.

**Incremental crawling.** A thread's listing is ``{"replies": …, "last_reply": …}``; its
thread page is requested only if ``needs_fetch`` says so (never fetched, listing changed,
or fetched longer ago than ``refetch_after``). After the last page of a thread has been
parsed and its posts yielded, the spider yields ``MarkItem(source, "thread:<tid>",
listing_mark(listing))``: the mark follows the posts, so a crash between them costs a
refetch, never a lost post; a thread page that fails leaves the thread unmarked. A
re-crawl of a forum where nothing changed requests the list pages and nothing else.

**Thread pages.** Each floor (楼) is a ``div.l_post`` with a ``data-field`` JSON attribute:
``{"author":{"user_name":…},"content":{"post_id":…,"post_no":3,…}}``. Older pages put the
date in it (``"date":"2015-07-25 21:59"``); newer ones write it in the floor's tail,
``<span class="tail-info">3楼</span><span class="tail-info">2024-08-05 16:56</span>``, next
to ``来自Android客户端``. A floor's

- id: ``content.post_id`` (else ``data-pid``, else the ``post_content_<id>`` of its text);
  a block without one (an advertisement dressed as a floor) is skipped;
- floor number: ``content.post_no``, else the tail's ``N楼``;
- author: ``a.p_author_name`` (the name readers see), else ``author.user_name``;
- date: ``content.date``, else the first tail text that reads as a date (Beijing time);
- text: ``div.d_post_content`` as a reader sees it: ``<br>`` as line breaks, images
  dropped, links as their text (Tieba wraps outside links in a redirect whose text is the
  real URL). Comments on a floor (楼中楼, ``li.lzl_single_post``) are not floors.

A post's id is ``p/<tid>#<post_id>``, its URL ``…/p/<tid>?pid=<post_id>#<post_id>``, its
``meta`` ``{"thread": "<tid>", "floor": N}``. The first floor carries the thread's title
(``h3.core_title_txt``, ``h1.core_title_txt`` on older pages, else the list's) and is kept
even when it is only an image, since the title is text; other floors without text are
not recorded. Thread pages follow ``li.l_pager a`` "下一页" (``?pn=2``), also up to
``max_pages`` pages a thread; a thread page without any floor is a failure line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response

from spiders.base import SourceSpider, web_links
from spiders.dates import CHINA, iso_datetime
from spiders.extract import Selectable, first_text, hrefs, joined_text
from spiders.items import PostItem
from spiders.memory import MarkItem, listing_mark

PAGELET_COMMENTS = ('//code[contains(concat(" ", normalize-space(@class), " "), " pagelet_html ")]'
                    "/comment()")
THREAD_ROWS = "li.j_thread_list"
THREAD_LINK = "a.j_th_tit"
REPLY_COUNT = "span.threadlist_rep_num"
LAST_REPLY = "span.threadlist_reply_date"
LIST_NEXT = ("a.next.pagination-item::attr(href)", "#frs_list_pager a.next::attr(href)")
FLOORS = "div.l_post"
FLOOR_AUTHOR = "a.p_author_name"
FLOOR_TEXT = "div.d_post_content"
FLOOR_TAIL = "span.tail-info"
THREAD_TITLE = ("h3.core_title_txt", "h1.core_title_txt", ".core_title_txt")
THREAD_NEXT = '//li[contains(@class, "l_pager")]/a[normalize-space(.)="下一页"]/@href'

_THREAD_PATH = re.compile(r"/p/(\d+)")
_FLOOR_LABEL = re.compile(r"^(\d+)\s*楼$")
_POST_CONTENT_ID = re.compile(r"^post_content_(\d+)$")


@dataclass(frozen=True)
class ThreadRow:
    """What a list page says of one thread."""

    tid: str
    title: str | None
    replies: int | None
    last_reply: str | None

    @property
    def key(self) -> str:
        """The thread's key in the crawl memory."""
        return f"thread:{self.tid}"

    @property
    def listing(self) -> dict[str, Any]:
        """What must change for the thread to be fetched again."""
        return {"replies": self.replies, "last_reply": self.last_reply}


class TiebaSpider(SourceSpider):
    name = "tieba"
    option_names = ()

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:
        """A forum list page: requests for the threads that changed, then the next page."""
        if not self.is_text(response):
            return
        scopes = list_scopes(response)
        rows = thread_rows(scopes)
        if not rows:
            self.fail(response.url, "no thread list: neither li.j_thread_list rows in the "
                                    "page nor in a code.pagelet_html comment")
        for row in rows:
            if self.needs_fetch(row.key, row.listing):
                yield self.request(response.urljoin(f"/p/{row.tid}"), self.parse_thread,
                                   thread=row, page=1)
        if page < self.max_pages:
            for url in list_next_page(response, scopes):
                yield self.request(url, self.parse, page=page + 1)

    def parse_thread(self, response: Response, thread: ThreadRow,
                     page: int) -> Iterator[PostItem | MarkItem | scrapy.Request]:
        """One page of a thread: its floors, then the next page, or the thread's mark
        once its last page is done."""
        if not self.is_text(response):
            return
        floors = [floor for floor in map(read_floor, response.css(FLOORS)) if floor]
        if not floors:
            self.fail(response.url, "no floors (div.l_post with a post id) on the thread page")
            return
        title = thread_title(response) or thread.title
        for index, floor in enumerate(floors):
            first = is_first_floor(floor, page, index)
            if floor.text or first:
                yield self._post(response, thread.tid, floor, title if first else None)
        following = thread_next_page(response) if page < self.max_pages else []
        if following:
            yield self.request(following[0], self.parse_thread, thread=thread, page=page + 1)
        else:
            yield MarkItem(self.source_name, thread.key, listing_mark(thread.listing))

    def _post(self, response: Response, tid: str, floor: Floor,
              title: str | None) -> PostItem:
        return PostItem(
            source=self.source_name,
            external_id=f"p/{tid}#{floor.post_id}",
            url=response.urljoin(f"/p/{tid}?pid={floor.post_id}#{floor.post_id}"),
            text=floor.text,
            title=title,
            author=floor.author,
            posted_at=iso_datetime(floor.date, tz=CHINA),
            meta={"thread": tid, "floor": floor.number},
        )


@dataclass(frozen=True)
class Floor:
    """One floor (楼) of a thread page, as written there."""

    post_id: str
    number: int | None
    author: str | None
    date: str | None
    text: str


def is_first_floor(floor: Floor, page: int, index: int) -> bool:
    """Floor 1 opens the thread; a page that does not number its floors has it first on
    its first page."""
    return floor.number == 1 if floor.number is not None else page == 1 and index == 0


def read_floor(block: Selector) -> Floor | None:
    """A ``div.l_post``; None for blocks without a post id (advertisements in floor
    dress), which are no floors."""
    field = data_field(block)
    content = _dict(field.get("content"))
    post_id = floor_post_id(block, content)
    if post_id is None:
        return None
    return Floor(
        post_id=post_id,
        number=floor_number(block, content),
        author=(joined_text(block, FLOOR_AUTHOR, separator=" ")
                or _text(_dict(field.get("author")).get("user_name")) or None),
        date=floor_date(block, content),
        text=joined_text(block, FLOOR_TEXT, separator="\n"),
    )


def list_scopes(response: Response) -> list[Selectable]:
    """Where a list page's threads may be: the page itself, then the content of each
    ``code.pagelet_html`` comment parsed as a document of its own (the BigPipe trick)."""
    scopes: list[Selectable] = [response]
    for comment in response.xpath(PAGELET_COMMENTS):
        markup = comment.root.text or ""
        if markup.strip():
            scopes.append(Selector(text=markup))
    return scopes


def thread_rows(scopes: list[Selectable]) -> list[ThreadRow]:
    """Every thread row in any scope, once each, in page order."""
    rows: dict[str, ThreadRow] = {}
    for scope in scopes:
        for element in scope.css(THREAD_ROWS):
            row = thread_row(element)
            if row is not None and row.tid not in rows:
                rows[row.tid] = row
    return list(rows.values())


def thread_row(row: Selector) -> ThreadRow | None:
    """One ``li.j_thread_list``; None when no thread id can be found in it."""
    field = data_field(row)
    tid = _id(field.get("id")) or _id(row.attrib.get("data-tid")) or _linked_tid(row)
    if tid is None:
        return None
    link = row.css(THREAD_LINK)
    title = (link.attrib.get("title") or "").strip() or joined_text(row, THREAD_LINK,
                                                                   separator=" ")
    return ThreadRow(
        tid=tid,
        title=title or None,
        replies=_first_count(field.get("reply_num"), first_text(row, REPLY_COUNT)),
        last_reply=first_text(row, LAST_REPLY),
    )


def list_next_page(response: Response, scopes: list[Selectable]) -> list[str]:
    """The next list page's URL (a list of one, or empty on the last page)."""
    for scope in scopes:
        for expression in LIST_NEXT:
            found = web_links(response, hrefs(scope.css(expression)))
            if found:
                return found[:1]
    return []


def thread_next_page(response: Response) -> list[str]:
    """The URL of the thread's next page (a list of one, or empty on its last page)."""
    return web_links(response, hrefs(response.xpath(THREAD_NEXT)))[:1]


def thread_title(response: Response) -> str | None:
    """The thread's title as its page shows it: the heading's ``title``, else its text."""
    for expression in THREAD_TITLE:
        heading = response.css(expression)
        if heading:
            return ((heading.attrib.get("title") or "").strip()
                    or joined_text(response, expression, separator=" ") or None)
    return None


def data_field(element: Selector) -> dict[str, Any]:
    """The JSON in an element's ``data-field`` (the parser has already undone the HTML
    escaping); empty when missing or not JSON, so a broken attribute costs fields, not
    the row."""
    raw = element.attrib.get("data-field")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def floor_post_id(block: Selector, content: dict[str, Any]) -> str | None:
    """The floor's post id: from ``data-field``, ``data-pid`` or ``post_content_<id>``."""
    found = _id(content.get("post_id")) or _id(block.attrib.get("data-pid"))
    if found:
        return found
    for element_id in block.css(f"{FLOOR_TEXT}::attr(id)").getall():
        match = _POST_CONTENT_ID.match(element_id.strip())
        if match:
            return match.group(1)
    return None


def floor_number(block: Selector, content: dict[str, Any]) -> int | None:
    """The floor number: ``post_no`` in ``data-field``, else the tail's ``N楼``."""
    number = _count(content.get("post_no"))
    if number is not None:
        return number
    for text in _tail_texts(block):
        match = _FLOOR_LABEL.match(text)
        if match:
            return int(match.group(1))
    return None


def floor_date(block: Selector, content: dict[str, Any]) -> str | None:
    """The floor's date as written: ``date`` in ``data-field`` (older pages), else the first
    tail text that reads as a date (the others say ``3楼`` or ``来自Android客户端``)."""
    date = _text(content.get("date"))
    if date:
        return date
    for text in _tail_texts(block):
        if not _FLOOR_LABEL.match(text) and iso_datetime(text, tz=CHINA) is not None:
            return text
    return None


def _tail_texts(block: Selector) -> list[str]:
    """The texts of a floor's tail, whitespace collapsed; the report icon's empty
    ``a.tail-info`` leaves none."""
    return [text for text in (" ".join(node.xpath("string()").get("").split())
                              for node in block.css(FLOOR_TAIL)) if text]


def _linked_tid(row: Selector) -> str | None:
    for href in hrefs(row.css(f"{THREAD_LINK}::attr(href)")):
        match = _THREAD_PATH.search(href)
        if match:
            return match.group(1)
    return None


def _id(value: Any) -> str | None:
    """A numeric id as text; JSON gives ints, attributes give strings."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    return text if text.isdigit() else None


def _count(value: Any) -> int | None:
    identifier = _id(value)
    return int(identifier) if identifier is not None else None


def _first_count(*values: Any) -> int | None:
    """The first value that is a count: ``data-field`` before the visible number."""
    for value in values:
        count = _count(value)
        if count is not None:
            return count
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
