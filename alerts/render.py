"""Render a Digest as plain text, Markdown or HTML with the Jinja2 templates beside this module.

Everything an entry carries was scraped from hostile pages, so every value a template prints
goes through the environment's ``finalize`` hook, not through filters a template author could
forget: control and bidi characters are dropped and whitespace collapsed in every format
(terminal escape sequences, spoofed text direction, injected line breaks), Markdown-significant
characters are backslash-escaped in Markdown, and HTML is autoescaped. Links are only made for
http(s) URLs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Literal
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from alerts.digest import Digest, DigestEntry
from models import CATEGORIES

CATEGORY_LABELS: dict[str, str] = {
    "medical": "Medical records / 医疗数据",
    "doxxing": "Doxxing lookups / 开盒查档",
    "biometric": "Face data & verification bypass / 人脸数据",
}

# How extracted entities are shown: contacts say which network they belong to.
ENTITY_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Contacts", ("qq", "wechat", "telegram", "phone", "email")),
    ("Prices", ("price",)),
    ("Turnaround", ("turnaround",)),
    ("Services", ("service",)),
)
_CONTACT_KINDS = ENTITY_GROUPS[0][1]
_KNOWN_KINDS = frozenset(kind for _, kinds in ENTITY_GROUPS for kind in kinds)
_CONTACT_NAMES = {"qq": "QQ", "wechat": "WeChat", "telegram": "Telegram", "phone": "phone",
                  "email": "e-mail"}

# Caps on what one hostile post can put into a message.
TITLE_LIMIT = 200
EXCERPT_LIMIT = 300
FIELD_LIMIT = 500

_LINK_SCHEMES = ("http", "https")
# Characters kept as they are in a link target; everything else (spaces, quotes, <, >, non-ASCII)
# is percent-encoded, so the target can neither end a Markdown autolink nor an HTML attribute.
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~])")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


def headline(digest: Digest) -> str:
    """'7 new offers', '1 new offer' or 'No new offers': the subject line and the title."""
    if digest.count == 0:
        return "No new offers"
    return f"{digest.count} new offer{'' if digest.count == 1 else 's'}"


def render_text(digest: Digest) -> str:
    """Plain text: the e-mail's text part, the terminal, the webhook's ``text`` field."""
    return _render(environment("text"), "digest.txt.j2", digest)


def render_markdown(digest: Digest) -> str:
    """CommonMark with every scraped value escaped, for chat webhooks and files."""
    return _render(environment("markdown"), "digest.md.j2", digest)


def render_html(digest: Digest) -> str:
    """A self-contained HTML document with inline CSS, for e-mail clients and browsers."""
    return _render(environment("html"), "digest.html.j2", digest)


def link_target(url: str | None) -> str | None:
    """The URL made safe to put in a link, or None when it must not be a link (not http/https)."""
    if not url:
        return None
    url = clean(url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in _LINK_SCHEMES or not parts.netloc:
        return None
    return quote(url[:FIELD_LIMIT], safe=_URL_SAFE)


def clean(value: object) -> str:
    """One line of displayable text: whitespace collapsed, control and format characters gone."""
    text = " ".join(str(value).split())
    return "".join(char for char in text if unicodedata.category(char) not in ("Cc", "Cf"))


def clip(text: str | None, limit: int = FIELD_LIMIT) -> str:
    """At most ``limit`` characters of the cleaned text, with an ellipsis when cut."""
    text = clean(text or "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape_markdown(text: str) -> str:
    """Backslash-escape what Markdown would read as markup: emphasis, links, HTML, headings."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_ENTITY.sub(r"\\&", text)
    return _MD_LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    token = match.group(1)
    return token if token.isdigit() else "\\" + token


class MarkdownText(str):
    """Markdown built by this module from checked parts; the Markdown finalize lets it through."""


def _markdown_link(url: str | None) -> str:
    """An autolink for an http(s) URL; any other URL stays text, escaped by the finalize hook."""
    target = link_target(url)
    return clip(url) if target is None else MarkdownText(f"<{target}>")


def percent(score: float) -> str:
    return f"{score * 100:.0f}%"


def when(moment: datetime | None) -> str:
    """Minutes are enough for an analyst; the offset stays so times from sites are unambiguous."""
    if moment is None:
        return "unknown"
    return moment.isoformat(sep=" ", timespec="minutes")


def entity_groups(entry: DigestEntry) -> list[tuple[str, list[str]]]:
    """The entry's entities as (heading, values) in ENTITY_GROUPS order; unknown kinds last."""
    groups: list[tuple[str, list[str]]] = []
    for heading, kinds in (*ENTITY_GROUPS, ("Other", ())):
        values = [
            _entity_text(kind, value)
            for kind, value in entry.entities
            if kind in kinds or (not kinds and kind not in _KNOWN_KINDS)
        ]
        if values:
            groups.append((heading, values))
    return groups


def _entity_text(kind: str, value: str) -> str:
    if kind in _CONTACT_KINDS:
        return f"{_CONTACT_NAMES[kind]} {value}"
    if kind in _KNOWN_KINDS:
        return value
    return f"{kind} {value}"


def _render(jinja: Environment, template: str, digest: Digest) -> str:
    groups = [
        (category, CATEGORY_LABELS.get(category, category), entries)
        for category, entries in digest.by_category().items()
    ]
    return jinja.get_template(template).render(
        digest=digest, groups=groups, headline=headline(digest), categories=CATEGORIES
    )


def _environment(*, finalize: Callable[[object], object], autoescape: object) -> Environment:
    jinja = Environment(
        loader=PackageLoader("alerts", "templates"),
        autoescape=autoescape,  # type: ignore[arg-type]
        finalize=finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    jinja.filters.update(
        percent=percent, when=when, clip=clip, link_target=link_target, md_link=_markdown_link
    )
    jinja.globals.update(
        entity_groups=entity_groups, TITLE_LIMIT=TITLE_LIMIT, EXCERPT_LIMIT=EXCERPT_LIMIT
    )
    return jinja


def _finalize_text(value: object) -> str:
    return "" if value is None else clean(value)


def _finalize_markdown(value: object) -> str:
    if isinstance(value, MarkdownText):
        return value
    return "" if value is None else escape_markdown(clean(value))


def _finalize_html(value: object) -> object:
    if isinstance(value, Markup):
        return value
    return "" if value is None else clean(value)


@cache
def environment(output: Literal["text", "markdown", "html"]) -> Environment:
    """The Jinja2 environment for one output format, with that format's escaping built in.

    Public so that a channel with templates of its own (a chat card, say) renders scraped text
    with the same protection as the built-in digests.
    """
    if output == "text":
        return _environment(finalize=_finalize_text, autoescape=False)
    if output == "markdown":
        return _environment(finalize=_finalize_markdown, autoescape=False)
    if output == "html":
        # Autoescape every template this environment loads, .html.j2 or not: it renders HTML.
        autoescape = select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True, default=True
        )
        return _environment(finalize=_finalize_html, autoescape=autoescape)
    raise ValueError(f"unknown output format {output!r}; expected text, markdown or html")
