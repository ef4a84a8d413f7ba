"""The storage side of a crawl, in the crawl child: the item pipeline that stores posts
and marks as they arrive, and the memory of earlier crawls that spiders read.

Only the crawl child (and a crawl worker) imports this module, so Scrapy and the spiders
load nowhere else in ``monitor``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from monitor.db import Database, open_database
from monitor.db.schema import Post, Source, SourceMark
from monitor.db.types import utcnow
from monitor.errors import DoxwatchError
from monitor.ingest import upsert_post
from spiders.items import PostItem
from spiders.memory import MarkItem

_IN_CHUNK = 500  # ids per IN (...) query: well under every database's parameter limit


class DatabaseMemory:
    """``spiders.memory.CrawlMemory`` over the database: what is stored, and the marks.

    Both are read when asked, not once at the start: a `doxwatch worker` lives across many
    crawls, and other workers write marks while it runs.
    """

    def __init__(self, db: Database, source_id: int) -> None:
        self.db = db
        self.source_id = source_id

    def stored(self, external_ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(external_ids))
        found: set[str] = set()
        with self.db.session() as session:
            for start in range(0, len(wanted), _IN_CHUNK):
                found.update(session.scalars(select(Post.external_id).where(
                    Post.source_id == self.source_id,
                    Post.external_id.in_(wanted[start:start + _IN_CHUNK]))).all())
        return found

    def mark(self, key: str) -> dict[str, Any] | None:
        with self.db.session() as session:
            return session.scalar(select(SourceMark.value).where(
                SourceMark.source_id == self.source_id, SourceMark.key == key[:512]))


def source_id(db: Database, name: str) -> int:
    """The id of source ``name``, which the parent created before the crawl."""
    with db.session() as session:
        found = session.scalars(select(Source.id).where(Source.name == name)).first()
    if found is None:
        raise DoxwatchError(f"source {name} is not in the database")
    return found


def store_mark(db: Database, source: int, item: MarkItem) -> None:
    """Insert or replace the mark (one statement, so concurrent workers cannot collide)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(SourceMark).values(source_id=source, key=item.key[:512],
                                                  value=item.value, updated_at=utcnow())
    with db.session() as session:
        session.execute(statement.on_conflict_do_update(
            index_elements=[SourceMark.source_id, SourceMark.key],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at}))


class StorePipeline:
    """The item pipeline of a crawl: every post and mark is committed as it arrives.

    So if the process dies mid-crawl, what was fetched so far is kept, and a mark (which
    a spider yields after the posts it covers) is never stored before them. Settings:
    ``DOXWATCH_DATABASE_URL``; the spider's ``source_name`` names the source row, which
    the parent process created before the crawl. The ``spider`` arguments are optional:
    Scrapy 2.13+ no longer passes them, older Scrapy does.
    """

    def __init__(self, database_url: str, crawler: Any) -> None:
        self.database_url = database_url
        self.crawler = crawler
        self.db: Database | None = None
        self.source_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        url = crawler.settings.get("DOXWATCH_DATABASE_URL")
        if not url:
            raise DoxwatchError("the crawl has no DOXWATCH_DATABASE_URL setting: nowhere to store")
        return cls(url, crawler)

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        db = open_database(self.database_url, upgrade=False)
        try:
            self.source_id = source_id(db, spider.source_name)
        except DoxwatchError:
            db.dispose()
            raise
        self.db = db

    def process_item(self, item: PostItem | MarkItem, spider: Any = None) -> Any:
        if isinstance(item, MarkItem):
            store_mark(self.db, self.source_id, item)
            return item
        with self.db.session() as session:
            source = session.get_one(Source, self.source_id)
            new = upsert_post(session, source, asdict(item))
        self.crawler.stats.inc_value("doxwatch/new_posts" if new else "doxwatch/updated_posts")
        return item

    def close_spider(self, spider: Any = None) -> None:
        if self.db is not None:
            self.db.dispose()
            self.db = None
