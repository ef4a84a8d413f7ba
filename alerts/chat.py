"""What the chat channels (DingTalk, WeCom, Feishu, Slack) share: the digest cut down to chat
size, hostile text made inert, messages split under each service's limit, and the HTTP side.

- ``summarize`` keeps the headline, the period, the totals per category, the broken sources
  and the channels that gave up on an earlier digest ("Not delivered") of a digest, and at
  most ``max_entries`` entries (the strongest first, grouped by category); the last message
  says how many more there are and where to see them. A chat robot allows about 20 messages
  a minute, so a digest of 10,000 posts cannot go out whole.
- Scraped text (titles, excerpts, handles, source names) is cleaned as ``alerts.render`` cleans
  it (control, format and bidi characters dropped, whitespace collapsed), clipped, and
  *defanged*: ``http://`` becomes ``hxxp://``, the usual way to quote a link one must not follow,
  so an excerpt cannot turn into a clickable link. Each dialect then neutralises its own markup
  (see ``FULLWIDTH`` and the channel modules). The only links in a message are the entries' own,
  checked http(s) URLs. Nothing is masked beyond what ``monitor`` masked already.
- ``pack`` splits a message into numbered parts, "(1/3)", none above the service's limit,
  measured in the unit the service counts (UTF-8 bytes, JSON bytes, characters).
- ``ChatChannel`` posts the parts one by one with a minimum interval between them (the
  services' rate limits), retries a few times on connection errors, 5xx and rate-limit replies
  (honouring ``Retry-After``), reads the services' error replies (most answer HTTP 200 with an
  error code), and never shows a webhook URL's token: it is masked in every message and in
  httpx's own log lines.
"""

from __future__ import annotations

import json
import logging
import re
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from alerts.channels.base import Channel, read_secret
from alerts.channels.options import Option, env_name, http_url, seconds
from alerts.digest import Digest, DigestEntry
from alerts.errors import AlertsError, DeliveryError, NotConfigured
from alerts.render import (
    CATEGORY_LABELS,
    RETRY_GIVEN_UP,
    clean,
    entity_groups,
    headline,
    kind_name,
    link_target,
    undelivered_lines,
    when,
)
from models import CATEGORIES

log = logging.getLogger(__name__)

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# Hostile text
# ---------------------------------------------------------------------------------------------

FULLWIDTH: dict[str, str] = {char: chr(ord(char) + 0xFEE0) for char in "!#&*<>[\\]`|~"}
"""ASCII markup characters and their fullwidth forms (U+FF01…): what DingTalk's and WeCom's
Markdown subsets would read as markup, for dialects without a reliable escape (neither Chinese
robot documents one). The text stays readable: ``［点我］(…)`` is no link, ``＜@all＞`` no
mention, ``＜font＞`` no tag. ``_`` is left alone: neither subset has ``_emphasis_``, and
handles and e-mail addresses (``med_rec``) must stay copyable."""

_SCHEME = re.compile(r"(?i)\b(h)tt(ps?)(?=:/)")

# Percent-encoded in link targets: they would end a Markdown link, ``[text](url)``, early.
_LINK_BREAKERS = {"(": "%28", ")": "%29", "[": "%5B", "]": "%5D"}


def defang(text: str) -> str:
    """``http://`` → ``hxxp://``: a link quoted in a post stays text in every chat client."""
    return _SCHEME.sub(r"\1xx\2", text)


def scraped(value: object, limit: int) -> str:
    """Scraped text, safe as plain text in any chat: one clean line, clipped, defanged."""
    text = clean(value or "")
    if len(text) > limit:
        text = text[: max(limit - 1, 1)].rstrip() + "…"
    return defang(text)


def neutralize(text: str, table: Mapping[str, str] = FULLWIDTH) -> str:
    return text.translate(str.maketrans(dict(table)))


def safe_link(url: str | None, max_length: int) -> str | None:
    """An http(s) URL fit for any dialect's link syntax, or None when it must not be a link
    (another scheme) or is too long to spend a chat message's bytes on."""
    target = link_target(url)
    if target is None:
        return None
    for char, encoded in _LINK_BREAKERS.items():
        target = target.replace(char, encoded)
    return target if len(target) <= max_length else None


# ---------------------------------------------------------------------------------------------
# The digest at chat size
# ---------------------------------------------------------------------------------------------

BROKEN_SHOWN = 10  # broken sources listed by name; the rest are counted


@dataclass(frozen=True)
class Caps:
    """Characters kept of each scraped field of one entry (links: characters of the target)."""

    title: int = 120
    excerpt: int = 200
    field: int = 160
    link: int = 1000

    def halved(self) -> Caps:
        return Caps(max(self.title // 2, 8), max(self.excerpt // 2, 8), max(self.field // 2, 8),
                    max(self.link // 2, 64))


@dataclass(frozen=True)
class EntryView:
    """One entry as a chat message shows it, plain text not yet escaped for any dialect."""

    number: int
    post_id: int
    heading: str                 # the title, else the start of the excerpt
    excerpt: str | None          # None when it is the heading already
    source: str
    posted: str
    link: str | None             # checked and encoded for link syntax; None: no link
    scores: str                  # "doxxing 93% · medical 4% · biometric 2%"
    details: tuple[tuple[str, str], ...] = ()  # ("Terms", "查档, 户籍"), ("Contacts", "QQ 10001")

    @property
    def link_note(self) -> str:
        """What stands where the link would, when there is none (our text, no markup)."""
        return f"no http(s) link, see doxwatch posts show {self.post_id}"

    @classmethod
    def of(cls, entry: DigestEntry, number: int, caps: Caps) -> EntryView:
        title = scraped(entry.title, caps.title) if entry.title and clean(entry.title) else None
        excerpt = scraped(entry.excerpt, caps.excerpt) or None
        details: list[tuple[str, str]] = []
        if entry.terms:
            details.append(("Terms", scraped(", ".join(entry.terms), caps.field)))
        for group, values in entity_groups(entry):
            details.append((group, scraped(", ".join(values), caps.field)))
        return cls(
            number=number,
            post_id=entry.post_id,
            heading=title or excerpt or "Untitled",
            excerpt=excerpt if title else None,
            source=scraped(entry.source, 60),
            posted=when(entry.posted_at),
            link=safe_link(entry.url, caps.link),
            scores=scores_line(entry),
            details=tuple(details),
        )

    @classmethod
    def minimal(cls, entry: DigestEntry, number: int) -> EntryView:
        """What is left when even halved fields will not fit: enough to look the post up."""
        return cls(number, entry.post_id, f"post #{entry.post_id}: too long to show here",
                   None, scraped(entry.source, 20), when(entry.posted_at), None,
                   scores_line(entry))


def scores_line(entry: DigestEntry) -> str:
    ranked = sorted(CATEGORIES, key=lambda name: -entry.scores.get(name, 0.0))
    return " · ".join(f"{name} {entry.scores.get(name, 0.0) * 100:.0f}%" for name in ranked)


@dataclass(frozen=True)
class Group:
    category: str
    label: str
    total: int                        # entries of this category in the digest
    entries: tuple[DigestEntry, ...]  # those shown, strongest first


@dataclass(frozen=True)
class Summary:
    """A digest cut to what chat messages carry. Plain text; each dialect escapes it."""

    key: str
    title: str                               # "doxwatch digest 42: 7 new offers"
    period: str
    totals: tuple[tuple[str, int], ...]      # (category label, entries), every category
    broken: tuple[tuple[str, str], ...]      # (source, why), scraped-safe, at most BROKEN_SHOWN
    broken_more: int
    groups: tuple[Group, ...]
    count: int                               # entries in the digest
    beyond: int = 0                          # offers of the period the digest itself left out
    rest_command: str | None = None          # the digest's own pointer to the rest, if any
    undelivered: tuple[str, ...] = ()        # "Not delivered" lines, scraped-safe
    retry_given_up: str = RETRY_GIVEN_UP     # the command that revives them

    @property
    def shown(self) -> int:
        return sum(len(group.entries) for group in self.groups)

    @property
    def offers(self) -> int:
        return self.count + self.beyond

    @property
    def hidden(self) -> int:
        return self.offers - self.shown

    @property
    def rest(self) -> str:
        """Where the analyst sees every entry: the digest's own command when it has one, else
        the CLI's list of flagged posts, newest first."""
        return self.rest_command or f"doxwatch posts list --flagged -n {self.offers}"

    def quiet_line(self) -> str | None:
        """For an empty digest: it still goes out, so a quiet day is not mistaken for an
        outage (and broken sources are still listed)."""
        return None if self.count else f"No new offers {self.period}."


def summarize(digest: Digest, max_entries: int) -> Summary:
    """The digest's headline, totals and its ``max_entries`` strongest entries by category."""
    def strength(entry: DigestEntry) -> float:
        return entry.scores.get(entry.category, 0.0)

    ranked = sorted(range(digest.count), key=lambda i: (-strength(digest.entries[i]), i))
    kept = set(ranked[:max_entries])
    by_category = digest.by_category()
    groups = []
    for category in by_category:
        positions = [i for i in ranked if i in kept and digest.entries[i].category == category]
        if positions:
            groups.append(Group(category, CATEGORY_LABELS.get(category, category),
                                len(by_category[category]),
                                tuple(digest.entries[i] for i in positions)))
    if digest.since is not None:
        period = f"from {when(digest.since)} to {when(digest.created_at)}"
    else:
        period = f"until {when(digest.created_at)}"
    # Newer digests count every flagged post of the period (``totals``), say how many offers
    # they left out (``hidden``) and where to see them (``rest_command``); older ones do not.
    period_totals = getattr(digest, "totals", None)
    if isinstance(period_totals, Mapping):
        counts = {c: _count(period_totals.get(c)) for c in CATEGORIES}
    else:
        counts = {c: len(by_category.get(c, ())) for c in CATEGORIES}
    rest_command = getattr(digest, "rest_command", None)
    broken = tuple((scraped(source, 80), scraped(reason, 200))
                   for source, reason in digest.broken_sources[:BROKEN_SHOWN])
    return Summary(
        key=digest.key,
        # the id, not the key: the key's random part means nothing to a reader
        title=f"{kind_name(digest)} {digest.key if digest.id is None else digest.id}: "
              f"{headline(digest)}",
        period=period,
        totals=tuple((CATEGORY_LABELS.get(c, c), counts[c]) for c in CATEGORIES),
        broken=broken,
        broken_more=max(len(digest.broken_sources) - BROKEN_SHOWN, 0),
        groups=tuple(groups),
        count=digest.count,
        beyond=_count(getattr(digest, "hidden", 0)),
        rest_command=scraped(rest_command, 200) if isinstance(rest_command, str) else None,
        # a channel name and an error are not scraped, but an error may quote a reply
        undelivered=tuple(scraped(line, 400) for line in undelivered_lines(digest)),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def part_label(index: int, total: int) -> str:
    return f" ({index}/{total})" if total > 1 else ""


# ---------------------------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit(Generic[T]):
    """A piece of a message that is never split: an entry, a heading, a line of the intro.

    ``size`` is in the unit the service counts, as the piece appears in the request.
    """

    body: T
    size: int
    group: str | None = None   # the category an entry or heading belongs to
    heading: bool = False
    post_id: int | None = None


def pack(units: Sequence[Unit[T]], *, budget: int, separator: int = 0,
         max_units: int | None = None,
         continued: Callable[[str], Unit[T]] | None = None) -> list[list[Unit[T]]]:
    """Split ``units`` into parts whose sizes, each unit plus ``separator``, stay within
    ``budget`` (and at most ``max_units`` units). A heading never ends a part, and a part that
    starts in the middle of a category begins with ``continued(category)``.

    Raises ValueError when a unit cannot fit even in an empty part: the caller shrinks first.
    """
    parts: list[list[Unit[T]]] = []
    current: list[Unit[T]] = []
    used = 0

    def full(extra: Unit[T]) -> bool:
        too_many = max_units is not None and len(current) + 1 > max_units
        return used + extra.size + separator > budget or too_many

    for unit in units:
        if current and full(unit):
            carried = [current.pop()] if current[-1].heading and len(current) > 1 else []
            parts.append(current)
            current = carried
            used = sum(u.size + separator for u in current)
        if not current and continued and unit.group is not None and not unit.heading:
            head = continued(unit.group)
            current.append(head)
            used += head.size + separator
        if full(unit):
            raise ValueError(f"a piece of {unit.size} does not fit in a message "
                             f"({budget} left after the part header)")
        current.append(unit)
        used += unit.size + separator
    if current:
        parts.append(current)
    return parts


def json_size(value: object) -> int:
    """UTF-8 bytes of ``value`` as it appears inside the request body (strings unquoted)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str):
        text = text[1:-1]
    return len(text.encode("utf-8"))


def encode(payload: object) -> bytes:
    """The request body: compact JSON, UTF-8. Sizes are measured on exactly these bytes."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Secrets in URLs
# ---------------------------------------------------------------------------------------------

MASK = "***"


def _secretish(segment: str) -> bool:
    """A path segment that is a token rather than a word: Feishu's hook id, Slack's T…/B…/…"""
    return (len(segment) >= 8 and any(c.isdigit() for c in segment)) or len(segment) >= 20


def mask_url(url: str) -> str:
    """The URL with every query value and every token-like path segment masked: DingTalk and
    WeCom put the token in the query, Feishu and Slack in the path."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    path = "/".join(MASK if _secretish(s) else s for s in parts.path.split("/"))
    query = "&".join(f"{key}={MASK}" for key, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def url_secrets(url: str) -> set[str]:
    """The pieces of ``url`` that must never be shown."""
    parts = urlsplit(url)
    found = {url}
    found.update(s for s in parts.path.split("/") if _secretish(s))
    found.update(value for _, value in parse_qsl(parts.query) if len(value) >= 6)
    if parts.password:
        found.add(parts.password)
    return found


def scrub(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class _SecretFilter(logging.Filter):
    """Masks registered webhook tokens in httpx's own log lines ("HTTP Request: POST <url>"),
    which ``doxwatch run`` shows at INFO."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            masked = scrub(message, self.secrets)
            if masked != message:
                record.msg, record.args = masked, None
        return True


_HTTPX_FILTER = _SecretFilter()
logging.getLogger("httpx").addFilter(_HTTPX_FILTER)


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------


def non_negative_seconds(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return "must be a number of seconds, 0 or more"
    return None


def count(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "must be a whole number, 0 or more"
    return None


def positive_count(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be a whole number, 1 or more"
    return None


def webhook_url(value: object) -> str | None:
    """``http_url`` without echoing the value: a webhook URL holds the robot's token."""
    return "must be an http:// or https:// URL" if http_url(value) else None


def chat_options(*, min_interval: float, rate_limit_wait: float,
                 signed: bool) -> dict[str, Option]:
    """The options every chat channel takes; ``signed`` adds ``secret_env``."""
    options: dict[str, Option] = {
        "url": Option(webhook_url),
        "url_env": Option(env_name),
        "timeout": Option(seconds, default=10),
        "max_entries": Option(positive_count, default=30),
        "min_interval": Option(non_negative_seconds, default=min_interval),
        "retries": Option(count, default=3),
        "backoff": Option(non_negative_seconds, default=1.0),
        "rate_limit_wait": Option(non_negative_seconds, default=rate_limit_wait),
        "max_wait": Option(non_negative_seconds, default=120),
    }
    if signed:
        options["secret_env"] = Option(env_name)
    return options


# ---------------------------------------------------------------------------------------------
# The channel
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatMessage:
    """One part of a digest, ready to sign and post: ``payload`` is the JSON body."""

    payload: dict[str, Any]
    key: str                        # the digest's
    index: int
    total: int
    size: int                       # in the service's unit, measured on the request
    post_ids: tuple[int, ...] = ()  # the entries it shows


@dataclass(frozen=True)
class Reply:
    """What a service's answer means for the sender."""

    ok: bool = False
    problem: str = ""                # for the error message, when not ok
    rate_limited: bool = False
    retry_after: float | None = None  # the service said how long to wait
    transient: bool = False          # worth a quick retry (5xx)

    @classmethod
    def success(cls) -> Reply:
        return cls(ok=True)


_RETRYABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Nothing was sent: safe to try again. After a read timeout the message may have arrived."""


class ChatChannel(Channel[list[ChatMessage]]):
    """A chat webhook: the message dialect is the subclass's, the sending is shared."""

    LIMIT: ClassVar[int]                 # per message, in UNIT
    UNIT: ClassVar[str] = "bytes"
    UNIT_LIMIT: ClassVar[int | None] = None  # per unit (Slack's section text)
    SEPARATOR: ClassVar[int] = 0         # size added by each unit beyond its own
    MAX_UNITS: ClassVar[int | None] = None
    CAPS: ClassVar[Caps] = Caps()

    @classmethod
    def validate(cls, options: Mapping[str, Any]) -> None:
        super().validate(options)
        if "url" in options and "url_env" in options:
            raise NotConfigured("url_env", "cannot be combined with url: give one of them")
        if "url" not in options and "url_env" not in options:
            raise NotConfigured("url", f"missing: a {cls.kind} channel needs url or url_env "
                                       "(the webhook URL holds a token; url_env keeps it out "
                                       "of the file)")

    def configure(self, env: Mapping[str, str], client: httpx.Client | None) -> None:
        settings = self.options
        if settings["url_env"]:
            url = read_secret(env, settings, "url_env") or ""
            if http_url(url):
                raise NotConfigured("url_env", f"environment variable {settings['url_env']} "
                                               "does not hold an http:// or https:// URL")
            self.url_setting = f"url_env {settings['url_env']}"
        else:
            url = settings["url"]
            self.url_setting = "url"
        self.url: str = url
        self.where = mask_url(url)
        self._secrets = url_secrets(url)
        _HTTPX_FILTER.secrets.update(self._secrets)
        self.secret: str | None = None
        if "secret_env" in self.OPTIONS:
            self.secret = read_secret(env, settings, "secret_env")
            if self.secret:
                self._secrets.add(self.secret)
        self.timeout = httpx.Timeout(settings["timeout"])
        self._client = client
        self._last_post: float | None = None
        self.clock: Callable[[], float] = time.time       # signatures' timestamps
        self.sleep: Callable[[float], None] = time.sleep

    # -- what a dialect provides ------------------------------------------------------------

    @abstractmethod
    def intro(self, summary: Summary) -> list[Unit[Any]]:
        """Period, totals, broken sources, the cap: the units before the first category."""

    @abstractmethod
    def heading(self, group: Group, *, continued: bool) -> Unit[Any]:
        """The category's heading with its count; ``continued`` in a later part."""

    @abstractmethod
    def entry(self, view: EntryView, group: str) -> Unit[Any]:
        """One entry; the unit's size must be exact."""

    @abstractmethod
    def outro(self, summary: Summary) -> list[Unit[Any]]:
        """How many entries were left out and where to see them (nothing when none were)."""

    @abstractmethod
    def payload(self, summary: Summary, units: Sequence[Unit[Any]], index: int,
                total: int) -> dict[str, Any]:
        """The JSON body of part ``index`` of ``total`` (unsigned)."""

    @abstractmethod
    def measure(self, payload: dict[str, Any]) -> int:
        """The part's exact size in ``UNIT``, as the service counts it."""

    @abstractmethod
    def request(self, message: ChatMessage) -> tuple[str, bytes]:
        """URL and body to post, signed now (timestamps must be fresh at each attempt)."""

    @abstractmethod
    def interpret(self, response: httpx.Response) -> Reply:
        """The service's answer, error codes in an HTTP 200 included."""

    # -- building ---------------------------------------------------------------------------

    def prepare(self, digest: Digest) -> list[ChatMessage]:
        summary = summarize(digest, self.options["max_entries"])
        budget = self.LIMIT - self.measure(self.payload(summary, [], 9999, 9999))
        headings = {g.category: g for g in summary.groups}
        continuation = max((self.heading(g, continued=True).size for g in summary.groups),
                           default=0)
        room = budget - continuation - 2 * self.SEPARATOR
        if self.UNIT_LIMIT is not None:
            room = min(room, self.UNIT_LIMIT)
        units: list[Unit[Any]] = list(self.intro(summary))
        number = 0
        for group in summary.groups:
            units.append(self.heading(group, continued=False))
            for entry in group.entries:
                number += 1
                units.append(self._fitted(entry, number, group.category, room))
        units.extend(self.outro(summary))
        parts = pack(units, budget=budget, separator=self.SEPARATOR, max_units=self.MAX_UNITS,
                     continued=lambda category: self.heading(headings[category], continued=True))
        messages = []
        for index, part in enumerate(parts, 1):
            payload = self.payload(summary, part, index, len(parts))
            size = self.measure(payload)
            if size > self.LIMIT:  # the sizes above are exact: this is a bug, not bad luck
                raise AlertsError(f"{self.kind} message {index} is {size} {self.UNIT}, over "
                                  f"the {self.LIMIT} limit")
            ids = tuple(u.post_id for u in part if u.post_id is not None and not u.heading)
            messages.append(ChatMessage(payload, summary.key, index, len(parts), size, ids))
        return messages

    def _fitted(self, entry: DigestEntry, number: int, group: str, room: int) -> Unit[Any]:
        caps = self.CAPS
        for _ in range(6):
            unit = self.entry(EntryView.of(entry, number, caps), group)
            if unit.size <= room:
                return unit
            caps = caps.halved()
        return self.entry(EntryView.minimal(entry, number), group)

    def describe(self, message: list[ChatMessage]) -> str:
        largest = max((m.size for m in message), default=0)
        plural = "" if len(message) == 1 else "s"
        return (f"{len(message)} {self.kind} message{plural} (largest {largest} of "
                f"{self.LIMIT} {self.UNIT}) to {self.where}")

    # -- sending ----------------------------------------------------------------------------

    def deliver(self, message: list[ChatMessage]) -> None:
        with self._session() as client:
            for part in message:
                try:
                    self._post(client, part)
                except DeliveryError as error:
                    raise DeliveryError(error.message + _progress(part)) from error.__cause__
                log.debug("%s channel %r: sent message %d/%d (%d %s) to %s", self.kind,
                          self.name, part.index, part.total, part.size, self.UNIT, self.where)

    def fail(self, problem: str) -> DeliveryError:
        return DeliveryError(f"{self.kind} channel {self.name!r}: {scrub(problem, self._secrets)}")

    def _post(self, client: httpx.Client, message: ChatMessage) -> None:
        settings = self.options
        retries, waited, attempt = settings["retries"], 0.0, 0
        while True:
            attempt += 1
            self._pace()
            url, body = self.request(message)
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "doxwatch",
                "Idempotency-Key": f"doxwatch-digest-{message_key(self, message)}",
            }
            try:
                response = client.post(url, content=body, headers=headers, timeout=self.timeout)
            except _RETRYABLE as error:
                if attempt <= retries:
                    self.sleep(settings["backoff"] * 2 ** (attempt - 1))
                    continue
                raise self.fail(f"cannot reach {self.where}: {_describe(error)} "
                                f"(after {attempt} attempts)") from error
            except httpx.RequestError as error:
                raise self.fail(f"{_describe(error)} (POST {self.where})") from error
            finally:
                self._last_post = time.monotonic()
            reply = self.interpret(response)
            if reply.ok:
                return
            if reply.rate_limited:
                wait = (reply.retry_after if reply.retry_after is not None
                        else settings["rate_limit_wait"])
                if attempt > retries or waited + wait > settings["max_wait"]:
                    raise self.fail(f"{reply.problem}; still limited after {attempt} attempt"
                                    f"{'s' if attempt > 1 else ''} and {waited:g} s of waiting "
                                    f"(max_wait {settings['max_wait']:g} s, next wait "
                                    f"{wait:g} s); the digest is retried later")
                log.info("%s channel %r: %s; waiting %g s", self.kind, self.name,
                         reply.problem, wait)
                self.sleep(wait)
                waited += wait
                continue
            if reply.transient and attempt <= retries:
                self.sleep(settings["backoff"] * 2 ** (attempt - 1))
                continue
            raise self.fail(reply.problem)

    def _pace(self) -> None:
        """At most one message per ``min_interval`` seconds: the robots' rate limits."""
        if self._last_post is None:
            return
        wait = self._last_post + self.options["min_interval"] - time.monotonic()
        if wait > 0:
            self.sleep(wait)

    @contextmanager
    def _session(self) -> Iterator[httpx.Client]:
        """The shared client when ``monitor`` gave one, else a short-lived one of our own."""
        if self._client is not None:
            yield self._client
            return
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            yield client

    # -- helpers for the dialects -----------------------------------------------------------

    def check_url(self) -> str:
        return f"check {self.url_setting}"

    def check_secret(self) -> str:
        variable = self.options.get("secret_env")
        return f"check secret_env {variable}" if variable else "set secret_env"


def message_key(channel: Channel[Any], message: ChatMessage) -> str:
    """Names a part of a digest for a channel, the same on every resend."""
    return f"{message.key}-{channel.name}-{message.index}of{message.total}"


def _progress(message: ChatMessage) -> str:
    """Which part failed, and what a retry of the whole digest will repeat."""
    index, total = message.index, message.total
    if total == 1:
        return ""
    if index == 1:
        return f" [message 1 of {total}; none was delivered]"
    before = "message 1 was" if index == 2 else f"messages 1–{index - 1} were"
    return (f" [message {index} of {total}; {before} delivered and will be sent again when the "
            "digest is retried]")


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error) or 'no detail'}"


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (a number or an HTTP date), else None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def json_body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def quote_reply(text: object, limit: int = 200) -> str:
    """A service's error text, one line and short: it goes into the delivery record."""
    line = clean(text if text is not None else "")
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line or "no detail"


def errcode_reply(response: httpx.Response, where: str, service: str) -> Reply | tuple[int, str]:
    """A robot that answers ``{errcode, errmsg}`` (DingTalk, WeCom): a :class:`Reply` for
    what fails before the body counts (429, 5xx, another HTTP error, a body that is not
    the service's), else the ``(errcode, errmsg)`` the channel reads itself."""
    status = response.status_code
    if status == 429:
        return Reply(problem="HTTP 429 Too Many Requests", rate_limited=True,
                     retry_after=retry_after(response))
    if status >= 500:
        return Reply(problem=f"HTTP {status} from {where}", transient=True)
    if not response.is_success:
        return Reply(problem=f"HTTP {status} from {where}")
    data = json_body(response)
    if data is None or not isinstance(data.get("errcode"), int):
        return Reply(problem=f"unexpected reply from {where} (HTTP {status}, "
                             f"not {service}'s {{errcode, errmsg}})")
    return data["errcode"], quote_reply(data.get("errmsg"))
