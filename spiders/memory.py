"""What a spider knows of its source's earlier crawls, so a re-crawl fetches only what changed.

``monitor/`` keeps the memory (in the database, shared by every worker) and hands a
spider a read-only :class:`CrawlMemory`; a spider that learns something yields a
:class:`MarkItem`, which leaves through the item pipeline like a post and is stored after
the posts yielded before it. So a crash between a thread's posts and its mark costs one
refetch, never a lost post.

Two kinds of knowledge:

- ``stored(ids)``: which of these post ids are stored already. Paging that walks back in
  time (a Telegram channel's "load older", a board sorted by new) stops at the first page
  whose posts are all stored.
- ``mark(key)``: what a listing said of a thread when it was last fetched (reply count,
  last-post time) and when that was. :func:`needs_fetch` compares it with what the listing
  says now: a thread is fetched again only when it changed, or when it was fetched longer
  ago than the source's ``refetch_after``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

FETCHED_AT = "fetched_at"  # the key of a mark's fetch time (ISO 8601, UTC)


class CrawlMemory(Protocol):
    """Read-only view of earlier crawls of one source."""

    def stored(self, external_ids: Iterable[str]) -> set[str]:
        """The ids among ``external_ids`` already stored for this source."""
        ...

    def mark(self, key: str) -> dict[str, Any] | None:
        """The mark stored under ``key``, or None."""
        ...


@dataclass
class DictMemory:
    """A memory held in plain data: a first crawl (empty), tests, and a crawl child that
    was handed the memory as JSON."""

    stored_ids: set[str] = field(default_factory=set)
    marks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def stored(self, external_ids: Iterable[str]) -> set[str]:
        return self.stored_ids & set(external_ids)

    def mark(self, key: str) -> dict[str, Any] | None:
        return self.marks.get(key)


@dataclass
class MarkItem:
    """Remember ``value`` under ``key`` for this source (stored in order with the posts)."""

    source: str
    key: str
    value: dict[str, Any]


def listing_mark(listing: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The mark to store after fetching a thread: what its listing said, and when."""
    return {**listing, FETCHED_AT: (now or datetime.now(UTC)).isoformat(timespec="seconds")}


def needs_fetch(memory: CrawlMemory, key: str, listing: Mapping[str, Any],
                refetch_after: timedelta | None, now: datetime | None = None) -> bool:
    """Whether a thread must be fetched: never fetched, its listing changed (reply count,
    last-post time: whatever ``listing`` holds), or fetched longer ago than
    ``refetch_after``."""
    known = memory.mark(key)
    if known is None:
        return True
    if any(known.get(name) != value for name, value in listing.items()):
        return True
    if refetch_after is None:
        return False
    try:
        fetched = datetime.fromisoformat(known[FETCHED_AT])
    except (KeyError, TypeError, ValueError):
        return True
    return (now or datetime.now(UTC)) - fetched >= refetch_after
