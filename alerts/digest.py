"""The digest value: what ``monitor`` hands to ``alerts`` to render and send.

A plain frozen value, so rendering and sending never touch the database. ``to_dict`` is also
the form ``monitor`` stores, and ``from_dict`` reads it back: a delivery retried days later
sends the digest as it was built, whatever happened to its posts since.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DigestEntry:
        """The entry ``to_dict`` described; ``ValueError`` naming what is missing or wrong."""
        return cls(
            post_id=_field(data, "post_id", int),
            category=_field(data, "category", str),
            labels=tuple(_field(data, "labels", list)),
            source=_field(data, "source", str),
            url=_field(data, "url", str),
            title=_field(data, "title", str, optional=True),
            posted_at=_moment(data, "posted_at"),
            excerpt=_field(data, "excerpt", str),
            scores=dict(_field(data, "scores", dict)),
            terms=tuple(_field(data, "terms", list)),
            entities=tuple((_field(e, "kind", str), _field(e, "value", str))
                           for e in _field(data, "entities", list)),
        )


@dataclass(frozen=True)
class Digest:
    """The offers flagged since the previous digest. ``id`` is None until ``monitor`` stores it."""

    id: int | None
    created_at: datetime
    entries: tuple[DigestEntry, ...]
    since: datetime | None = None
    # (source, why it looks broken): a quiet digest must not hide a crawl that stopped working
    broken_sources: tuple[tuple[str, str], ...] = ()

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
            "broken_sources": [{"source": source, "reason": reason}
                               for source, reason in self.broken_sources],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Digest:
        """The digest ``to_dict`` described (``count`` and ``counts`` are derived, not read).

        Raises ``ValueError`` naming the first field that is missing or of the wrong type, so
        a damaged stored digest fails its delivery with a reason instead of a ``KeyError``.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a digest is a JSON object, not {type(data).__name__}")
        created_at = _moment(data, "created_at")
        if created_at is None:
            raise ValueError("digest field 'created_at' is missing")
        entries = []
        for index, entry in enumerate(_field(data, "entries", list)):
            if not isinstance(entry, Mapping):
                raise ValueError(f"digest entry {index} is not a JSON object")
            try:
                entries.append(DigestEntry.from_dict(entry))
            except ValueError as error:
                raise ValueError(f"digest entry {index}: {error}") from None
        broken = tuple((_field(b, "source", str), _field(b, "reason", str))
                       for b in data.get("broken_sources") or ())  # absent in older digests
        return cls(id=_field(data, "id", int, optional=True), created_at=created_at,
                   entries=tuple(entries), since=_moment(data, "since"), broken_sources=broken)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _field(data: Mapping[str, Any], key: str, kind: type, *, optional: bool = False) -> Any:
    value = data.get(key) if isinstance(data, Mapping) else None
    if value is None and optional:
        return None
    # bool is an int to Python, never an id
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValueError(f"field {key!r} is missing or not {kind.__name__}")
    return value


def _moment(data: Mapping[str, Any], key: str) -> datetime | None:
    value = _field(data, key, str, optional=True)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"field {key!r} is not an ISO 8601 time: {value!r}") from None
