"""The database on both dialects: migrations, the schema they build, and its invariants."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from monitor.config import SourceConfig
from monitor.db import (
    Database,
    DatabaseError,
    current_revision,
    get_or_create_source,
    head_revision,
    mask_url,
    open_database,
    upgrade_database,
)
from monitor.db.schema import (
    Base,
    CrawlRun,
    Delivery,
    DigestPost,
    DigestRecord,
    Post,
    Prediction,
)
from monitor.ingest import upsert_post
from tests.helpers import closed_port

FORUM = SourceConfig("forum", "generic", ("http://127.0.0.1:8800/forum/",), {"text": "div.post"})


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url, upgrade=True)
    yield database
    database.dispose()


def _item(external_id: str = "t/1", text: str = "出售 病历 一手 料子", **extra: str) -> dict:
    return {"external_id": external_id, "url": f"http://127.0.0.1/{external_id}", "text": text,
            **extra}


def _post(db: Database, text: str = "出售 病历") -> int:
    with db.session() as session:
        source = get_or_create_source(session, FORUM)
        upsert_post(session, source, _item(text=text))
        return session.scalars(select(Post.id)).one()


def test_migrations_reach_head(db: Database) -> None:
    assert current_revision(db) == head_revision()


def test_orm_metadata_matches_the_migrations(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_database_is_idempotent_and_returns_head(db_url: str) -> None:
    assert upgrade_database(db_url) == head_revision()
    assert upgrade_database(db_url) == head_revision()


def test_sqlite_upgrades_itself_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'deep' / 'dir' / 'watch.db'}")
    try:
        assert current_revision(db) == head_revision()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        db.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_server_database_is_checked_not_upgraded(db_url: str) -> None:
    with pytest.raises(DatabaseError) as raised:
        open_database(db_url)
    assert str(raised.value) == (
        f"database {mask_url(db_url)} is at revision none (empty), "
        f"expected {head_revision()}: run `doxwatch db upgrade`"
    )
    upgrade_database(db_url)
    db = open_database(db_url)
    assert current_revision(db) == head_revision()
    db.dispose()


def test_unreachable_server_is_one_line_without_the_password() -> None:
    url = f"postgresql+psycopg://watch:s3cret@127.0.0.1:{closed_port()}/doxwatch"
    with pytest.raises(DatabaseError) as raised:
        open_database(url)
    message = str(raised.value)
    assert message.startswith("cannot open database postgresql+psycopg://watch:***@127.0.0.1:")
    assert "s3cret" not in message
    assert "\n" not in message


def test_a_malformed_url_is_a_database_error() -> None:
    with pytest.raises(DatabaseError, match="not a database URL"):
        open_database("watch.db")


def test_an_sqlite_file_where_no_directory_can_be_made_is_a_database_error(tmp_path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(DatabaseError, match="cannot create the directory of"):
        open_database(f"sqlite:///{blocker / 'watch.db'}")


def test_mask_url_hides_passwords_even_in_unparsable_urls() -> None:
    assert mask_url("postgresql://u:pw@host/db") == "postgresql://u:***@host/db"
    assert mask_url("sqlite:///watch.db") == "sqlite:///watch.db"
    assert "pw" not in mask_url("bogus://u:pw@[host/db")


def test_get_or_create_source_follows_the_configuration(db: Database) -> None:
    with db.session() as session:
        created = get_or_create_source(session, FORUM)
    moved = SourceConfig("forum", "feed", ("http://127.0.0.1/feed.xml",), {}, "5 * * * *", False)
    with db.session() as session:
        updated = get_or_create_source(session, moved)
        assert updated.id == created.id
    with db.session() as session:
        stored = session.get_one(type(created), created.id)
        assert (stored.kind, stored.urls, stored.options, stored.schedule, stored.enabled) == (
            "feed", ["http://127.0.0.1/feed.xml"], {}, "5 * * * *", False
        )


def test_upserting_the_same_item_twice_keeps_one_row(db: Database) -> None:
    with db.session() as session:
        source = get_or_create_source(session, FORUM)
        assert upsert_post(session, source, _item()) is True
    with db.session() as session:
        post = session.scalars(select(Post)).one()
        first_seen, hash_before = post.first_seen_at, post.text_hash
        session.add(Prediction(post_id=post.id, model_version="v1", scores={}, labels=[],
                               is_offer=False, terms=[]))
    with db.session() as session:
        source = get_or_create_source(session, FORUM)
        assert upsert_post(session, source, _item()) is False
        assert session.scalar(select(func.count()).select_from(Prediction)) == 1
        assert upsert_post(session, source, _item(text="出售 病历 新料 已更新")) is False
    with db.session() as session:
        post = session.scalars(select(Post)).one()
        assert post.text == "出售 病历 新料 已更新"
        assert post.text_hash != hash_before
        assert post.first_seen_at == first_seen
        assert post.updated_at >= first_seen
        # the prediction described the old words, so the post will be classified again
        assert session.scalar(select(func.count()).select_from(Prediction)) == 0


def test_a_post_goes_into_one_digest_only(db: Database) -> None:
    post_id = _post(db)
    with db.session() as session:
        first = DigestRecord(entry_count=1, text="digest 1", payload={})
        session.add(first)
        session.flush()
        session.add(DigestPost(digest_id=first.id, post_id=post_id, category="medical"))
    with pytest.raises(IntegrityError), db.session() as session:
        second = DigestRecord(entry_count=1, text="digest 2", payload={})
        session.add(second)
        session.flush()
        session.add(DigestPost(digest_id=second.id, post_id=post_id, category="medical"))
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(DigestRecord)) == 1


def test_crawl_run_status_is_checked_by_the_database(db: Database) -> None:
    with db.session() as session:
        source_id = get_or_create_source(session, FORUM).id
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(CrawlRun(source_id=source_id, status="exploded"))


def test_migrated_checks_accept_interrupted_runs_and_sending_deliveries(db: Database) -> None:
    """Migration 0004 rebuilt both CHECK constraints (a table rebuild on SQLite)."""
    with db.session() as session:
        source_id = get_or_create_source(session, FORUM).id
        session.add(CrawlRun(source_id=source_id, status="interrupted"))
        digest = DigestRecord(text="x", payload={})
        session.add(digest)
        session.flush()
        session.add(Delivery(digest_id=digest.id, channel="c", status="sending"))
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Delivery(digest_id=digest.id, channel="d", status="exploded"))


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Prediction(post_id=12345, model_version="v1", scores={}, labels=[],
                               is_offer=False, terms=[]))


def test_datetimes_come_back_aware_in_utc(db: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    with db.session() as session:
        source = get_or_create_source(session, FORUM)
        upsert_post(session, source, _item("aware", posted_at="2026-03-01T09:30:00+08:00"))
        upsert_post(session, source, _item("naive", posted_at="2026-03-01T09:30:00"))
        session.add(DigestRecord(entry_count=0, text="", payload={},
                                 since=datetime(2026, 3, 1, 9, 0, tzinfo=beijing)))
    with db.session() as session:
        posts = {p.external_id: p for p in session.scalars(select(Post))}
        aware, naive = posts["aware"].posted_at, posts["naive"].posted_at
        assert aware == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
        assert aware.utcoffset() == timedelta(0)
        assert naive == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
        assert posts["aware"].first_seen_at.tzinfo is not None
        since = session.scalars(select(DigestRecord.since)).one()
        assert since == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
        # comparisons in SQL use the same UTC instants on both dialects
        later = select(Post.external_id).where(Post.posted_at > datetime(2026, 3, 1, 2, 0,
                                                                         tzinfo=UTC))
        assert session.scalars(later).all() == ["naive"]
