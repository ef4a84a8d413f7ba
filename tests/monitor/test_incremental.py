"""Incremental crawling through `doxwatch crawl` and the database (SQLite and PostgreSQL):
the marks a crawl stores make the next crawl of an unchanged board ask only for its list
pages, and each crawl run records its pages and errors."""

from __future__ import annotations

from sqlalchemy import func, select

from monitor.db import open_database
from monitor.db.schema import CrawlRun, Post, SourceMark
from tests.helpers import loopback_server
from tests.monitor.cli_helpers import run_cli, write_config
from tests.spiders.test_discuz import BBS_LIST_PAGES, BBS_THREAD_PAGES, serve_boards


def _counts(url: str) -> tuple[int, int, list[tuple[int, int, int]]]:
    db = open_database(url)
    with db.session() as session:
        posts = session.scalar(select(func.count(Post.id)))
        marks = session.scalar(select(func.count()).select_from(SourceMark))
        runs = session.execute(select(CrawlRun.pages, CrawlRun.items, CrawlRun.errors,
                                      CrawlRun.unchanged).order_by(CrawlRun.id)).all()
    db.dispose()
    return posts, marks, [tuple(run) for run in runs]


def test_a_recrawl_of_an_unchanged_board_asks_only_for_its_list_pages(capsys, tmp_path,
                                                                     db_url):
    with loopback_server() as server:
        serve_boards(server, {**BBS_LIST_PAGES, **BBS_THREAD_PAGES})
        config = write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "{db_url}"
[crawl]
delay = 0
[[sources]]
name = "bbs"
kind = "discuz"
urls = ["{server.url('/forum.php?mod=forumdisplay&fid=2')}"]
""")
        assert run_cli(capsys, "--config", str(config), "db", "upgrade").code == 0
        first = run_cli(capsys, "--config", str(config), "crawl")
        assert first.code == 0, first.out + first.err
        posts, marks, runs = _counts(db_url)
        assert marks == 4 and posts > 4  # one mark per thread, after its posts
        assert "bbs: ok" in first.out and f"{posts} new" in first.out

        asked = len(server.requests)
        again = run_cli(capsys, "--config", str(config), "crawl")
        assert again.code == 0, again.out + again.err
        paths = sorted(r.path for r in server.requests[asked:] if r.path != "/robots.txt")
        assert paths == sorted(BBS_LIST_PAGES)  # no thread page fetched again
        assert "0 new" in again.out
        assert _counts(db_url)[0] == posts  # nothing stored twice

    first_run, second_run = _counts(db_url)[2]
    threads = marks  # one mark per thread
    # robots.txt, the list pages and every thread page (one thread has two pages)
    assert first_run == (1 + len(BBS_LIST_PAGES) + len(BBS_THREAD_PAGES), posts, 0, 0)
    # only robots.txt and the list pages; every thread seen unchanged, none broken
    assert second_run == (1 + len(BBS_LIST_PAGES), 0, 0, threads)
