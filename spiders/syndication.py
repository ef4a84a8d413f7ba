"""Reading RSS 2.0 and Atom documents into plain entries, safely.

A feed is hostile XML: the parser resolves no entities, loads no DTD, touches no network
and refuses huge trees, so a billion-laughs or external-entity feed is simply not a feed.
Only well-formed RSS (root ``<rss>``) or Atom (root ``<feed>`` in the Atom namespace)
documents are read; anything else raises ``NotAFeed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree

from spiders.dates import iso_datetime
from spiders.extract import fragment_text, tidy, visible_text

ATOM = "http://www.w3.org/2005/Atom"
NAMESPACES = {
    "atom": ATOM,
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
HTML_TYPES = frozenset({"html", "text/html"})
XHTML_TYPES = frozenset({"xhtml", "application/xhtml+xml"})


class NotAFeed(ValueError):
    """The document is not RSS 2.0 or Atom (HTML, garbage, another XML format)."""


@dataclass(frozen=True)
class FeedEntry:
    """One item of an RSS channel or one entry of an Atom feed, as text."""

    guid: str | None
    link: str | None
    title: str | None
    text: str
    author: str | None
    posted_at: str | None


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                           load_dtd=False, dtd_validation=False, remove_pis=True)


def read_feed(body: bytes, base_url: str) -> list[FeedEntry]:
    """The entries of an RSS 2.0 or Atom document; relative links resolve against
    ``base_url``. A valid feed with no entries gives an empty list."""
    try:
        root = etree.fromstring(body.lstrip(), parser=_hardened_parser())
    except etree.XMLSyntaxError as error:
        raise NotAFeed(f"not well-formed XML: {error}") from error
    if root is None:
        raise NotAFeed("empty document")
    if root.tag == "rss":
        return [_rss_entry(item, base_url) for item in root.iterfind("channel/item")]
    if root.tag == f"{{{ATOM}}}feed":
        return [_atom_entry(entry, base_url) for entry in root.iterfind("atom:entry", NAMESPACES)]
    raise NotAFeed(f"root element is <{etree.QName(root).localname}>")


def _rss_entry(item: etree._Element, base_url: str) -> FeedEntry:
    link = _child_text(item, "link")
    body = _child_text(item, "content:encoded") or _child_text(item, "description")
    return FeedEntry(
        guid=_child_text(item, "guid"),
        link=urljoin(base_url, link) if link else None,
        title=_child_text(item, "title"),
        text=fragment_text(body or ""),
        author=_child_text(item, "dc:creator") or _child_text(item, "author"),
        posted_at=iso_datetime(_child_text(item, "pubDate") or _child_text(item, "dc:date")),
    )


def _atom_entry(entry: etree._Element, base_url: str) -> FeedEntry:
    content = entry.find("atom:content", NAMESPACES)
    summary = entry.find("atom:summary", NAMESPACES)
    body = content if content is not None and content.get("src") is None else summary
    title = entry.find("atom:title", NAMESPACES)
    link = _atom_link(entry)
    return FeedEntry(
        guid=_child_text(entry, "atom:id"),
        link=urljoin(base_url, link) if link else None,
        title=(_atom_text(title) or None) if title is not None else None,
        text=_atom_text(body) if body is not None else "",
        author=_child_text(entry, "atom:author/atom:name"),
        posted_at=iso_datetime(_child_text(entry, "atom:published")
                               or _child_text(entry, "atom:updated")),
    )


def _atom_link(entry: etree._Element) -> str | None:
    """The entry's own page: ``rel="alternate"``, which is also what a missing rel means."""
    for link in entry.iterfind("atom:link", NAMESPACES):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href").strip()
    return None


def _atom_text(element: etree._Element) -> str:
    """An Atom text construct: plain text, escaped HTML, or inline XHTML."""
    kind = element.get("type", "text")
    if kind in HTML_TYPES:
        return fragment_text(element.text or "")
    if kind in XHTML_TYPES:
        return visible_text(element)
    return tidy("".join(element.itertext()))


def _child_text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, NAMESPACES)
    if found is None:
        return None
    text = tidy("".join(found.itertext()))
    return text or None
