"""Render a Digest as plain text, Markdown or HTML with the Jinja2 templates beside this module,
or as JSON (``Digest.to_dict``, versioned and described by ``alerts/schema/digest.schema.json``).

Every format says the same, in the same order, so that an analyst can act in two minutes: the
period; the broken sources; the channels that gave up on an earlier digest ("Not delivered");
the flagged posts per category with the change since the
previous digest, how many distinct ads they are and how many of those an earlier digest had;
the most severe ads (category, then score), each once with where and how often it appeared,
marked new or known; how many ads are not shown and the command that lists them; and the
sellers, each a group of linked handles with posts, sources, first and last seen. An empty
period is one line.

Everything an entry carries was scraped from hostile pages, so every value a template prints
goes through the environment's ``finalize`` hook, not through filters a template author could
forget: control and bidi characters are dropped and whitespace collapsed in every format
(terminal escape sequences, spoofed text direction, injected line breaks), Markdown-significant
characters are backslash-escaped in Markdown, and HTML is autoescaped. Links are only made for
http(s) URLs.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Literal
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from alerts.digest import Digest, DigestEntry, Handle, Seller, Undelivered
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
# Sellers in a message (the JSON has every one the digest holds), and handles per seller.
SELLER_LIMIT = 20
HANDLE_LIMIT = 10
# Given-up deliveries listed by name (the rest counted), and characters of each one's error.
UNDELIVERED_LIMIT = 10
ERROR_LIMIT = 200
RETRY_GIVEN_UP = "doxwatch digest --retry-given-up"

_LINK_SCHEMES = ("http", "https")
# Characters kept as they are in a link target; everything else (spaces, quotes, <, >, non-ASCII)
# is percent-encoded, so the target can neither end a Markdown autolink nor an HTML attribute.
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~])")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


def headline(digest: Digest) -> str:
    """'7 new offers', '1 new offer', '12 new offers (9 distinct)' or 'No new offers': the
    subject line and the title. Counts every flagged post of the period, shown or not."""
    total = digest.total_posts
    if total == 0:
        return "No new offers"
    text = f"{total} new offer{'' if total == 1 else 's'}"
    if digest.cluster_count is not None and digest.cluster_count < total:
        text += f" ({digest.cluster_count} distinct)"
    return text


def kind_name(digest: Digest) -> str:
    """What a message is called: an immediate alert must not read as the day's digest."""
    return "doxwatch immediate alert" if digest.immediate else "doxwatch digest"


def render_text(digest: Digest) -> str:
    """Plain text: the e-mail's text part, the terminal, the webhook's ``text`` field."""
    return _render(environment("text"), "digest.txt.j2", digest)


def render_markdown(digest: Digest) -> str:
    """CommonMark with every scraped value escaped, for chat webhooks and files."""
    return _render(environment("markdown"), "digest.md.j2", digest)


def render_html(digest: Digest) -> str:
    """A self-contained HTML document with inline CSS, for e-mail clients and browsers."""
    return _render(environment("html"), "digest.html.j2", digest)


def render_json(digest: Digest) -> str:
    """The digest as JSON for SIEM/SOAR tools: ``Digest.to_dict``, ``SCHEMA_VERSION``."""
    return json.dumps(digest.to_dict(), ensure_ascii=False, indent=2) + "\n"


def period(digest: Digest) -> str:
    """'2026-11-22 09:00+08:00 → 2026-11-23 09:00+08:00', or 'until …' for the first digest."""
    if digest.since is None:
        return f"until {when(digest.created_at)} (the first digest)"
    return f"{when(digest.since)} → {when(digest.created_at)}"


def change(value: int | None) -> str:
    """'+3', '−2' or '±0' (a change since the previous digest); '' when there was none."""
    if value is None:
        return ""
    if value == 0:
        return "±0"
    return f"+{value}" if value > 0 else f"−{-value}"


def totals(digest: Digest) -> list[tuple[str, int, str]]:
    """(category label, posts in the period, change since the previous digest), every category."""
    changes = digest.change or {}
    assert digest.totals is not None
    return [(CATEGORY_LABELS.get(category, category), digest.totals.get(category, 0),
             change(changes.get(category)))
            for category in CATEGORIES]


def summary(digest: Digest) -> str:
    """'12 posts are 9 distinct ads; 2 were in an earlier digest.'"""
    posts, ads = digest.total_posts, digest.cluster_count or 0
    text = f"{posts} post{'' if posts == 1 else 's'}"
    text += f" {'is' if posts == 1 else 'are'} {ads} distinct ad{'' if ads == 1 else 's'}"
    known = digest.known_clusters or 0
    if known:
        text += f"; {known} {'was' if known == 1 else 'were'} in an earlier digest"
    return text + "."


def sightings(entry: DigestEntry) -> str | None:
    """'3 posts in this period: forum 2, tg 1' when the ad appeared more than once."""
    cluster = entry.cluster
    if cluster is None or cluster.posts <= 1:
        return None
    places = ", ".join(f"{source} {posts}" for source, posts in cluster.sources)
    return f"{cluster.posts} posts in this period: {places}"


def novelty(entry: DigestEntry) -> str | None:
    """'NEW', or 'KNOWN: seen before, first on 2026-11-01 (4 earlier posts)'; None for an
    entry that does not say (a digest stored before reposts were tracked)."""
    cluster = entry.cluster
    if cluster is None:
        return None
    if not cluster.known:
        return "NEW"
    first = cluster.first_seen_at.date().isoformat() if cluster.first_seen_at else "unknown"
    earlier = cluster.earlier_posts
    return (f"KNOWN: seen before, first on {first} "
            f"({earlier} earlier post{'' if earlier == 1 else 's'})")


def undelivered_text(item: Undelivered) -> str:
    """'digest 3 of 2026-12-01 09:00+08:00 → hook: gave up after 8 attempts; last error: …'"""
    plural = "" if item.attempts == 1 else "s"
    return (f"digest {item.digest_id} of {when(item.digest_created_at)} → {clip(item.channel, 80)}"
            f": gave up after {item.attempts} attempt{plural}; last error: "
            f"{clip(item.error, ERROR_LIMIT)}")


def undelivered_lines(digest: Digest) -> list[str]:
    """The "Not delivered" section's lines, the first UNDELIVERED_LIMIT by name and a count of
    the rest; empty when no channel gave up. Every format and chat dialect shows these."""
    lines = [undelivered_text(item) for item in digest.undelivered[:UNDELIVERED_LIMIT]]
    more = len(digest.undelivered) - UNDELIVERED_LIMIT
    if more > 0:
        lines.append(f"and {more} more: doxwatch status lists them")
    return lines


def handle_text(handle: Handle) -> str:
    """'QQ 10001', 'WeChat face_pass', 'Telegram @med_rec'."""
    return _entity_text(handle.kind, handle.value)


def seller_name(seller: Seller) -> str:
    """The seller's handles joined with ' + ', the first HANDLE_LIMIT of them."""
    names = [handle_text(handle) for handle in seller.handles[:HANDLE_LIMIT]]
    more = len(seller.handles) - HANDLE_LIMIT
    return " + ".join(names) + (f" + {more} more" if more > 0 else "")


def seen_span(first: datetime | None, last: datetime | None) -> str:
    return f"first seen {when(first)}, last {when(last)}"


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


def _markdown_code(text: str | None) -> str:
    """Our own text (a command) as a Markdown code span; backticks cannot end it early."""
    return MarkdownText("`" + clean(text or "").replace("`", "'") + "`")


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
    assert digest.totals is not None
    # (category, label, entries shown, posts of the period in that category)
    groups = [
        (category, CATEGORY_LABELS.get(category, category), entries,
         max(digest.totals.get(category, 0), sum(entry.posts for entry in entries)))
        for category, entries in digest.by_category().items()
    ]
    return jinja.get_template(template).render(
        digest=digest, groups=groups, headline=headline(digest), name=kind_name(digest),
        categories=CATEGORIES,
        empty=digest.total_posts == 0 and not digest.entries, period=period(digest),
        undelivered=undelivered_lines(digest), retry_given_up=RETRY_GIVEN_UP,
        totals=totals(digest), summary=summary(digest),
        sellers=digest.sellers[:SELLER_LIMIT],
        more_sellers=max((digest.seller_count or 0) - min(len(digest.sellers), SELLER_LIMIT), 0),
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
        percent=percent, when=when, clip=clip, link_target=link_target, md_link=_markdown_link,
        md_code=_markdown_code,
    )
    jinja.globals.update(
        entity_groups=entity_groups, TITLE_LIMIT=TITLE_LIMIT, EXCERPT_LIMIT=EXCERPT_LIMIT,
        sightings=sightings, novelty=novelty, handle_text=handle_text, seller_name=seller_name,
        seen_span=seen_span, HANDLE_LIMIT=HANDLE_LIMIT,
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
