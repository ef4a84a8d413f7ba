"""Parsing helpers the spiders share: configured selectors and the visible text of HTML.

A selector from the configuration is CSS (``h1::text``, ``a::attr(href)``) or XPath when it
starts with ``/`` or ``(`` (or ``./``, relative to a post block). Whatever it selects becomes
text the same way everywhere: a string (``::text``, an attribute) is taken as it is, an
element becomes the text a reader would see — no scripts or styles, one line per block,
whitespace collapsed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from lxml import etree
from parsel import Selector, SelectorList

INVISIBLE_TAGS = frozenset({
    "script", "style", "noscript", "template", "head", "iframe", "object", "svg", "canvas",
})
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
MAIN_CONTENT_XPATHS = (
    "//article[not(ancestor::article)]",
    "//main[not(ancestor::main)]",
    "//body",
)
"""Where a page's own text usually lives, most specific first (for pages without selectors)."""


class Selectable(Protocol):
    """A response or a selector: anything a configured selector can be applied to."""

    def css(self, query: str) -> SelectorList: ...

    def xpath(self, query: str) -> SelectorList: ...


def is_xpath(expression: str) -> bool:
    """XPath starts with ``/`` or ``(``, or ``./`` for a path relative to a post block
    (no CSS selector can start with ``./``); anything else is CSS."""
    return expression.lstrip().startswith(("/", "(", "./"))


def select(scope: Selectable, expression: str, *, relative: bool = False) -> SelectorList:
    """Apply a configured selector to a page or, with ``relative``, to a block of one.

    Inside a block an XPath like ``//h2`` would search the whole document again, which is
    never what a configuration that names fields of a post block means, so a leading ``/``
    is anchored at the block (``.//h2``).
    """
    expression = expression.strip()
    if not is_xpath(expression):
        return scope.css(expression)
    opening = len(expression) - len(expression.lstrip("("))
    if relative and expression[opening:].startswith("/"):
        expression = expression[:opening] + "." + expression[opening:]
    return scope.xpath(expression)


def texts(selection: SelectorList) -> list[str]:
    """The non-empty text of each selected node, tidied."""
    found = (_node_text(selector) for selector in selection)
    return [text for text in found if text]


def hrefs(selection: SelectorList) -> list[str]:
    """Link targets in a selection: an attribute value as it is, or an element's href, so
    ``a.thread`` works as well as ``a.thread::attr(href)``."""
    found = (
        selector.root.get("href") if isinstance(selector.root, etree._Element)
        else str(selector.root)
        for selector in selection
    )
    return [href.strip() for href in found if href and href.strip()]


def joined_text(scope: Selectable, expression: str, *, separator: str,
                relative: bool = False) -> str:
    """All the text a selector finds, joined: for fields that may span several nodes."""
    return separator.join(texts(select(scope, expression, relative=relative)))


def first_text(scope: Selectable, expression: str, *, relative: bool = False) -> str | None:
    """The first non-empty text a selector finds: for single values (an id, a date)."""
    found = texts(select(scope, expression, relative=relative))
    return found[0] if found else None


def page_text(page: Selectable) -> str:
    """The visible text of a whole page, for pages the configuration has no selector for."""
    for expression in MAIN_CONTENT_XPATHS:
        found = texts(page.xpath(expression))
        if found:
            return "\n".join(found)
    return ""


def fragment_text(markup: str) -> str:
    """The visible text of an HTML fragment, such as a feed entry's description."""
    return visible_text(Selector(text=markup).root) if markup.strip() else ""


def visible_text(element: etree._Element) -> str:
    """The text of ``element`` as a reader sees it: one line per block, spaces collapsed."""
    return tidy("".join(_text_pieces(element)))


def tidy(text: str) -> str:
    """Collapse runs of whitespace within lines and drop the empty lines."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _node_text(selector: Selector) -> str:
    root = selector.root
    if isinstance(root, etree._Element):
        return visible_text(root)
    return tidy(str(root))


def _local_name(element: etree._Element) -> str | None:
    """The lower-case tag name without namespace; None for comments and processing
    instructions, whose ``tag`` is not a string."""
    if not isinstance(element.tag, str):
        return None
    return etree.QName(element).localname.lower()


def _text_pieces(root: etree._Element) -> Iterator[str]:
    """Walk the tree with an explicit stack (hostile pages can nest deeper than Python's
    recursion limit) and yield text in document order, with a newline around each block.
    A child's tail follows the child even when the child itself is invisible or a comment;
    the root's own tail lies outside the selection and is left out."""
    stack: list[etree._Element | str] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
            continue
        name = _local_name(node)
        if name is None or name in INVISIBLE_TAGS:
            continue
        boundary = "\n" if name in BLOCK_TAGS else ""
        yield boundary
        if node.text:
            yield node.text
        stack.append(boundary)
        for child in reversed(node):
            if child.tail:
                stack.append(child.tail)
            stack.append(child)
