"""Storing posts: `doxwatch ingest`'s JSON lines and the crawl's item pipeline."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models.extract import mask_personal_data
from monitor import ingest
from monitor.config import SourceConfig
from monitor.db import Database, get_or_create_source, open_database
from monitor.db.schema import Post
from monitor.ingest import (
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    ingest_lines,
    parse_timestamp,
    text_hash,
    upsert_post,
    upsert_posts,
)

FORUM = SourceConfig("forum", "generic", ("http://127.0.0.1:8800/forum/",), {"text": "div.post"})
ID_NUMBER = "11010519491231002X"  # the checksum-valid specimen number of the national standard


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url, upgrade=True)
    yield database
    database.dispose()


def _posts(db: Database) -> dict[str, Post]:
    with db.session() as session:
        return {post.external_id: post for post in session.scalars(select(Post))}


def test_ingest_lines_stores_good_lines_and_reports_bad_ones(db: Database) -> None:
    lines = [
        json.dumps({"id": "a1", "url": "http://x.test/a1", "title": "代查", "text": "代查户籍 秒出",
                    "author": "seller", "posted_at": "2026-03-01T08:00:00+08:00"}),
        "",
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"id": "a2"}),
        json.dumps({"id": True, "text": "x"}),
        json.dumps({"id": 7, "text": "数字编号的帖子", "title": 3}),
        json.dumps({"text": "没有编号的帖子"}),
        json.dumps({"id": "a1", "text": "代查户籍 秒出 价格另议"}),
    ]
    report = ingest_lines(db, FORUM, lines)
    assert (report.new, report.updated) == (2, 1)
    assert report.errors == [
        "line 3: not JSON: Expecting property name enclosed in double quotes (column 2)",
        "line 4: expected a JSON object",
        'line 5: "text" must be a non-empty string',
        'line 6: "id" must be a non-empty string or an integer',
        'line 7: "title" must be a string or null',
    ]
    posts = _posts(db)
    unnamed_text = json.loads(lines[7])["text"]
    assert set(posts) == {"a1", hashlib.sha256(unnamed_text.encode()).hexdigest()}
    first = posts["a1"]
    assert first.text == "代查户籍 秒出 价格另议"
    assert (first.url, first.title, first.author) == ("http://x.test/a1", "代查", "seller")
    assert first.posted_at == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    other = next(post for key, post in posts.items() if key != "a1")
    assert (other.url, other.title, other.author, other.posted_at) == ("", None, None, None)


def test_ingest_creates_the_source_row_from_the_configuration(db: Database) -> None:
    ingest_lines(db, FORUM, [json.dumps({"text": "hello"})])
    with db.session() as session:
        post = session.scalars(select(Post)).one()
        assert (post.source.name, post.source.kind) == ("forum", "generic")


def test_personal_data_is_masked_before_it_is_stored(db: Database) -> None:
    text = f"出售开盒资料 样本 {ID_NUMBER} 联系 tg"
    ingest_lines(db, FORUM, [json.dumps({"id": "p", "title": f"样本 {ID_NUMBER}", "text": text})])
    post = _posts(db)["p"]
    assert ID_NUMBER not in post.text
    assert ID_NUMBER not in post.title
    assert post.text == mask_personal_data(text)
    assert post.text_hash == text_hash(mask_personal_data(text))


def test_hostile_sizes_are_capped(db: Database) -> None:
    ingest_lines(db, FORUM, [json.dumps({"id": "big", "title": "标" * 5000, "text": "字" * 300_000}),
                             json.dumps({"id": "x" * 2000, "text": "long id"})])
    posts = _posts(db)
    assert len(posts["big"].text) == MAX_TEXT_CHARS
    assert len(posts["big"].title) == MAX_TITLE_CHARS
    long_id = next(key for key in posts if key != "big")
    assert long_id.startswith("sha256:") and len(long_id) <= 512


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-03-01T08:00:00+08:00", datetime(2026, 3, 1, 0, 0, tzinfo=UTC)),
    ("2026-03-01T08:00:00Z", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
    ("2026-03-01 08:00", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
    ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
    ("yesterday", None),
    ("", None),
    (None, None),
    (12, None),
])
def test_parse_timestamp(value: object, expected: datetime | None) -> None:
    assert parse_timestamp(value) == expected


def test_upsert_keeps_first_seen_and_refreshes_fetched_at(db: Database) -> None:
    item = {"external_id": "t/1", "url": "u", "text": "同一个帖子",
            "fetched_at": "2026-03-01T00:00:00+00:00"}
    with db.session() as session:
        source = get_or_create_source(session, FORUM)
        assert upsert_post(session, source, item) is True
    first = _posts(db)["t/1"]
    with db.session() as session:
        source = get_or_create_source(session, FORUM)
        later = {**item, "fetched_at": "2026-03-02T00:00:00+00:00"}
        assert upsert_post(session, source, later) is False
    again = _posts(db)["t/1"]
    assert again.first_seen_at == first.first_seen_at
    assert again.updated_at == first.updated_at  # same words: nothing changed but the visit
    assert again.fetched_at == datetime(2026, 3, 2, tzinfo=UTC)


# --- the Scrapy pipeline --------------------------------------------------------------------


BAD_BYTE_LINES = ('{"id": "1", "text": "出 户籍 查询 私聊"}\n'.encode()
                  + b'{"id": "2", "text": "\xff\xfe not utf-8"}\n'
                  + '{"id": "3", "text": "周末骑行，记得带水"}\n'.encode())


@pytest.mark.parametrize("from_stdin", [False, True])
def test_a_line_that_is_not_utf8_is_one_bad_line_in_a_file_or_on_stdin(tmp_path, from_stdin):
    """A real process reading real bytes: the good lines are kept, the bad one is named."""
    import subprocess
    import sys
    from pathlib import Path

    doxwatch = str(Path(sys.executable).with_name("doxwatch"))
    path = tmp_path / "posts.jsonl"
    path.write_bytes(BAD_BYTE_LINES)
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    where = "-" if from_stdin else str(path)
    done = subprocess.run([doxwatch, "--db", url, "ingest", "--source", "tool", where],
                          input=BAD_BYTE_LINES if from_stdin else None, capture_output=True,
                          timeout=120)
    assert done.returncode == 1
    assert b"2 new, 0 updated, 1 skipped" in done.stdout
    assert b"skipped line 2: not UTF-8: byte 0xff at column 22" in done.stderr
    assert b"Traceback" not in done.stderr and b"UnicodeDecodeError" not in done.stderr
    db = open_database(url)
    assert set(_posts(db)) == {"1", "3"}
    db.dispose()


def _batch(*texts: str) -> list[dict]:
    return [{"external_id": f"t/{number}", "url": f"u{number}", "text": text}
            for number, text in enumerate(texts)]


def test_a_batch_inserts_new_posts_and_updates_stored_ones(db: Database) -> None:
    with db.session() as session:
        source = get_or_create_source(session, FORUM)
        assert upsert_posts(session, source, _batch("一", "二")) == 2
    with db.session() as session:
        source = get_or_create_source(session, FORUM)
        later = [*_batch("一", "二改了"), {"external_id": "t/9", "url": "u9", "text": "新"}]
        assert upsert_posts(session, source, later) == 1
    stored = _posts(db)
    assert sorted(stored) == ["t/0", "t/1", "t/9"]
    assert stored["t/1"].text == "二改了" and stored["t/0"].text == "一"


def test_one_id_twice_in_a_batch_is_an_insert_then_an_update(db: Database) -> None:
    items = [{"external_id": "t/1", "url": "u", "text": "先", "author": "甲"},
             {"external_id": "t/1", "url": "u", "text": "后", "author": None}]
    with db.session() as session:
        assert upsert_posts(session, get_or_create_source(session, FORUM), items) == 1
    post = _posts(db)["t/1"]
    assert (post.text, post.author) == ("后", "甲")  # a missing field keeps its value


def test_a_post_stored_by_another_process_since_the_select_is_updated(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unique constraint is the guard: the INSERT writes nothing for a post that
    appeared after our SELECT, and that post is then updated like any stored one."""
    with db.session() as session:
        upsert_posts(session, get_or_create_source(session, FORUM), _batch("旧的"))
    real = ingest._stored
    calls: list[list[str]] = []

    def blind_first(session, source, external_ids):  # the SELECT ran before the other commit
        calls.append(external_ids)
        return {} if len(calls) == 1 else real(session, source, external_ids)

    monkeypatch.setattr(ingest, "_stored", blind_first)
    with db.session() as session:
        new = upsert_posts(session, get_or_create_source(session, FORUM), _batch("新的", "第二"))
    assert new == 1 and calls[1] == ["t/0"]
    stored = _posts(db)
    assert len(stored) == 2 and stored["t/0"].text == "新的"


def test_two_workers_storing_the_same_posts_store_each_once(db: Database) -> None:
    items = _batch(*(f"帖子 {number}" for number in range(300)))
    with db.session() as session:
        get_or_create_source(session, FORUM)
    counts: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        for first in range(0, len(items), 50):
            with db.session() as session:
                source = get_or_create_source(session, FORUM)
                counts.append(upsert_posts(session, source, items[first:first + 50]))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 300 and len(_posts(db)) == 300
