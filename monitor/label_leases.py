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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.db import Database
from monitor.db.schema import Label, LabelLease, Post
from monitor.db.types import utcnow

# Candidates looked at per query: enough to pass over posts other sessions hold without a
# query each, few enough that the pick stays an index lookup.
_CHUNK = 64


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

    def claim(self, post_ids: Sequence[int]) -> int | None:
        """Hold the first of ``post_ids`` that no other live session holds; its id, or None
        when every one of them is held elsewhere."""
        for start in range(0, len(post_ids), _CHUNK):
            chunk = list(post_ids[start:start + _CHUNK])
            while chunk:
                free = self._pick_and_take(chunk)
                if free is None:
                    break
                if free[1]:
                    return free[0]
                chunk = chunk[chunk.index(free[0]) + 1:]  # lost a race for it: go on
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
            session.execute(delete(LabelLease).where(LabelLease.post_id == post_id,
                                                     LabelLease.holder == self.holder))

    def release_all(self) -> None:
        """Give back every post this session holds (on quit)."""
        with self.db.session() as session:
            session.execute(delete(LabelLease).where(LabelLease.holder == self.holder))

    def _pick_and_take(self, chunk: list[int]) -> tuple[int, bool] | None:
        """(the first free post of ``chunk``, whether this session now holds it), or None."""
        now = utcnow()
        with self.db.session() as session:
            free = session.scalar(self._free_query(chunk, now))
            if free is None:
                return None
            if self._row_locks:  # the row lock makes the pick and the take one step
                return free, self._take(session, free, now)
        # SQLite: a write in the read transaction could fail on a stale snapshot, so the
        # take is a transaction of its own, and its condition settles any race.
        with self.db.session() as session:
            return free, self._take(session, free, now)

    def _free_query(self, chunk: list[int], now: datetime):
        done_elsewhere = select(Label.id).where(
            Label.post_id == Post.id, Label.analyst != self.analyst,
            Label.created_at >= self.started).exists()
        query = (
            select(Post.id)
            .outerjoin(LabelLease, LabelLease.post_id == Post.id)
            .where(Post.id.in_(chunk), ~done_elsewhere,
                   or_(LabelLease.post_id.is_(None), LabelLease.expires_at < now,
                       LabelLease.holder == self.holder))
            .order_by(case({post_id: rank for rank, post_id in enumerate(chunk)},
                           value=Post.id))
            .limit(1)
        )
        if self._row_locks:
            query = query.with_for_update(skip_locked=True, of=Post)
        return query

    def _take(self, session: Session, post_id: int, now: datetime) -> bool:
        """Insert this session's lease on ``post_id``, or take over an expired one."""
        dialect = postgresql if self._row_locks else sqlite
        values = {"post_id": post_id, "holder": self.holder, "analyst": self.analyst,
                  "expires_at": now + self.ttl}
        statement = dialect.insert(LabelLease).values(**values)
        session.execute(statement.on_conflict_do_update(
            index_elements=[LabelLease.post_id],
            set_={key: statement.excluded[key] for key in ("holder", "analyst", "expires_at")},
            where=or_(LabelLease.expires_at < now, LabelLease.holder == self.holder),
        ))
        holder = session.scalar(select(LabelLease.holder).where(LabelLease.post_id == post_id))
        return holder == self.holder
