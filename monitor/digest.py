"""Build the digest of what was flagged since the last one, and deliver it once per channel.

One way through: select the flagged posts no digest holds yet → build the ``Digest`` →
store it whole → the outbox (``monitor.outbox``: claims, retries with backoff, giving up)
sends the stored payload. The digest, the posts it covers and one ``pending`` delivery per
channel are committed *before* anything is sent, and a retry sends the stored digest, not
one rebuilt from rows that may have changed since (a post re-crawled, re-judged, deleted).
A channel that fails stays ``failed`` and is retried when its backoff has elapsed (or at
once by ``doxwatch digest``); one that succeeded is never sent again; a post belongs to
one digest only (a unique constraint), so nothing is sent twice and nothing is lost. A
crash between a send and its record can repeat that one send: webhook receivers get an
``Idempotency-Key`` and mail a stable ``Message-ID`` to recognise it. A channel that gave
up on a digest is named in the next digest's "Not delivered".

What a digest holds (see ``alerts.digest``): every flagged post of the period is counted
(``totals``, beside the previous digest's) and taken into the digest, but near-duplicates
collapse into one entry per ad (``monitor.clusters``), and only the ``[digest]
max_entries`` most severe ads are shown: primary category in ``CATEGORIES`` order, then
that category's score. The rest are in the digest all the same (never sent again, never
lost), and the digest says how many and which command lists them. Sellers are the
contact handles of the period's posts, grouped by the posts that link them.
"""

from __future__ import annotations

import gc
import heapq
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import String, Text, and_, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from alerts.channels import Channel, build_channel
from alerts.digest import Cluster, Digest, DigestEntry, Handle, Seller
from alerts.errors import AlertsError, NotConfigured
from alerts.render import render_text
from models import CATEGORIES
from models.extract import extract_entities
from models.predict import Classifier
from monitor.classify import pending_posts
from monitor.classify import post_text as judged_text
from monitor.cluster_text import Features
from monitor.clusters import (
    Clustering,
    cluster_posts,
    earlier_posts,
    insert_rows,
    post_text,
    store_clusters,
)
from monitor.config import ChannelConfig, Config, ConfigError
from monitor.db import Database
from monitor.db.schema import (
    Delivery,
    DigestPost,
    DigestRecord,
    Entity,
    Post,
    Prediction,
    Source,
)
from monitor.db.types import as_utc
from monitor.health import source_health
from monitor.outbox import (
    DeliveryOutcome,
    RetryMode,
    RetryPolicy,
    Sender,
    given_up,
    safe_error,
    send_due,
)

EXCERPT_CHARS = 300
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# The entity kinds that are a seller's contact (models.extract.KINDS): what sellers are made of.
CONTACT_KINDS = ("qq", "wechat", "telegram", "phone", "email")
_CHUNK = 500  # ids per IN (...) query
_SEVERITY = {category: position for position, category in enumerate(CATEGORIES)}


@dataclass(frozen=True)
class DigestReport:
    digest: Digest | None          # the new digest, if there was anything new
    deliveries: tuple[DeliveryOutcome, ...]

    @property
    def failed(self) -> list[DeliveryOutcome]:
        """The sends of this run that failed (not rows another sender has, nor given up)."""
        return [d for d in self.deliveries if d.status == "failed"]


def run_digest(config: Config, db: Database, version: str, *,
               env: Mapping[str, str] | None = None, now: datetime | None = None,
               retry: RetryMode = "backoff") -> DigestReport:
    """Retry what failed before (as ``retry`` says), then select, build, store and send
    what is new.

    ``version`` is the model whose judgements count; the caller has judged the posts with
    it already (``classify_pending``), so a digest never waits on the classifier.
    """
    env = os.environ if env is None else env
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        retried = _send_due(config, db, env, client, retry)
        digest = _store_new_digest(db, config, version, now)
        sent = _send_due(config, db, env, client, retry, only=digest.id) if digest else []
    return DigestReport(digest, tuple(retried + sent))


def send_deliveries(config: Config, db: Database, *, env: Mapping[str, str] | None = None,
                    retry: RetryMode = "backoff", only: int | None = None
                    ) -> list[DeliveryOutcome]:
    """Send the stored digests' deliveries that are due (``only`` that digest's), building
    nothing: the scheduler's job between digests, so a channel that was down at nine gets
    its digest by itself; and an immediate alert's sending."""
    env = os.environ if env is None else env
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        return _send_due(config, db, env, client, retry, only=only)


def _send_due(config: Config, db: Database, env: Mapping[str, str], client: httpx.Client,
              retry: RetryMode, *, only: int | None = None) -> list[DeliveryOutcome]:
    """The outbox's due rows, to channels still configured, each sent as it was stored."""
    channels = {c.name: c for c in config.outbox_channels()}
    send = _digest_sender(channels, config.digest.timezone, env, client)
    return send_due(db, channels, send, RetryPolicy.of(config.digest), retry, only=only)


def _digest_sender(channels: Mapping[str, ChannelConfig], timezone: str,
                   env: Mapping[str, str], client: httpx.Client) -> Sender:
    """Sends a stored digest payload through a channel, in the team's timezone."""
    def send(digest_id: int, payload: Mapping[str, Any], channel: str) -> str | None:
        try:
            # exactly what was built and stored, whatever happened to its posts since
            digest = in_timezone(Digest.from_dict(payload), timezone)
        except ValueError as damaged:
            return f"stored digest {digest_id} cannot be read: {damaged}"
        error = _send(channels[channel], digest, env, client)
        return safe_error(error, channels[channel], env) if error else None
    return send


def preview_digest(config: Config, db: Database, classifier: Classifier,
                   now: datetime | None = None) -> Digest:
    """What the next digest would hold, judging unjudged posts in memory; writes nothing."""
    with _collector_paused(), db.session() as session:
        extra = []
        for post in pending_posts(session, classifier.version, limit=config.digest.max_entries):
            text = judged_text(post)
            judgement = classifier.predict_one(text)
            if judgement.is_offer:
                extra.append(Flagged(
                    id=post.id, source=session.get_one(Source, post.source_id).name,
                    title=post.title, text=post.text, first_seen_at=post.first_seen_at,
                    scores=dict(judgement.scores), labels=tuple(judgement.labels),
                    url=post.url, posted_at=post.posted_at,
                    terms=tuple(term for term, _ in judgement.terms),
                    entities=tuple((e.kind, e.value) for e in extract_entities(text))))
        built = _build_digest(session, config, classifier.version, now or _now(),
                              _last_digest_time(session), extra)
        return in_timezone(built.digest, config.digest.timezone)


def broken_sources(session: Session, config: Config) -> tuple[tuple[str, str], ...]:
    """(source, why) for each configured source that looks broken (``monitor.health``)."""
    found = (source_health(session, source.name, config.crawl.broken_after)
             for source in config.sources)
    return tuple((health.name, health.broken) for health in found if health.broken)


def _store_new_digest(db: Database, config: Config, version: str,
                      now: datetime | None) -> Digest | None:
    """Build the digest of the flagged posts no digest holds yet and store it whole, with
    all its posts (shown or not), their clusters and one pending delivery per channel, in
    one transaction."""
    with _collector_paused(), db.session() as session:
        created = now or _now()
        since = _last_digest_time(session)
        built = _build_digest(session, config, version, created, since)
        if not built.posts and not config.digest.send_empty:
            return None
        digest = store_digest(session, config, built.digest,
                              [channel.name for channel in config.digest_channels()])
        assert digest.id is not None
        _record_posts(session, digest.id, built.posts)
        store_clusters(session, built.clustering)
        del built  # the posts go before the collector resumes
        return digest


def _record_posts(session: Session, digest_id: int, posts: Sequence[Flagged]) -> None:
    """Every post of the period goes into the digest, shown or not."""
    insert_rows(session, "digest_posts", ("digest_id", "post_id", "category"),
                ("integer", "integer", "text"),
                [(digest_id, post.id, post.category) for post in posts])


# --- building the digest ------------------------------------------------------------------


class Flagged:
    """A flagged post on its way into a digest. ``url`` … ``entities`` are read only for the
    posts that are shown (None: not read yet). A plain class with slots: there are
    100,000 of them in a large digest, and a dataclass's __post_init__ costs a call each."""

    __slots__ = ("id", "source", "title", "text", "first_seen_at", "scores", "labels", "url",
                 "posted_at", "terms", "entities", "category", "rank")

    def __init__(self, id: int, source: str, title: str | None, text: str,
                 first_seen_at: datetime, scores: dict[str, float], labels: tuple[str, ...],
                 url: str | None = None, posted_at: datetime | None = None,
                 terms: tuple[str, ...] | None = None,
                 entities: tuple[tuple[str, str], ...] | None = None) -> None:
        self.id, self.source, self.title, self.text = id, source, title, text
        self.first_seen_at, self.scores, self.labels = first_seen_at, scores, labels
        self.url, self.posted_at, self.terms, self.entities = url, posted_at, terms, entities
        # the primary category: the highest-scoring label (any category if none, defensively)
        if len(labels) == 1:
            category = labels[0]
        else:
            category = max(labels or CATEGORIES, key=lambda label: scores.get(label, 0.0))
        self.category = category
        # severity: category in CATEGORIES order, then that category's score, then age
        self.rank = (_SEVERITY[category], -scores.get(category, 0.0), id)


def _severity(post: Flagged) -> tuple[int, float, int]:
    return post.rank


@dataclass(frozen=True)
class _Built:
    digest: Digest
    posts: list[Flagged]       # every post of the period, shown or not
    clustering: Clustering


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a digest is built and stored: it makes
    hundreds of thousands of objects that live until the digest is stored, none in a cycle,
    and each collection would walk them all again. They are freed, by reference counting,
    before the collector resumes."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _build_digest(session: Session, config: Config, version: str, created: datetime,
                  since: datetime | None, extra: Sequence[Flagged] = ()) -> _Built:
    """The digest of every flagged post no digest holds (and ``extra``, judged in memory).

    The feature texts of the posts are started first (a helper process takes most of them
    when there are many), and the sellers are worked out meanwhile."""
    posts = flagged(session, version) + list(extra)
    texts = [(post.id, post_text(post.title, post.text)) for post in posts]
    features = Features([text for _, text in texts])  # with many, a helper process starts
    contacts = _contacts(session, [post.id for post in posts if post.entities is None])
    for post in extra:
        contacts[post.id] = [(k, v) for k, v in post.entities or () if k in CONTACT_KINDS]
    sellers, seller_count = _sellers(session, posts, contacts, config.digest.max_entries)
    clustering = cluster_posts(session, texts, features.result())

    members: dict[int, list[Flagged]] = {}
    for post in posts:
        members.setdefault(clustering.cluster_of[post.id], []).append(post)
    # each ad is led by its most severe post; only the max_entries most severe ads are shown
    leads = ((group[0] if len(group) == 1 else min(group, key=_severity), cluster_id, group)
             for cluster_id, group in members.items())
    shown = heapq.nsmallest(config.digest.max_entries, leads, key=lambda ad: ad[0].rank)
    _read_details(session, version, [lead for lead, _, _ in shown])
    earlier = earlier_posts(session, [c for _, c, _ in shown if c in clustering.known])
    entries = tuple(_entry(lead, _cluster(cluster_id, group, earlier.get(cluster_id)))
                    for lead, cluster_id, group in shown)

    digest = Digest(
        id=None, created_at=created, entries=entries, since=since,
        broken_sources=broken_sources(session, config),
        totals=Counter(post.category for post in posts),
        previous_totals=_previous_totals(session),
        cluster_count=len(members),
        known_clusters=sum(cluster_id in clustering.known for cluster_id in members),
        sellers=sellers, seller_count=seller_count,
        rest_command=(_rest_command(since, created, len(posts), config.digest.timezone)
                      if len(shown) < len(members) else None),
        undelivered=given_up(session, RetryPolicy.of(config.digest), after=since, until=created),
    )
    return _Built(digest, posts, clustering)


def one_post_digest(session: Session, config: Config, version: str, post: Flagged,
                    cluster_id: int, created: datetime) -> Digest:
    """A digest of one flagged post, shown whole: what an immediate alert sends, built and
    rendered as the daily digest is, so every channel and format carries it unchanged."""
    _read_details(session, version, [post])
    sellers, seller_count = _sellers(session, [post], _contacts(session, [post.id]),
                                     config.digest.max_entries)
    return Digest(
        id=None, created_at=created, entries=(_entry(post, _cluster(cluster_id, [post], None)),),
        totals=Counter({post.category: 1}), cluster_count=1, known_clusters=0,
        sellers=sellers, seller_count=seller_count, immediate=True)


def store_digest(session: Session, config: Config, digest: Digest,
                 channels: Sequence[str]) -> Digest:
    """Store a built digest whole, with one pending delivery per channel, and give it its
    id and uid: in the caller's transaction, with whatever else must commit with it."""
    record = DigestRecord(created_at=digest.created_at, since=digest.since,
                          entry_count=digest.total_posts, text="", payload={},
                          immediate=digest.immediate)
    session.add(record)
    session.flush()
    stored = replace(digest, id=record.id, uid=uuid.uuid4().hex)
    record.text = render_text(in_timezone(stored, config.digest.timezone))
    record.payload = stored.to_dict()
    for name in channels:
        session.add(Delivery(digest_id=record.id, channel=name, status="pending",
                             attempts=0, created_at=digest.created_at,
                             updated_at=digest.created_at))
    return stored


def _in_no_digest() -> Any:
    return select(DigestPost.post_id)


def flagged(session: Session, version: str, *where: Any) -> list[Flagged]:
    """Every post this model flags that no digest holds yet (or that meets ``where``
    instead, for immediate alerts), oldest first.

    Read through Core with the JSON columns as text: at 100,000 rows the ORM's row handling
    and the JSON type's result processing are most of the time."""
    sources = dict(session.execute(select(Source.id, Source.name)).all())
    rows = session.connection().execute(
        select(Post.id, Post.source_id, Post.title, Post.text,
               type_coerce(Post.first_seen_at, String),
               cast(Prediction.scores, Text), cast(Prediction.labels, Text))
        .join(Prediction, and_(Prediction.post_id == Post.id,
                               Prediction.model_version == version))
        .where(Prediction.is_offer.is_(True), *(where or (Post.id.not_in(_in_no_digest()),)))
        .order_by(Post.id)).all()
    # every row's scores and labels in one parse: one call instead of 200,000
    parsed = json.loads("[" + ",".join(f"{scores},{labels}" for *_, scores, labels in rows)
                        + "]")
    return [Flagged(post_id, sources[source_id], title, text, _utc(first_seen),
                     parsed[2 * index], tuple(parsed[2 * index + 1]))
            for index, (post_id, source_id, title, text, first_seen, _, _) in enumerate(rows)]


def _utc(value: str | datetime) -> datetime:
    """A timestamp as the driver returned it, aware in UTC: SQLite gives the stored text
    (naive UTC, as ``UTCDateTime`` writes it), PostgreSQL an aware datetime. Parsing the text
    with ``fromisoformat`` is ten times quicker than the type's result processing."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return as_utc(value)


def _contacts(session: Session, post_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """The contact handles of those posts, by post id: read by ranges of ids (new posts
    have neighbouring ids) and kept for the posts asked for, which at 100,000 posts is three
    times quicker than joining the judgements again."""
    wanted = set(post_ids)
    found: dict[int, list[tuple[str, str]]] = {}
    for low, high in _id_ranges(sorted(wanted)):
        rows = session.connection().execute(
            select(Entity.post_id, Entity.kind, Entity.value)
            .where(Entity.post_id.between(low, high), Entity.kind.in_(CONTACT_KINDS))).all()
        for post_id, kind, value in rows:
            if post_id in wanted:
                found.setdefault(post_id, []).append((kind, value))
    for handles in found.values():
        handles.sort()
    return found


def _id_ranges(ids: Sequence[int], gap: int = 10_000) -> list[tuple[int, int]]:
    """Sorted ids as (first, last) ranges, a new one wherever ``gap`` ids are missing."""
    ranges: list[tuple[int, int]] = []
    for post_id in ids:
        if ranges and post_id - ranges[-1][1] <= gap:
            ranges[-1] = (ranges[-1][0], post_id)
        else:
            ranges.append((post_id, post_id))
    return ranges


def _read_details(session: Session, version: str, posts: Sequence[Flagged]) -> None:
    """Link, time, terms and every entity, for the posts that are shown."""
    wanted = {post.id: post for post in posts if post.url is None}
    ids = sorted(wanted)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for post_id, url, posted_at in session.execute(
                select(Post.id, Post.url, Post.posted_at).where(Post.id.in_(chunk))):
            wanted[post_id].url, wanted[post_id].posted_at = url, posted_at
        for post_id, terms in session.execute(
                select(Prediction.post_id, Prediction.terms)
                .where(Prediction.post_id.in_(chunk), Prediction.model_version == version)
        ):
            wanted[post_id].terms = tuple(term for term, _ in terms or [])
        entities: dict[int, list[tuple[str, str]]] = {}
        for post_id, kind, value in session.execute(
                select(Entity.post_id, Entity.kind, Entity.value).where(Entity.post_id.in_(chunk))
                .order_by(Entity.post_id, Entity.kind, Entity.value)):
            entities.setdefault(post_id, []).append((kind, value))
        for post_id in chunk:
            wanted[post_id].entities = tuple(entities.get(post_id, ()))


def _cluster(cluster_id: int, group: Sequence[Flagged],
             earlier: tuple[int, datetime] | None) -> Cluster:
    sources = Counter(post.source for post in group)
    return Cluster(
        id=cluster_id, posts=len(group),
        sources=tuple(sorted(sources.items(), key=lambda item: (-item[1], item[0]))),
        first_seen_at=earlier[1] if earlier else min(post.first_seen_at for post in group),
        known=earlier is not None, earlier_posts=earlier[0] if earlier else 0,
    )


def _entry(post: Flagged, cluster: Cluster) -> DigestEntry:
    return DigestEntry(
        post_id=post.id,
        category=post.category,
        labels=post.labels,
        source=post.source,
        url=post.url or "",
        title=post.title,
        posted_at=post.posted_at,
        excerpt=_excerpt(post.text),
        scores=dict(post.scores),
        terms=post.terms or (),
        entities=post.entities or (),
        cluster=cluster,
    )


def _sellers(session: Session, posts: Sequence[Flagged],
             contacts: Mapping[int, Sequence[tuple[str, str]]],
             limit: int) -> tuple[tuple[Seller, ...], int]:
    """The period's handles, grouped: two handles in one post are linked (union-find), and
    linked handles are one seller. The ``limit`` sellers with most posts (then the most
    recently active, then by handle), and how many sellers there were."""
    number: dict[tuple[str, str], int] = {}
    parent: list[int] = []

    def root(handle: int) -> int:
        while (up := parent[handle]) != handle:
            parent[handle] = parent[up]
            handle = up
        return handle

    by_id = {post.id: post for post in posts}
    posting: list[tuple[Flagged, list[int]]] = []
    for post_id, handles in contacts.items():
        post = by_id.get(post_id)
        if post is None or not handles:
            continue
        ids = []
        for handle in handles:
            index = number.get(handle)
            if index is None:
                index = number[handle] = len(parent)
                parent.append(index)
            ids.append(index)
        first = root(ids[0])
        for index in ids[1:]:
            other = root(index)
            if other != first:
                parent[other] = first
        posting.append((post, ids))
    # Every handle of a post has one root: a post belongs to exactly one seller.
    group_posts: dict[int, list[Flagged]] = {}
    handle_posts: list[list[Flagged]] = [[] for _ in parent]
    for post, ids in posting:
        group_posts.setdefault(root(ids[0]), []).append(post)
        for index in ids:
            handle_posts[index].append(post)
    names = list(number)
    members: dict[int, list[int]] = {}
    for index in range(len(parent)):
        members.setdefault(root(index), []).append(index)

    ranked = sorted(group_posts, key=lambda group: min(names[i] for i in members[group]))
    ranked.sort(key=lambda group: (len(group_posts[group]),
                                   max(post.first_seen_at for post in group_posts[group])),
                reverse=True)  # stable: ties stay in handle order
    kept = ranked[:limit]
    earliest = _first_seen(session, [names[i] for group in kept for i in members[group]])
    sellers = []
    for group in kept:
        made = []
        for index in members[group]:
            own = handle_posts[index]
            kind, value = names[index]
            first = min(post.first_seen_at for post in own)
            if names[index] in earliest:
                first = min(first, earliest[names[index]])
            made.append(Handle(
                kind=kind, value=value, posts=len(own),
                sources=tuple(sorted({post.source for post in own})), first_seen_at=first,
                last_seen_at=max(post.first_seen_at for post in own)))
        made.sort(key=lambda h: (-h.posts, h.kind, h.value))
        linked = group_posts[group]
        sellers.append(Seller(
            handles=tuple(made), posts=len(linked),
            sources=tuple(sorted({post.source for post in linked})),
            first_seen_at=min(h.first_seen_at for h in made if h.first_seen_at),
            last_seen_at=max(h.last_seen_at for h in made if h.last_seen_at)))
    return tuple(sellers), len(group_posts)


def _first_seen(session: Session, handles: Sequence[tuple[str, str]]
                ) -> dict[tuple[str, str], datetime]:
    """When doxwatch first stored a post with each handle, in any period."""
    wanted = set(handles)
    values = sorted({value for _, value in wanted})
    found: dict[tuple[str, str], datetime] = {}
    for start in range(0, len(values), _CHUNK):
        rows = session.execute(
            select(Entity.kind, Entity.value, func.min(Post.first_seen_at))
            .join(Post, Post.id == Entity.post_id)
            .where(Entity.kind.in_(CONTACT_KINDS), Entity.value.in_(values[start:start + _CHUNK]))
            .group_by(Entity.kind, Entity.value)
        )
        found.update({(kind, value): moment for kind, value, moment in rows
                      if (kind, value) in wanted})
    return found


def _previous_totals(session: Session) -> dict[str, int] | None:
    """The previous digest's posts per category, as its payload says (``totals``; digests
    stored before totals existed had every post as an entry, so their ``counts``)."""
    payload = session.scalar(select(DigestRecord.payload)
                             .where(DigestRecord.immediate.is_(False))
                             .order_by(DigestRecord.created_at.desc(), DigestRecord.id.desc())
                             .limit(1))
    if not isinstance(payload, Mapping):
        return None
    counts = payload.get("totals", payload.get("counts"))
    if not isinstance(counts, Mapping) or not all(
            key in CATEGORIES and isinstance(value, int) and not isinstance(value, bool)
            for key, value in counts.items()):
        return None
    return {category: counts.get(category, 0) for category in CATEGORIES}


def _rest_command(since: datetime | None, until: datetime, total: int, timezone: str) -> str:
    """The command that lists every flagged post of the period: first seen after the
    previous digest and until this one, in the team's timezone, to the microsecond (the
    boundaries are the digests' own times), all ``total`` of them."""
    zone = ZoneInfo(timezone)
    span = f"--since {since.astimezone(zone).isoformat()} " if since else ""
    return (f"doxwatch posts list --flagged {span}--until {until.astimezone(zone).isoformat()}"
            f" -n {total}")


def in_timezone(digest: Digest, timezone: str) -> Digest:
    """The digest with its times in the team's timezone: the database keeps UTC, but an
    analyst in Shanghai reads 09:00, not 01:00."""
    zone = ZoneInfo(timezone)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment else None

    def cluster(value: Cluster | None) -> Cluster | None:
        return replace(value, first_seen_at=local(value.first_seen_at)) if value else None

    def handles(seller: Seller) -> tuple[Handle, ...]:
        return tuple(replace(h, first_seen_at=local(h.first_seen_at),
                             last_seen_at=local(h.last_seen_at)) for h in seller.handles)

    entries = tuple(replace(e, posted_at=local(e.posted_at), cluster=cluster(e.cluster))
                    for e in digest.entries)
    sellers = tuple(replace(s, handles=handles(s), first_seen_at=local(s.first_seen_at),
                            last_seen_at=local(s.last_seen_at)) for s in digest.sellers)
    undelivered = tuple(replace(u, digest_created_at=local(u.digest_created_at))
                        for u in digest.undelivered)
    return replace(digest, created_at=local(digest.created_at), since=local(digest.since),
                   entries=entries, sellers=sellers, undelivered=undelivered)


def check_channels(config: Config, env: Mapping[str, str] | None = None) -> None:
    """Build every configured channel now, so that a secret missing from the environment
    stops ``run``, ``digest`` and ``status`` at start-up (exit 2) instead of failing the
    first digest, hours later. Raises ConfigError naming ``channels[i].field``."""
    env = os.environ if env is None else env
    for index, channel in enumerate(config.channels):
        try:
            _build(channel, env, client=None)
        except NotConfigured as error:
            file = str(config.path) if config.path else "configuration"
            raise ConfigError(file, f"channels[{index}].{error.field}", error.message) from None


def _build(config: ChannelConfig, env: Mapping[str, str],
           client: httpx.Client | None) -> Channel[Any]:
    return build_channel(config.kind, config.name, config.options, env=env, client=client)


def _send(config: ChannelConfig, digest: Digest, env: Mapping[str, str],
          client: httpx.Client) -> str | None:
    """Send through one channel; any failure becomes the error text to record."""
    try:
        _build(config, env, client).send(digest)
    except AlertsError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - one broken channel must not stop the others
        return f"{type(error).__name__}: {error}"
    return None


def _last_digest_time(session: Session) -> datetime | None:
    return session.scalar(select(func.max(DigestRecord.created_at))
                          .where(DigestRecord.immediate.is_(False)))


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS - 1] + "…"


def _now() -> datetime:
    return datetime.now(UTC)
