"""The crawl's storage in the crawl child: the pipeline that commits posts and marks as
they arrive, and the memory of earlier crawls the spiders read (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from monitor.crawl_store import DatabaseMemory, StorePipeline, source_id
from monitor.db import Database, get_or_create_source, open_database
from monitor.errors import DoxwatchError
from spiders.items import PostItem
from spiders.memory import MarkItem
from tests.monitor.test_ingest import FORUM, ID_NUMBER, _posts


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url, upgrade=True)
    yield database
    database.dispose()


def _crawler(url: str | None) -> SimpleNamespace:
    settings = Settings({"DOXWATCH_DATABASE_URL": url} if url else {})
    crawler = SimpleNamespace(settings=settings, spider=SimpleNamespace(source_name="forum"))
    crawler.stats = MemoryStatsCollector(crawler)
    return crawler


def _item(external_id: str, text: str) -> PostItem:
    return PostItem(source="forum", external_id=external_id,
                    url=f"http://127.0.0.1:8800/thread/{external_id}", text=text, title="帖子",
                    posted_at="2026-03-01T10:00:00+08:00")


def test_store_pipeline_commits_posts_in_batches_and_marks_after_them(db_url: str,
                                                                      db: Database) -> None:
    with db.session() as session:
        get_or_create_source(session, FORUM)
    crawler = _crawler(db_url)
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider(crawler.spider)
    first = _item("1", f"出售病历 {ID_NUMBER}")
    assert pipeline.process_item(first, crawler.spider) is first
    assert _posts(db) == {}  # waiting for its batch
    pipeline.process_item(_item("1", f"出售病历 {ID_NUMBER}"), crawler.spider)
    pipeline.process_item(MarkItem("forum", "thread:1", {"replies": 1}), crawler.spider)
    # the mark stored the posts before it first: another connection sees them now
    assert set(_posts(db)) == {"1"}
    assert DatabaseMemory(db, source_id(db, "forum")).mark("thread:1") == {"replies": 1}
    for n in range(2, 2 + StorePipeline.BATCH):
        pipeline.process_item(_item(str(n), "体检报告 可查"), crawler.spider)
    assert len(_posts(db)) == 1 + StorePipeline.BATCH  # a full batch is committed
    pipeline.process_item(_item("last", "体检报告 可查"), crawler.spider)
    pipeline.close_spider(crawler.spider)  # and the rest when the spider closes

    posts = _posts(db)
    assert len(posts) == 2 + StorePipeline.BATCH
    assert ID_NUMBER not in posts["1"].text
    assert posts["2"].posted_at == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert crawler.stats.get_value("doxwatch/new_posts") == 2 + StorePipeline.BATCH
    assert crawler.stats.get_value("doxwatch/updated_posts") == 1


def test_settings_for_the_crawl_child_honour_per_domain_and_each_sources_robots() -> None:
    from monitor.crawl_child import settings_for

    source = {"request": {"obey_robots": True}}
    plan = {"database_url": "sqlite://", "sources": [source, {"request": {"obey_robots": False}}],
            "crawl": {"delay": 0.5, "timeout": 5, "max_page_bytes": 1000, "user_agent": "t",
                      "obey_robots": False, "per_domain": 4}}
    settings = settings_for(plan)
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 4
    assert settings["ROBOTSTXT_OBEY"] is True  # one source obeys; the other says so per request
    source["request"]["obey_robots"] = False
    assert settings_for(plan)["ROBOTSTXT_OBEY"] is False


def test_store_pipeline_without_a_spider_argument_uses_the_crawlers(db_url: str,
                                                                    db: Database) -> None:
    """Recent Scrapy no longer passes the spider to pipelines that do not require it."""
    pipeline = _open_pipeline(db_url, db)
    pipeline.process_item(_item("9", "代查 开房记录"))
    pipeline.close_spider()
    assert set(_posts(db)) == {"9"}


def _open_pipeline(db_url: str, db: Database) -> StorePipeline:
    """A pipeline opened without a spider argument, as recent Scrapy opens it."""
    with db.session() as session:
        get_or_create_source(session, FORUM)
    pipeline = StorePipeline.from_crawler(_crawler(db_url))
    pipeline.open_spider()
    return pipeline


def test_store_pipeline_needs_a_database_url() -> None:
    with pytest.raises(DoxwatchError, match="DOXWATCH_DATABASE_URL"):
        StorePipeline.from_crawler(_crawler(None))


def test_store_pipeline_needs_the_source_row(db_url: str, db: Database) -> None:
    pipeline = StorePipeline.from_crawler(_crawler(db_url))
    with pytest.raises(DoxwatchError, match="source forum is not in the database"):
        pipeline.open_spider()


def test_marks_and_meta_are_stored_and_the_next_crawl_remembers_them(db_url: str,
                                                                     db: Database) -> None:
    pipeline = _open_pipeline(db_url, db)
    item = _item("thread-7#pid1", "出售病历")
    item.meta = {"views": 1200, "forwarded_from": f"身份证 {ID_NUMBER}", "nested": {"x": 1}}
    pipeline.process_item(item)
    pipeline.process_item(MarkItem("forum", "thread:7", {"replies": 3}))
    pipeline.process_item(MarkItem("forum", "thread:7", {"replies": 4}))  # replaced
    pipeline.close_spider()

    stored = _posts(db)["thread-7#pid1"]
    assert stored.meta["views"] == 1200 and "nested" not in stored.meta
    assert ID_NUMBER not in stored.meta["forwarded_from"]  # victims' data masked here too
    memory = DatabaseMemory(db, source_id(db, "forum"))
    assert memory.mark("thread:7") == {"replies": 4}
    assert memory.mark("thread:8") is None
    assert memory.stored(["thread-7#pid1", "thread-9#pid1"]) == {"thread-7#pid1"}
    many = [f"id-{n}" for n in range(1200)]  # more than one IN (...) chunk
    assert memory.stored([*many, "thread-7#pid1"]) == {"thread-7#pid1"}
