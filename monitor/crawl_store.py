"""The storage side of a crawl, in the crawl child: the item pipeline that stores posts
and marks as they arrive, and the memory of earlier crawls that spiders read.

Only the crawl child (and a crawl worker) imports this module, so Scrapy and the spiders
load nowhere else in ``monitor``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from monitor.db import Database, open_database
from monitor.db.queries import upsert_insert
from monitor.db.schema import Post, Source, SourceMark
from monitor.db.types import utcnow
from monitor.errors import DoxwatchError
from monitor.ingest import upsert_posts
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
    statement = upsert_insert(db.engine.dialect.name, SourceMark).values(
        source_id=source, key=item.key[:512], value=item.value, updated_at=utcnow())
    with db.session() as session:
        session.execute(statement.on_conflict_do_update(
            index_elements=[SourceMark.source_id, SourceMark.key],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at}))


class StorePipeline:
    """The item pipeline of a crawl: posts are committed in small batches, marks in order.

    A commit per post cost more than fetching and parsing a page (``benchmarks/crawl.py``),
    and it runs in the crawl's only thread, so posts wait in memory until
    :data:`BATCH` of them are there, :data:`FLUSH_SECONDS` have passed, a mark arrives,
    the spider goes idle or closes. A mark (which a spider yields after the posts it
    covers) is stored only after the posts before it: if the process dies mid-crawl, the
    posts still waiting are lost with their thread's mark, so the next crawl fetches that
    thread again; nothing is marked as done that was not stored. Settings:
    ``DOXWATCH_DATABASE_URL``; the spider's ``source_name`` names the source row, which
    the parent process created before the crawl. The ``spider`` arguments are optional:
    Scrapy 2.13+ no longer passes them, older Scrapy does.
    """

    BATCH = 50
    FLUSH_SECONDS = 2.0

    def __init__(self, database_url: str, crawler: Any) -> None:
        self.database_url = database_url
        self.crawler = crawler
        self.db: Database | None = None
        self.source_id: int | None = None
        self.waiting: list[PostItem] = []
        self.oldest = 0.0  # time.monotonic() when the first waiting post came

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        url = crawler.settings.get("DOXWATCH_DATABASE_URL")
        if not url:
            raise DoxwatchError("the crawl has no DOXWATCH_DATABASE_URL setting: nowhere to store")
        pipeline = cls(url, crawler)
        if getattr(crawler, "signals", None) is not None:
            from scrapy import signals

            crawler.signals.connect(pipeline.flush, signal=signals.spider_idle)
        return pipeline

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
            self.flush()
            store_mark(self.db, self.source_id, item)
            return item
        if not self.waiting:
            self.oldest = time.monotonic()
        self.waiting.append(item)
        if len(self.waiting) >= self.BATCH or time.monotonic() - self.oldest >= self.FLUSH_SECONDS:
            self.flush()
        return item

    def flush(self, *_: Any) -> None:
        """Store the waiting posts in one transaction."""
        if not self.waiting or self.db is None:
            return
        with self.db.session() as session:
            source = session.get_one(Source, self.source_id)
            new = upsert_posts(session, source, [asdict(item) for item in self.waiting])
        stats = self.crawler.stats
        stats.inc_value("doxwatch/new_posts", new)
        stats.inc_value("doxwatch/updated_posts", len(self.waiting) - new)
        self.waiting = []

    def close_spider(self, spider: Any = None) -> None:
        if self.db is not None:
            self.flush()
            self.db.dispose()
            self.db = None
