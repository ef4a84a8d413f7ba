"""`doxwatch label --exclusive`: sessions never show the same post at once, on SQLite and
PostgreSQL, and an abandoned session's posts come back when its leases expire."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from monitor.config import external_source
from monitor.db import Database, open_database
from monitor.db.schema import Label, LabelLease, Post
from monitor.ingest import ingest_lines
from monitor.label_leases import Leases
from monitor.label_session import LabelSession
from monitor.labels import QueueEntry

MINUTE = timedelta(minutes=1)


def _seed(url: str, count: int) -> tuple[Database, list[QueueEntry]]:
    db = open_database(url, upgrade=True)
    lines = [f'{{"id": "p{n}", "text": "post number {n}"}}' for n in range(count)]
    ingest_lines(db, external_source("tool"), lines)
    with db.session() as session:
        ids = session.scalars(select(Post.id).order_by(Post.id)).all()
    queue = [QueueEntry(post_id, {}, (), (), 0.0) for post_id in ids]
    return db, queue


def test_two_sessions_are_shown_different_posts_and_interleave(db_url):
    db, queue = _seed(db_url, 4)
    ids = [entry.post_id for entry in queue]
    alice = LabelSession(db, "alice", queue, Leases(db, "alice", MINUTE))
    bob = LabelSession(db, "bob", queue, Leases(db, "bob", MINUTE))
    assert (alice.current.post_id, bob.current.post_id) == (ids[0], ids[1])
    alice.save(["medical"])  # ids[1] is bob's, so alice moves on to ids[2]
    assert alice.current.post_id == ids[2] and alice.held_elsewhere == 1
    bob.skip()  # bob gives ids[1] back and takes ids[3]
    assert bob.current.post_id == ids[3]
    alice.close()
    bob.close()
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(LabelLease)) == 0
    db.dispose()


def test_an_abandoned_sessions_post_comes_back_when_its_lease_expires(db_url):
    db, queue = _seed(db_url, 2)
    first = queue[0].post_id
    LabelSession(db, "gone", queue, Leases(db, "gone", timedelta(seconds=0.5)))  # never closed
    waiting = LabelSession(db, "carol", queue, Leases(db, "carol", MINUTE))
    assert waiting.current.post_id != first
    time.sleep(0.6)
    late = LabelSession(db, "dave", queue, Leases(db, "dave", MINUTE))
    assert late.current.post_id == first
    db.dispose()


def test_renewing_keeps_the_post_and_a_lost_lease_is_reported(db_url):
    db, queue = _seed(db_url, 1)
    post = queue[0].post_id
    mine = Leases(db, "alice", timedelta(seconds=0.5))
    assert mine.claim([post]) == post
    assert mine.renew(post)
    time.sleep(0.6)
    other = Leases(db, "bob", MINUTE)
    assert other.claim([post]) == post  # alice's lease had expired
    assert not mine.renew(post)
    assert mine.claim([post]) is None
    db.dispose()


def test_two_analysts_racing_through_one_queue_on_postgresql_never_share_a_post(pg_url):
    from tests.conftest import _reset_pg

    _reset_pg(pg_url)
    db, queue = _seed(pg_url, 120)
    shown: dict[str, list[int]] = {"alice": [], "bob": []}
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(analyst: str) -> None:
        try:
            start.wait()
            session = LabelSession(db, analyst, queue, Leases(db, analyst, MINUTE))
            while not session.done:
                post = session.current.post_id
                # the lease is held while the post is "on screen": nobody else may have it
                with db.session() as check:
                    holders = check.scalars(select(LabelLease.analyst)
                                            .where(LabelLease.post_id == post)).all()
                assert holders == [analyst]
                shown[analyst].append(post)
                session.save([])
            session.close()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in shown]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    alice, bob = set(shown["alice"]), set(shown["bob"])
    assert not alice & bob
    assert alice | bob == {entry.post_id for entry in queue}
    assert alice and bob  # both really worked the queue at the same time
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Label)) == 120
    db.dispose()
