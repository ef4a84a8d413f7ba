"""Leases that keep two `doxwatch label --exclusive` sessions off the same post.

A session holds the post it shows through a row in ``label_leases`` that expires
(``[label] lease_minutes``) unless the session renews it, so a session that is killed or
left open over lunch gives its post back on its own.

Taking a lease is one conditional upsert (insert, or take over a lease that has expired),
so two sessions racing for a post cannot both win on either database. On PostgreSQL the
free post is first picked with ``SELECT … FOR UPDATE SKIP LOCKED``: a session never waits
for another one that is picking at the same moment, it takes the next post. On SQLite,
which has one writer at a time, the pick is a plain read and the upsert decides.

A post that another session labelled after this one started is passed over too: the
sessions share out one queue, so a post labelled by one is done for all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.orm import Session

from monitor.db import Database
from monitor.db.queries import upsert_insert
from monitor.db.schema import Label, LabelLease, Post
from monitor.db.types import UTCDateTime, utcnow

# Candidates looked at per query: enough to pass over posts other sessions hold without a
# query each, few enough that the pick stays an index lookup.
_CHUNK = 16


@dataclass
class Leases:
    """The leases of one labelling session."""

    db: Database
    analyst: str
    ttl: timedelta
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: datetime = field(default_factory=utcnow)

    @property
    def _row_locks(self) -> bool:
        return self.db.engine.dialect.name == "postgresql"

    def claim(self, post_ids: Iterable[int], *, release: int | None = None) -> int | None:
        """Hold the first of ``post_ids`` that no other live session holds; its id, or None
        when every one of them is held elsewhere. ``release``: a post this session is done
        with, given back in the same transaction (one commit per key, not two)."""
        remaining = iter(post_ids)
        while chunk := list(islice(remaining, _CHUNK)):
            with self.db.session() as session:
                if release is not None:
                    self._release(session, release)
                    release = None
                held = self._claim_in(session, chunk, utcnow())
            if held is not None:
                return held
        if release is not None:
            self.release(release)
        return None

    def renew(self, post_id: int) -> bool:
        """Push back the expiry of this session's lease on ``post_id``; False if it is no
        longer this session's (it expired and another session took the post)."""
        with self.db.session() as session:
            result = session.execute(
                update(LabelLease).where(LabelLease.post_id == post_id,
                                         LabelLease.holder == self.holder)
                .values(expires_at=utcnow() + self.ttl))
            return result.rowcount == 1

    def release(self, post_id: int) -> None:
        with self.db.session() as session:
            self._release(session, post_id)

    def _release(self, session: Session, post_id: int) -> None:
        session.execute(delete(LabelLease).where(LabelLease.post_id == post_id,
                                                 LabelLease.holder == self.holder))

    def release_all(self) -> None:
        """Give back every post this session holds (on quit)."""
        with self.db.session() as session:
            session.execute(delete(LabelLease).where(LabelLease.holder == self.holder))

    def _claim_in(self, session: Session, chunk: list[int], now: datetime) -> int | None:
        """The first post of ``chunk`` this session could take, now held; else None."""
        if not self._row_locks:
            # SQLite: the first statement is a write, so this transaction holds the one
            # write lock from the start; each take's own condition settles the rest.
            return next((post for post in chunk if self._take(session, post, now)), None)
        while chunk:
            free = session.scalar(self._free_query(chunk, now))
            if free is None:
                return None
            if self._take(session, free, now):  # under the row lock: only a lease that
                return free                      # another session took just now can stop it
            chunk = chunk[chunk.index(free) + 1:]
        return None

    def _done_elsewhere(self, post_id):
        """A label of the post by another analyst since this session started."""
        return select(Label.id).where(
            Label.post_id == post_id, Label.analyst != self.analyst,
            Label.created_at >= self.started).exists()

    def _free_query(self, chunk: list[int], now: datetime):
        return (
            select(Post.id)
            .outerjoin(LabelLease, LabelLease.post_id == Post.id)
            .where(Post.id.in_(chunk), ~self._done_elsewhere(Post.id),
                   or_(LabelLease.post_id.is_(None), LabelLease.expires_at < now,
                       LabelLease.holder == self.holder))
            .order_by(case({post_id: rank for rank, post_id in enumerate(chunk)},
                           value=Post.id))
            .limit(1)
            .with_for_update(skip_locked=True, of=Post)
        )

    def _take(self, session: Session, post_id: int, now: datetime) -> bool:
        """Insert this session's lease on ``post_id``, or take over an expired one; not if
        another analyst labelled the post since this session started. One statement."""
        row = select(literal(post_id), literal(self.holder), literal(self.analyst),
                     literal(now + self.ttl, UTCDateTime())).where(~self._done_elsewhere(post_id))
        statement = upsert_insert(self.db.engine.dialect.name, LabelLease).from_select(
            ["post_id", "holder", "analyst", "expires_at"], row)
        statement = statement.on_conflict_do_update(
            index_elements=[LabelLease.post_id],
            set_={key: statement.excluded[key] for key in ("holder", "analyst", "expires_at")},
            where=or_(LabelLease.expires_at < now, LabelLease.holder == self.holder),
        ).returning(LabelLease.post_id)
        return session.execute(statement).first() is not None
