"""The digest value: what ``monitor`` hands to ``alerts`` to render and send.

A plain frozen value, so rendering and sending never touch the database and the same digest
can be re-sent to a channel that failed, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models import CATEGORIES


@dataclass(frozen=True)
class DigestEntry:
    """One flagged post, as the analyst sees it. ``excerpt`` is already masked by ``monitor``."""

    post_id: int
    category: str
    labels: tuple[str, ...]
    source: str
    url: str
    title: str | None
    posted_at: datetime | None
    excerpt: str
    scores: dict[str, float]
    terms: tuple[str, ...] = ()
    entities: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # An entry with a category outside CATEGORIES would silently vanish from by_category().
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}; expected one of {CATEGORIES}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: tuples become lists, datetimes ISO 8601 strings."""
        return {
            "post_id": self.post_id,
            "category": self.category,
            "labels": list(self.labels),
            "source": self.source,
            "url": self.url,
            "title": self.title,
            "posted_at": _iso(self.posted_at),
            "excerpt": self.excerpt,
            "scores": dict(self.scores),
            "terms": list(self.terms),
            "entities": [{"kind": kind, "value": value} for kind, value in self.entities],
        }


@dataclass(frozen=True)
class Digest:
    """The offers flagged since the previous digest. ``id`` is None until ``monitor`` stores it."""

    id: int | None
    created_at: datetime
    entries: tuple[DigestEntry, ...]
    since: datetime | None = None

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def key(self) -> str:
        """A stable name for this digest: its id, else its creation time (UTC, to the second).

        Used in file names, the e-mail Message-ID and the webhook Idempotency-Key, so that a
        resend of the same digest is recognisable by the receiver.
        """
        if self.id is not None:
            return str(self.id)
        moment = self.created_at
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.strftime("%Y%m%dT%H%M%S")

    def by_category(self) -> dict[str, list[DigestEntry]]:
        """Entries grouped by primary category, in ``CATEGORIES`` order, empty groups left out."""
        groups: dict[str, list[DigestEntry]] = {category: [] for category in CATEGORIES}
        for entry in self.entries:
            groups[entry.category].append(entry)
        return {category: entries for category, entries in groups.items() if entries}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the webhook payload and the file channel's ``.json``."""
        return {
            "id": self.id,
            "created_at": _iso(self.created_at),
            "since": _iso(self.since),
            "count": self.count,
            "counts": {category: len(entries) for category, entries in self.by_category().items()},
            "entries": [entry.to_dict() for entry in self.entries],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
