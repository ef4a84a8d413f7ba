"""The digest value: what ``monitor`` hands to ``alerts`` to render and send.

A plain frozen value, so rendering and sending never touch the database. ``to_dict`` is also
the form ``monitor`` stores, and ``from_dict`` reads it back: a delivery retried days later
sends the digest as it was built, whatever happened to its posts since.

``to_dict`` is also the JSON that SIEM/SOAR tools ingest (webhook body, the file channel's
``.json``): its shape is versioned (``schema_version``, :data:`SCHEMA_VERSION`) and described
by ``alerts/schema/digest.schema.json`` (JSON Schema draft 2020-12). Within one version fields
are only ever added; a digest stored before a field existed reads back with its default, so
the outbox can still retry it. A field a strict consumer would refuse (the schema's
``additionalProperties`` is false) comes with a new version: 2 added ``undelivered``.

What a digest holds: the period (``since`` → ``created_at``); ``totals``, every flagged post of
the period per category, and ``previous_totals``, the previous digest's; ``entries``, one per
ad (near-duplicate posts collapse into one entry whose ``cluster`` says how often and where
the ad appeared and whether an earlier digest had it), most severe first and capped, so
``cluster_count`` may exceed ``len(entries)`` and ``rest_command`` says where to see the rest;
``sellers``, the contact handles of the period grouped by the posts that link them;
``broken_sources``; and ``undelivered``, the earlier digests a channel gave up on since the
previous digest (a channel that stopped working must not go unnoticed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models import CATEGORIES

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Cluster:
    """The ad an entry stands for: its posts in the period and whether it was seen before.

    ``id`` is the id of the ad's first post ever (``posts.cluster_id``); ``sources`` are
    (source, posts in the period), most posts first; ``known`` means an earlier digest had
    the ad already, ``earlier_posts`` times, the first of them seen at ``first_seen_at``.
    """

    id: int
    posts: int = 1
    sources: tuple[tuple[str, int], ...] = ()
    first_seen_at: datetime | None = None
    known: bool = False
    earlier_posts: int = 0

    @property
    def reposts(self) -> int:
        """Posts of the ad in the period beyond the one shown."""
        return max(self.posts - 1, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "posts": self.posts,
            "sources": [{"source": source, "posts": posts} for source, posts in self.sources],
            "first_seen_at": _iso(self.first_seen_at),
            "known": self.known,
            "earlier_posts": self.earlier_posts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cluster:
        return cls(
            id=_field(data, "id", int),
            posts=_field(data, "posts", int),
            sources=tuple((_field(s, "source", str), _field(s, "posts", int))
                          for s in _field(data, "sources", list)),
            first_seen_at=_moment(data, "first_seen_at"),
            known=_field(data, "known", bool),
            earlier_posts=_field(data, "earlier_posts", int),
        )


@dataclass(frozen=True)
class DigestEntry:
    """One flagged post, as the analyst sees it. ``excerpt`` is already masked by ``monitor``.

    ``cluster`` is None for a post shown on its own (and in digests stored before reposts
    were collapsed).
    """

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
    cluster: Cluster | None = None

    def __post_init__(self) -> None:
        # An entry with a category outside CATEGORIES would silently vanish from by_category().
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}; expected one of {CATEGORIES}")

    @property
    def posts(self) -> int:
        """How many posts of the period this entry stands for (1 unless reposts collapsed)."""
        return self.cluster.posts if self.cluster is not None else 1

    @property
    def known(self) -> bool:
        """Whether an earlier digest had this ad already."""
        return self.cluster is not None and self.cluster.known

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
            "cluster": self.cluster.to_dict() if self.cluster is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DigestEntry:
        """The entry ``to_dict`` described; ``ValueError`` naming what is missing or wrong."""
        cluster = data.get("cluster") if isinstance(data, Mapping) else None
        if cluster is not None:
            if not isinstance(cluster, Mapping):
                raise ValueError("field 'cluster' is not an object")
            try:
                cluster = Cluster.from_dict(cluster)
            except ValueError as error:
                raise ValueError(f"cluster: {error}") from None
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
            cluster=cluster,
        )


@dataclass(frozen=True)
class Handle:
    """A seller's contact handle (``kind`` as in ``models.extract``: qq, wechat, telegram,
    phone, email) with its posts and sources in the period. ``first_seen_at`` is when
    doxwatch first stored a post with it, maybe long before the period; ``last_seen_at``
    the latest post of the period with it."""

    kind: str
    value: str
    posts: int
    sources: tuple[str, ...] = ()
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "posts": self.posts,
                "sources": list(self.sources), "first_seen_at": _iso(self.first_seen_at),
                "last_seen_at": _iso(self.last_seen_at)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Handle:
        return cls(kind=_field(data, "kind", str), value=_field(data, "value", str),
                   posts=_field(data, "posts", int), sources=_strings(data, "sources"),
                   first_seen_at=_moment(data, "first_seen_at"),
                   last_seen_at=_moment(data, "last_seen_at"))


@dataclass(frozen=True)
class Seller:
    """Handles linked by appearing together in a post of the period: as far as the posts
    tell, one actor. ``posts`` counts the period's posts with any of them."""

    handles: tuple[Handle, ...]
    posts: int
    sources: tuple[str, ...] = ()
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"handles": [handle.to_dict() for handle in self.handles], "posts": self.posts,
                "sources": list(self.sources), "first_seen_at": _iso(self.first_seen_at),
                "last_seen_at": _iso(self.last_seen_at)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Seller:
        return cls(handles=tuple(Handle.from_dict(_object(h, "handle"))
                                 for h in _field(data, "handles", list)),
                   posts=_field(data, "posts", int), sources=_strings(data, "sources"),
                   first_seen_at=_moment(data, "first_seen_at"),
                   last_seen_at=_moment(data, "last_seen_at"))


@dataclass(frozen=True)
class Undelivered:
    """An earlier digest that a channel gave up on: ``attempts`` sends failed, the last
    with ``error`` (short, secrets masked by ``monitor``). Reported by the next digest only;
    ``doxwatch status`` lists every one."""

    digest_id: int
    digest_created_at: datetime
    channel: str
    attempts: int
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"digest_id": self.digest_id, "digest_created_at": _iso(self.digest_created_at),
                "channel": self.channel, "attempts": self.attempts, "error": self.error}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Undelivered:
        created = _moment(data, "digest_created_at")
        if created is None:
            raise ValueError("field 'digest_created_at' is missing")
        return cls(digest_id=_field(data, "digest_id", int), digest_created_at=created,
                   channel=_field(data, "channel", str), attempts=_field(data, "attempts", int),
                   error=_field(data, "error", str))


@dataclass(frozen=True)
class Digest:
    """The offers flagged since the previous digest. ``id`` is None until ``monitor`` stores it.

    The fields after ``broken_sources`` describe the whole period, not only the entries
    shown; left out (None), they are worked out from the entries, as for a digest that shows
    everything: so a digest built by hand, or stored before they existed, is still whole.
    """

    id: int | None
    created_at: datetime
    entries: tuple[DigestEntry, ...]
    since: datetime | None = None
    # (source, why it looks broken): a quiet digest must not hide a crawl that stopped working
    broken_sources: tuple[tuple[str, str], ...] = ()
    # flagged posts of the period per category, every category present
    totals: Mapping[str, int] | None = None
    # the previous digest's totals; None when there was none (or it did not say)
    previous_totals: Mapping[str, int] | None = None
    # ads (clusters of near-duplicate posts) in the period, and how many an earlier digest had
    cluster_count: int | None = None
    known_clusters: int | None = None
    # seller groups, most posts first (perhaps capped), and how many there were in all
    sellers: tuple[Seller, ...] = ()
    seller_count: int | None = None
    # the command that lists every flagged post of the period, when not all are shown
    rest_command: str | None = None
    # random, given when the digest is stored: ids restart at 1 in every database, so the
    # id alone would give two installations' digests one Idempotency-Key and Message-ID
    uid: str | None = None
    # earlier digests a channel gave up on since the previous digest
    undelivered: tuple[Undelivered, ...] = ()
    # one post sent at once ([alerts.immediate]), not the period's digest
    immediate: bool = False

    def __post_init__(self) -> None:
        totals = self.totals
        if totals is None:
            totals = {category: 0 for category in CATEGORIES}
            for entry in self.entries:
                totals[entry.category] += entry.posts
        object.__setattr__(self, "totals", _category_counts(totals, "totals"))
        if self.previous_totals is not None:
            object.__setattr__(self, "previous_totals",
                               _category_counts(self.previous_totals, "previous_totals"))
        if self.cluster_count is None:
            object.__setattr__(self, "cluster_count", len(self.entries))
        if self.known_clusters is None:
            object.__setattr__(self, "known_clusters", sum(e.known for e in self.entries))
        if self.seller_count is None:
            object.__setattr__(self, "seller_count", len(self.sellers))

    @property
    def count(self) -> int:
        """Entries in the digest (shown); ``total_posts`` counts every post of the period."""
        return len(self.entries)

    @property
    def total_posts(self) -> int:
        """Every flagged post of the period, reposts and entries not shown included."""
        return sum(self._totals.values())

    @property
    def hidden(self) -> int:
        """Ads of the period that are not among the entries (over the cap)."""
        return max(self._int(self.cluster_count) - len(self.entries), 0)

    @property
    def change(self) -> dict[str, int] | None:
        """Per category, this period's posts minus the previous digest's (None: no previous)."""
        if self.previous_totals is None:
            return None
        return {c: self._totals[c] - self.previous_totals.get(c, 0) for c in CATEGORIES}

    @property
    def key(self) -> str:
        """A stable name for this digest: its id and uid, else its creation time (UTC, to
        the second).

        Used in file names, the e-mail Message-ID and the webhook Idempotency-Key, so that a
        resend of the same digest is recognisable by the receiver, and no other digest (of
        this installation or another) has the same. Digests stored before ``uid`` existed
        keep their old key, the id alone, so a retry of one is still recognised.
        """
        if self.id is not None:
            return f"{self.id}-{self.uid}" if self.uid else str(self.id)
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
        """JSON-safe form for the webhook payload and the file channel's ``.json``
        (``alerts/schema/digest.schema.json`` describes it)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "id": self.id,
            "created_at": _iso(self.created_at),
            "since": _iso(self.since),
            "count": self.count,
            "counts": {category: len(entries) for category, entries in self.by_category().items()},
            "total_posts": self.total_posts,
            "totals": dict(self._totals),
            "previous_totals": (dict(self.previous_totals)
                                if self.previous_totals is not None else None),
            "change": self.change,
            "cluster_count": self.cluster_count,
            "known_clusters": self.known_clusters,
            "hidden": self.hidden,
            "rest_command": self.rest_command,
            "uid": self.uid,
            "entries": [entry.to_dict() for entry in self.entries],
            "sellers": [seller.to_dict() for seller in self.sellers],
            "seller_count": self.seller_count,
            "broken_sources": [{"source": source, "reason": reason}
                               for source, reason in self.broken_sources],
            "undelivered": [item.to_dict() for item in self.undelivered],
            "immediate": self.immediate,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Digest:
        """The digest ``to_dict`` described (``count``, ``counts``, ``total_posts``, ``change``
        and ``hidden`` are derived, not read).

        Raises ``ValueError`` naming the first field that is missing or of the wrong type, so
        a damaged stored digest fails its delivery with a reason instead of a ``KeyError``.
        Fields that digests stored by older versions lack take their defaults.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a digest is a JSON object, not {type(data).__name__}")
        version = _field(data, "schema_version", int, optional=True)
        if version is not None and version > SCHEMA_VERSION:
            raise ValueError(f"digest schema_version {version} is newer than this doxwatch "
                             f"reads ({SCHEMA_VERSION})")
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
        sellers = []
        for index, seller in enumerate(data.get("sellers") or ()):
            try:
                sellers.append(Seller.from_dict(_object(seller, "seller")))
            except ValueError as error:
                raise ValueError(f"digest seller {index}: {error}") from None
        undelivered = []
        for index, item in enumerate(data.get("undelivered") or ()):  # absent before version 2
            try:
                undelivered.append(Undelivered.from_dict(_object(item, "undelivered item")))
            except ValueError as error:
                raise ValueError(f"digest undelivered {index}: {error}") from None
        return cls(
            id=_field(data, "id", int, optional=True), created_at=created_at,
            entries=tuple(entries), since=_moment(data, "since"), broken_sources=broken,
            totals=_field(data, "totals", dict, optional=True),
            previous_totals=_field(data, "previous_totals", dict, optional=True),
            cluster_count=_field(data, "cluster_count", int, optional=True),
            known_clusters=_field(data, "known_clusters", int, optional=True),
            sellers=tuple(sellers),
            seller_count=_field(data, "seller_count", int, optional=True),
            rest_command=_field(data, "rest_command", str, optional=True),
            uid=_field(data, "uid", str, optional=True),
            undelivered=tuple(undelivered),
            immediate=_field(data, "immediate", bool, optional=True) or False,
        )

    @property
    def _totals(self) -> Mapping[str, int]:
        assert self.totals is not None  # filled in by __post_init__
        return self.totals

    @staticmethod
    def _int(value: int | None) -> int:
        assert value is not None  # filled in by __post_init__
        return value


def _category_counts(counts: Mapping[str, Any], name: str) -> dict[str, int]:
    """``counts`` with every category (0 where absent); ValueError on another key or value."""
    for key, value in counts.items():
        if key not in CATEGORIES:
            raise ValueError(f"field {name!r}: unknown category {key!r}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"field {name!r}: {key} is not a count")
    return {category: counts.get(category, 0) for category in CATEGORIES}


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


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = _field(data, key, list)
    if not all(isinstance(value, str) for value in values):
        raise ValueError(f"field {key!r} is not a list of strings")
    return tuple(values)


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"a {what} is a JSON object, not {type(value).__name__}")
    return value


def _moment(data: Mapping[str, Any], key: str) -> datetime | None:
    value = _field(data, key, str, optional=True)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"field {key!r} is not an ISO 8601 time: {value!r}") from None
