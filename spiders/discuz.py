"""A spider for Discuz! X3 boards (source kind ``discuz``): list pages, then the threads
that changed since the last crawl. It takes no options: every Discuz! X3 board that keeps
the default templates has the same markup.

Page structure (Discuz! X3.4 default templates ``forum/forumdisplay_list.htm`` and
``forum/viewthread.htm`` with ``forum/viewthread_node.htm``; pagination from
``helper_page::multi``, times from ``dgmdate($time, 'u')``)::

    list page    forum.php?mod=forumdisplay&fid=N[&page=P]   rewritten: forum-N-P.html
      tbody#normalthread_<tid>    one row per thread; tbody#stickthread_<tid> for stickies
        th a.xst                  the thread's title and link
        td.num a.xi2 / td.num em  reply count / views
        td.by (the last one)      last post: <em><a>2025-5-20 22:10</a></em>, or when
                                  recent <em><a><span title="2025-6-3 09:30">半小时前</span>
      div.pg a.nxt                the next list page
    thread page  forum.php?mod=viewthread&tid=N[&page=P]     rewritten: thread-N-P-1.html
      #thread_subject             the thread's title
      div#post_<pid>              one block per post, around table#pid<pid>
        .pi .authi a.xw1          author (.plc .authi a.xi2 when shown above the post)
        em#authorposton<pid>      发表于 2025-6-3 09:30, or 发表于 <span title="2025-6-3
                                  09:30:12">半小时前</span>
        a#postnum<pid>            floor: 楼主, 沙发, 板凳, 地板, then <em>5</em>#
        td.t_f#postmessage_<pid>  the text
      div.pg a.nxt                the thread's next page

A thread's key is its tid, taken from the row's ``tbody`` id; thread links in either URL
form are followed as the board writes them, less the list page they came from
(``extra=page%3D2``, the last number of ``thread-N-1-2.html``), so that a thread has one
URL whichever list page shows it. A thread URL given as a start URL is crawled as a thread
(every time: it has no listing to compare).

Incremental rule: a row's listing is ``{"replies": n, "last_post": "<time text>"}`` (the
absolute time: the ``title`` of a relative time, which would otherwise change by itself).
A thread is fetched only when ``needs_fetch`` says so (never fetched, listing changed, or
older than ``refetch_after``); after its last page's posts, the spider yields the thread's
``MarkItem``, so the mark is stored after the posts and a crawl that dies half-way through
a thread fetches it again next time. Views are not part of the listing: they change with
every reader. Every list page is read up to ``max_pages``; so is every thread (a longer
thread is marked once its first ``max_pages`` pages are read).

Sticky threads (``stickthread_``) are kept: on these boards the paid stickies are often
the sellers' own adverts. A thread listed twice in one crawl (a global sticky, a thread
bumped to another page while the crawl runs) is requested once.

Posts: ``external_id`` is ``thread-<tid>#pid<pid>`` (stable across pages), ``url`` the
thread page's URL with ``#pid<pid>``, ``title`` the thread's, and ``meta`` holds
``thread`` (tid), ``floor`` and, for the opening post, the list's ``replies`` and
``views``. The text is ``td.t_f`` (signatures, ratings and comments sit outside it) less
what is not the author's own words: quoted posts (``div.quote``, stored as posts of their
own), edit notes (``i.pstatus``: 本帖最后由 … 编辑), the hidden anti-scraping filler
(``font.jammer``, ``display:none``: attachment tips too) and code blocks' 复制代码 button.
Times are Beijing time; a relative time without a ``title`` counts back from now.

Failures: a list page with no thread rows (unless the board says it has none:
``p.emp``), a thread page with no post blocks or no post text — a layout change or a page
the board refused, whose message (``#messagetext``) the failure line quotes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urldefrag, urlsplit

import scrapy
from lxml import etree
from parsel import Selector, SelectorList
from scrapy.http import Response
from w3lib.url import url_query_cleaner

from spiders.base import SourceSpider, web_links
from spiders.dates import CHINA, iso_datetime
from spiders.extract import first_text, hrefs, texts, visible_text
from spiders.items import PostItem
from spiders.memory import MarkItem, listing_mark

THREAD_ROWS = "tbody[id^='normalthread_'], tbody[id^='stickthread_']"
POST_BLOCKS = "div[id^='post_'] / table[id^='pid']"
NEXT_PAGE = "div.pg a.nxt::attr(href)"
EMPTY_BOARD = "#threadlisttableid p.emp"  # 本版块或指定的范围内尚无主题
SITE_MESSAGE = "#messagetext p"  # showmessage(): 抱歉，您没有权限访问该版块

AUTHOR_LINKS = (".pi .authi a.xw1", ".plc .authi a.xi2")
NOT_THE_AUTHORS_WORDS = "div.quote, .pstatus, font.jammer, div.blockcode > em"
HIDDEN = ".//*[contains(translate(@style, ' ', ''), 'display:none')]"
POST_NUMBER_NAMES = {"楼主": 1, "沙发": 2, "板凳": 3, "地板": 4}  # Discuz!'s default postno

_ROW_ID = re.compile(r"(?:normal|stick)thread_(\d+)")
_POST_DIV_ID = re.compile(r"post_(\d+)")
_POST_TABLE_ID = re.compile(r"pid(\d+)")
_REWRITTEN_THREAD = re.compile(r"thread-(\d+)-\d+-\d+\.html$")
_REWRITTEN_LIST_PAGE = re.compile(r"(thread-\d+-\d+-)\d+(\.html)$")  # thread-tid-page-listpage
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class ListedThread:
    """A thread as its list row shows it."""

    tid: int
    url: str
    title: str | None
    replies: int | None
    views: int | None
    last_post: str | None

    @property
    def listing(self) -> dict[str, Any]:
        """What decides whether the thread changed: replies and last-post time."""
        return {"replies": self.replies, "last_post": self.last_post}


class DiscuzSpider(SourceSpider):
    name = "discuz"
    option_names = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._listed_tids: set[int] = set()
        # What relative times without an absolute title count back from; tests fix it.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:
        """A list page: requests for the threads that changed, then the next list page.
        A thread URL (a start URL naming one thread) is parsed as a thread."""
        tid = thread_id(response.url)
        if tid is not None:
            yield from self.parse_thread(response, tid=tid)
            return
        if not self.is_text(response):
            return
        rows = response.css(THREAD_ROWS)
        if not rows and not response.css(EMPTY_BOARD):
            self.fail(response.url, _with_site_message(
                response, f"no thread rows matched {THREAD_ROWS!r}"))
        for row in rows:
            yield from self._thread_request(response, row)
        yield from self._next_page(response, page, self.parse)

    def parse_thread(self, response: Response, tid: int, listed: ListedThread | None = None,
                     page: int = 1, earlier_posts: int = 0) -> Iterator[Any]:
        """A thread page: its posts, then the thread's next page or, after the last one,
        the thread's mark. ``earlier_posts``: post blocks on the pages before this one,
        for floors the page does not number."""
        if not self.is_text(response):
            return
        blocks = post_blocks(response)
        if not blocks:
            self.fail(response.url, _with_site_message(
                response, f"no post blocks matched {POST_BLOCKS!r}"))
            return
        title = first_text(response, "#thread_subject") or (listed.title if listed else None)
        posts = [self._post(response, tid, pid, block, title=title, listed=listed,
                            position=earlier_posts + index + 1)
                 for index, (pid, block) in enumerate(blocks)]
        found = [post for post in posts if post is not None]
        if not found:
            self.fail(response.url, "no post text matched 'td.t_f'")
            return
        yield from found
        next_pages = list(self._next_page(response, page, self.parse_thread, tid=tid,
                                          listed=listed,
                                          earlier_posts=earlier_posts + len(blocks)))
        if next_pages:
            yield from next_pages
        elif listed is not None:
            yield MarkItem(self.source_name, thread_key(tid), listing_mark(listed.listing))

    def _thread_request(self, response: Response, row: Selector) -> Iterator[scrapy.Request]:
        listed = listed_thread(response, row)
        if listed is None:
            self.fail(response.url, f"thread row {row.attrib.get('id')!r} has no tid or no "
                                    "link (th a.xst)")
            return
        if listed.tid in self._listed_tids:
            return
        self._listed_tids.add(listed.tid)
        if self.needs_fetch(thread_key(listed.tid), listed.listing):
            yield self.request(listed.url, self.parse_thread, tid=listed.tid, listed=listed)

    def _next_page(self, response: Response, page: int, callback: Callable[..., Any],
                   **cb_kwargs: Any) -> Iterator[scrapy.Request]:
        """The page after this one (``div.pg a.nxt``), up to ``max_pages``. The first match
        is the page's own pager: a post's comment pager (also ``a.nxt``) comes later and
        links to ``javascript:``, which ``web_links`` drops."""
        if page >= self.max_pages:
            return
        for url in web_links(response, response.css(NEXT_PAGE).getall())[:1]:
            yield self.request(url, callback, page=page + 1, **cb_kwargs)

    def _post(self, response: Response, tid: int, pid: int, block: Selector, *,
              title: str | None, listed: ListedThread | None,
              position: int) -> PostItem | None:
        """One post block as a post; None when it has no text of its own (deleted,
        hidden by a moderator, only a quote)."""
        messages = block.css("td.t_f")
        text = message_text(messages[0]) if messages else ""
        if not text:
            return None
        floor = post_floor(block) or position
        meta: dict[str, Any] = {"thread": tid, "floor": floor}
        if floor == 1 and listed is not None:
            meta.update(replies=listed.replies, views=listed.views)
        return PostItem(
            source=self.source_name,
            external_id=f"thread-{tid}#pid{pid}",
            url=f"{urldefrag(response.url).url}#pid{pid}",
            text=text,
            title=title,
            author=post_author(block),
            posted_at=iso_datetime(post_time(block), tz=CHINA, now=self.clock()),
            meta=meta,
        )


def thread_key(tid: int) -> str:
    """The memory key of a thread's mark."""
    return f"thread:{tid}"


def thread_id(url: str) -> int | None:
    """The tid of a thread URL in either form (``forum.php?mod=viewthread&tid=N``,
    ``thread-N-P-1.html``); None for any other URL."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    tid = query.get("tid", [""])[0]
    if query.get("mod") == ["viewthread"] and tid.isdigit():
        return int(tid)
    match = _REWRITTEN_THREAD.search(parts.path)
    return int(match[1]) if match else None


def thread_url(url: str) -> str:
    """A thread link without the list page it came from: ``extra=page%3D2`` dropped, the
    last number of ``thread-N-P-2.html`` set to 1. Discuz! uses it only for the way back
    to the list; without it a thread has one URL whichever list page links to it."""
    parts = urlsplit(url)
    if _REWRITTEN_LIST_PAGE.search(parts.path):
        path = _REWRITTEN_LIST_PAGE.sub(r"\g<1>1\g<2>", parts.path)
        return parts._replace(path=path, fragment="").geturl()
    return url_query_cleaner(url, ["extra"], remove=True, keep_fragments=False)


def listed_thread(response: Response, row: Selector) -> ListedThread | None:
    """A thread row of a list page; None when it has no tid or no link."""
    match = _ROW_ID.fullmatch(row.attrib.get("id", ""))
    links = web_links(response, hrefs(row.css("th a.xst")))
    if not match or not links:
        return None
    return ListedThread(
        tid=int(match[1]),
        url=thread_url(links[0]),
        title=first_text(row, "th a.xst"),
        replies=_count(row.css("td.num a.xi2")),
        views=_count(row.css("td.num em")),
        last_post=_last_post(row),
    )


def _count(selection: SelectorList) -> int | None:
    text = _text(selection)
    return int(text) if text and text.isdigit() else None


def _text(selection: SelectorList) -> str | None:
    """The visible text of the first selected element that has any."""
    found = texts(selection)
    return found[0] if found else None


def _last_post(row: Selector) -> str | None:
    """The last-post time of a row as the board wrote it absolutely: the ``title`` of a
    relative time (半小时前 would change by itself between two crawls), else the text."""
    cells = row.css("td.by")
    if not cells:
        return None
    stamp = cells[-1].css("em")
    return stamp.css("span::attr(title)").get() or _text(stamp)


def post_blocks(response: Response) -> list[tuple[int, Selector]]:
    """``(pid, block)`` for each post of a thread page, in page order, each pid once (a
    reply stuck to the top also appears at its own floor). The blocks are ``div#post_<pid>``;
    ``table#pid<pid>`` on templates without the wrapper."""
    found = _blocks_with_ids(response.css("div[id^='post_']"), _POST_DIV_ID)
    return found or _blocks_with_ids(response.css("table[id^='pid']"), _POST_TABLE_ID)


def _blocks_with_ids(selection: SelectorList, pattern: re.Pattern[str]
                     ) -> list[tuple[int, Selector]]:
    """The elements whose id is exactly ``pattern`` (``post_new``, ``post_rate_5`` and
    the like also start with ``post_``), by pid."""
    blocks: dict[int, Selector] = {}
    for element in selection:
        match = pattern.fullmatch(element.attrib.get("id", ""))
        if match:
            blocks.setdefault(int(match[1]), element)
    return list(blocks.items())


def post_author(block: Selector) -> str | None:
    """The author's name: beside the avatar (``.pi .authi a.xw1``), or above the post on
    boards that show it there (``.plc .authi a.xi2``); None for anonymous posts."""
    for expression in AUTHOR_LINKS:
        name = first_text(block, expression)
        if name:
            return name
    return None


def post_time(block: Selector) -> str | None:
    """When the post was made as the board wrote it: the absolute ``title`` of a relative
    time, else the text (发表于 2025-6-3 09:30, which ``iso_datetime`` reads)."""
    stamp = block.css("em[id^='authorposton']")
    if not stamp:
        return None
    return stamp.css("span::attr(title)").get() or _text(stamp)


def post_floor(block: Selector) -> int | None:
    """The floor the board numbers the post with: 5# (or 来自 5# for a reply stuck to the
    top), the default names 楼主/沙发/板凳/地板; None for names a board chose itself."""
    label = first_text(block, "a[id^='postnum']")
    if not label:
        return None
    number = _DIGITS.search(label)
    return int(number[0]) if number else POST_NUMBER_NAMES.get(label)


def message_text(message: Selector) -> str:
    """The visible text of a post's ``td.t_f`` without what is not the author's own words
    (see the module docstring). Works on a copy: the response's tree stays whole."""
    root = copy.deepcopy(message.root)
    scope = Selector(root=root)
    for node in [*scope.css(NOT_THE_AUTHORS_WORDS), *scope.xpath(HIDDEN)]:
        _drop(node.root)
    return visible_text(root)


def _drop(element: etree._Element) -> None:
    """Remove ``element`` but keep the text that follows it (lxml keeps that text in the
    element's ``tail``, which ``remove`` would take away too)."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _with_site_message(response: Response, what: str) -> str:
    """``what``, and the board's own message when the page is one (no permission, the
    thread was deleted…), which tells the operator more than a missing selector."""
    message = first_text(response, SITE_MESSAGE)
    return f"{what}; the page says: {message}" if message else what
