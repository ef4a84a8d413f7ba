"""The one thing a spider yields: a post, as plain data.

A dataclass rather than a ``scrapy.Item`` because Scrapy accepts dataclass items as they
are, and ``monitor/`` can read one with ``dataclasses.asdict`` without knowing Scrapy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class PostItem:
    """A post seen on a source; ``(source, external_id)`` identifies it across crawls."""

    source: str
    external_id: str
    url: str
    text: str
    title: str | None = None
    author: str | None = None
    posted_at: str | None = None
    fetched_at: str = field(default_factory=_now)
    # What a kind of source knows beyond the common fields, as plain JSON values: a
    # Telegram message's views and where it was forwarded from, a thread's reply count.
    meta: dict[str, Any] = field(default_factory=dict)
