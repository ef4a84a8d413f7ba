"""A spider for public Telegram channels, read through their web preview (``t.me/s/<channel>``).

No account and no API key: the preview is a plain HTML page anyone can open. It shows the
newest twenty or so messages, oldest at the top, each one a block like this (trimmed)::

    <section class="tgme_channel_history js-message_history">
      <a class="tme_messages_more js-messages_more" data-before="1001"
         href="/s/channel?before=1001"></a>
      <div class="tgme_widget_message js-widget_message" data-post="channel/1001">
        <div class="tgme_widget_message_author">
          <a class="tgme_widget_message_owner_name">Name</a></div>
        <div class="tgme_widget_message_forwarded_from">Forwarded from
          <a class="tgme_widget_message_forwarded_from_name" href="https://t.me/other/5">Other</a></div>
        <a class="tgme_widget_message_reply">… the quoted message, with its own
          <div class="tgme_widget_message_text js-message_reply_text"> …</a>
        <div class="tgme_widget_message_text js-message_text">text<br/>
          with <a href="…">links</a></div>
        <span class="tgme_widget_message_views">1.2K</span>
        <span class="tgme_widget_message_from_author">Signature</span>
        <a class="tgme_widget_message_date" href="https://t.me/channel/1001">
          <time datetime="2026-01-31T08:35:56+00:00">08:35</time></a>
      </div>
    </section>

Each message with text becomes a post:

- ``external_id``: ``data-post`` (``channel/1001``), stable for the life of the message.
- ``url``: the date link's href, the message's public permalink as the page gives it
  (``https://t.me/channel/1001``); ``https://t.me/<data-post>`` if the page has none.
- ``posted_at``: the ``<time datetime>`` in the date link, ISO 8601 with its offset.
- ``author``: the signature (``.tgme_widget_message_from_author``, shown when the channel
  signs its posts) — the person who wrote it — else the name in the message header
  (``.tgme_widget_message_owner_name``), else the channel's title.
- ``text``: the outermost ``.tgme_widget_message_text`` of the message itself, never the
  one inside a quoted reply (``.tgme_widget_message_reply``); ``<br>`` and blocks become
  newlines, and a link keeps its visible text followed by its URL when they differ
  (``Admin (https://t.me/admin_bot)``) — a contact handle hidden behind a word is exactly
  what an analyst needs to see. Hashtag links (``?q=%23tag``) keep only their text.
- ``title``: none (messages have no title); ``meta``: ``channel`` (its title), ``views``
  (``1.2K`` → 1200, an int), ``forwarded_from`` (``{"name", "url"}``, url None when the
  source is a hidden account).

Not posts, and not failures: service messages (``.service_message``: "Channel created",
"pinned a message") and media without a caption (a photo, a sticker, "Please open
Telegram to view this post") — nothing there a text classifier can read. A page with
messages none of which has text is therefore normal (a channel of photos). A page with no
message at all is a failure line: an empty channel, a private one, or a URL that is not a
``/s/`` preview, which the operator should hear about.

Paging: the "load older" link (``a.tme_messages_more[data-before]``, else
``<link rel="prev">``) leads to ``/s/<channel>?before=<id>``, the next twenty messages
back in time, joined to the response's URL. The spider follows it up to ``max_pages``
pages, and stops early at the first page whose posts are all stored already
(``memory.stored``): the pages behind it are older still, so they were stored by an
earlier crawl too. The posts of that page are still yielded — storing them again updates
an edited message — and a page without any post (all photos) is no sign of being caught
up, so the spider goes on past it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from copy import deepcopy
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import scrapy
from lxml import etree
from parsel import Selector
from scrapy.http import Response

from spiders.base import WEB_SCHEMES, SourceSpider, web_links
from spiders.dates import iso_datetime
from spiders.extract import first_text, visible_text
from spiders.items import PostItem

MESSAGE = "div.tgme_widget_message[data-post]"
HISTORY = ".tgme_channel_history"
TEXT_CLASS = "tgme_widget_message_text"
REPLY_CLASS = "tgme_widget_message_reply"  # the quoted message, inside a reply
REPLY_TEXT_CLASS = "js-message_reply_text"
SERVICE_CLASS = "service_message"
PERMALINK = "https://t.me/{post_id}"

_COUNT = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?P<suffix>[KMB]?)$", re.IGNORECASE)
_MULTIPLIERS = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)
_FORWARDED_LABEL = re.compile(r"^\s*forwarded from\s*", re.IGNORECASE)


class TelegramSpider(SourceSpider):
    name = "telegram"
    option_names = ()

    def parse(self, response: Response, page: int = 1) -> Iterator[PostItem | scrapy.Request]:
        """A channel page: a post per message with text, then the page of older ones."""
        if not self.is_text(response):
            return
        messages = response.css(MESSAGE)
        if not messages:
            self.fail(response.url, _no_messages(response))
            return
        channel = channel_title(response)
        posts = [post for message in messages
                 if (post := self._post(message, channel)) is not None]
        yield from posts
        yield from self._older_page(response, page, posts)

    def _post(self, message: Selector, channel: str | None) -> PostItem | None:
        """The post of one message; None for a service message or media without text."""
        if has_class(message.root, SERVICE_CLASS):
            return None
        text = "\n".join(filter(None, map(link_text, text_elements(message))))
        if not text:
            return None
        post_id = message.attrib["data-post"].strip()
        meta: dict[str, Any] = {"channel": channel} if channel else {}
        views = parse_count(_own_text(message, ".tgme_widget_message_views"))
        if views is not None:
            meta["views"] = views
        forwarded = forwarded_from(message)
        if forwarded is not None:
            meta["forwarded_from"] = forwarded
        date_link = own(message, "a.tgme_widget_message_date")
        return PostItem(
            source=self.source_name,
            external_id=post_id,
            url=_permalink(date_link, post_id),
            text=text,
            author=(_own_text(message, ".tgme_widget_message_from_author")
                    or _own_text(message, ".tgme_widget_message_owner_name") or channel),
            posted_at=iso_datetime(
                date_link[0].css("time::attr(datetime)").get() if date_link else None),
            meta=meta,
        )

    def _older_page(self, response: Response, page: int,
                    posts: list[PostItem]) -> Iterator[scrapy.Request]:
        if page >= self.max_pages or self._caught_up(response, posts):
            return
        url = older_page_url(response)
        if url is not None:
            yield self.request(url, self.parse, page=page + 1)

    def _caught_up(self, response: Response, posts: list[PostItem]) -> bool:
        """Every post on this page is stored: the older pages were stored before it."""
        ids = {post.external_id for post in posts}
        if not ids or self.memory.stored(ids) != ids:
            return False
        self.logger.info("%s: all %d posts already stored, not loading older ones",
                         response.url, len(ids))
        return True


def _no_messages(response: Response) -> str:
    """Why a page has no message, in words that tell the operator where to look."""
    if response.css(HISTORY) or response.css(".tme_no_messages_found"):
        return "no messages on the channel page"
    return ("no messages and no message history on the page: not the public preview of a "
            "channel (https://t.me/s/<channel>), or the channel has none")


def channel_title(response: Response) -> str | None:
    """The channel's display name, from its info box, else its page header or og:title."""
    return (first_text(response, ".tgme_channel_info_header_title")
            or first_text(response, ".tgme_header_title")
            or first_text(response, "meta[property='og:title']::attr(content)"))


def older_page_url(response: Response) -> str | None:
    """The "load older" page: the link's href, else ``?before=<id>``, on the response's
    URL. Only the ``data-before`` link: the ``data-after`` one goes forward in time."""
    for link in response.css("a.tme_messages_more[data-before]"):
        before = link.attrib["data-before"].strip()
        if before.isdigit():
            found = web_links(response, [link.attrib.get("href") or f"?before={before}"])
            if found:
                return found[0]
    found = web_links(response, response.css("link[rel='prev']::attr(href)").getall())
    return found[0] if found else None


def has_class(element: etree._Element, name: str) -> bool:
    return name in (element.get("class") or "").split()


def own(message: Selector, query: str) -> list[Selector]:
    """What ``query`` finds in this message, leaving out the message a reply quotes (it
    has a text, an author, of its own)."""
    return [found for found in message.css(query)
            if not _inside(found.root, message.root, {REPLY_CLASS})]


def text_elements(message: Selector) -> list[etree._Element]:
    """The message's own text blocks: not the quoted reply's, and not a text block nested
    in another (the saved page has ``div.tgme_widget_message_text`` inside one)."""
    return [found.root for found in own(message, f".{TEXT_CLASS}")
            if not has_class(found.root, REPLY_TEXT_CLASS)
            and not _inside(found.root, message.root, {TEXT_CLASS})]


def link_text(element: etree._Element) -> str:
    """The visible text of ``element``, each link followed by its URL when the URL is not
    what the link shows: ``@seller (https://t.me/seller)``, not a bare ``@seller``."""
    copy = deepcopy(element)
    for link in copy.iter("a"):
        href = (link.get("href") or "").strip()
        if _worth_showing(href, visible_text(link)):
            link.tail = f" ({href})" + (link.tail or "")
    return visible_text(copy)


def forwarded_from(message: Selector) -> dict[str, str | None] | None:
    """``{"name", "url"}`` of the channel or user a forwarded message came from."""
    header = own(message, ".tgme_widget_message_forwarded_from")
    if not header:
        return None
    source = header[0].css(".tgme_widget_message_forwarded_from_name")
    if source:
        name = visible_text(source[0].root)
        url = source[0].attrib.get("href")
    else:
        name = _FORWARDED_LABEL.sub("", visible_text(header[0].root))
        url = None
    return {"name": name or None, "url": url.strip() if url else None}


def parse_count(text: str | None) -> int | None:
    """A counter as Telegram abbreviates it: ``845``, ``1.2K`` → 1200, ``3.4M``; None
    for anything else (a counter we cannot read is left out, not guessed)."""
    match = _COUNT.match((text or "").strip())
    if not match:
        return None
    try:
        number = Decimal(match["number"])
    except InvalidOperation:
        return None
    return int(number * _MULTIPLIERS[match["suffix"].upper()])


def _own_text(message: Selector, query: str) -> str | None:
    for found in own(message, query):
        text = visible_text(found.root)
        if text:
            return text
    return None


def _permalink(date_link: list[Selector], post_id: str) -> str:
    """The date link's href when it is an absolute web URL, else the canonical one."""
    href = (date_link[0].attrib.get("href") or "").strip() if date_link else ""
    if urlsplit(href).scheme in WEB_SCHEMES:
        return href
    return PERMALINK.format(post_id=post_id)


def _inside(element: etree._Element, stop: etree._Element, classes: Iterable[str]) -> bool:
    """Whether an ancestor of ``element`` below ``stop`` has one of ``classes``."""
    wanted = set(classes)
    for ancestor in element.iterancestors():
        if ancestor is stop:
            return False
        if wanted & set((ancestor.get("class") or "").split()):
            return True
    return False


def _worth_showing(href: str, shown: str) -> bool:
    """A web URL that says more than the link's text; not a hashtag's search link."""
    if urlsplit(href).scheme not in WEB_SCHEMES:
        return False
    return _bare(href) != _bare(shown)


def _bare(url: str) -> str:
    return _SCHEME.sub("", url.strip()).rstrip("/")
