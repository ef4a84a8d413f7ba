"""Both spiders against a real HTTP server on loopback, through ``run_crawls`` in a child.

One child process crawls every source of the module's site at once — as ``monitor/`` runs
its sources — and each test checks one source's outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spiders.runner import CrawlOutcome, CrawlSpec
from tests.helpers import LoopbackServer, closed_port, loopback_server
from tests.spiders.crawl_child import crawl_in_child

FORUM_OPTIONS = {
    "item_links": "a.thread::attr(href)",
    "title": "h1::text",
    "text": "div.post",
    "next_page": "a.next::attr(href)",
    "author": "span.author::text",
    "posted_at": "time::attr(datetime)",
}
MAX_PAGE_BYTES = 4000
GBK_TEXT = "专业代查户籍信息，当天出单，价格私聊"


def list_page(threads: list[int], next_page: str | None) -> str:
    links = "".join(f'<li><a class="thread" href="/thread/{n}">thread {n}</a></li>'
                    for n in threads)
    more = f'<a class="next" href="{next_page}">next</a>' if next_page else ""
    return f"<html><body><ul>{links}</ul>{more}</body></html>"


def thread_page(number: int) -> str:
    return (f"<html><body><h1>Thread {number}</h1><span class='author'>user{number}</span>"
            f"<time datetime='2025-06-0{number}T10:00:00+08:00'></time>"
            f"<div class='post'><p>Body of thread {number}</p></div></body></html>")


def rss(items: str) -> str:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>c</title>{items}</channel></rss>'


def serve_site(server: LoopbackServer) -> None:
    server.add("/forum/", list_page([1, 2], "/forum/?page=2"))
    server.add("/forum/?page=2", list_page([3], "/forum/?page=3"))
    server.add("/forum/?page=3", list_page([4], None))
    for number in (1, 2, 3, 4):
        server.add(f"/thread/{number}", thread_page(number))
    server.add("/feed.xml", rss(
        "<item><guid>a-1</guid><link>/thread/1</link><description>first entry</description>"
        "<pubDate>Tue, 03 Jun 2025 09:30:00 +0800</pubDate></item>"
        "<item><link>/thread/9</link><description>&lt;b&gt;second&lt;/b&gt;</description></item>"
    ), content_type="application/rss+xml")
    server.add("/empty.xml", rss(""), content_type="application/rss+xml")
    server.add("/not-a-feed.xml", "<html><body><p>Welcome</p></body></html>")
    server.add("/gbk/", ('<html><head><meta charset="gbk"></head><body>'
                         '<a class="thread" href="/gbk/1">帖子</a></body></html>').encode("gbk"),
               content_type="text/html")
    server.add("/gbk/1", ('<html><head><meta http-equiv="Content-Type" '
                          'content="text/html; charset=gb2312"></head><body><h1>标题</h1>'
                          f"<div class='post'>{GBK_TEXT}</div></body></html>").encode("gbk"),
               content_type="text/html")
    server.add("/broken/", "<html><body><a class='thread' href='/broken/1'>x</a>")
    server.add("/broken/1", "<h1>Broken<div class='post'><p>still <b>readable<p>text")
    server.add("/big/", list_page([1], None) + "<!--" + "x" * MAX_PAGE_BYTES + "-->")


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackServer]:
    with loopback_server() as server:
        serve_site(server)
        yield server


@pytest.fixture(scope="module")
def crawled(site: LoopbackServer, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[dict[str, CrawlOutcome], dict[str, list[dict]]]:
    dead = f"http://127.0.0.1:{closed_port()}/forum/"
    specs = [
        CrawlSpec("forum", "generic", [site.url("/forum/")], FORUM_OPTIONS, max_pages=2),
        CrawlSpec("feed", "feed", [site.url("/feed.xml")], {}),
        CrawlSpec("empty-feed", "feed", [site.url("/empty.xml")], {}),
        CrawlSpec("not-a-feed", "feed", [site.url("/not-a-feed.xml")], {}),
        CrawlSpec("gbk", "generic", [site.url("/gbk/")], FORUM_OPTIONS),
        CrawlSpec("broken", "generic", [site.url("/broken/")], FORUM_OPTIONS),
        CrawlSpec("missing", "generic", [site.url("/gone/")], FORUM_OPTIONS),
        CrawlSpec("dead", "generic", [dead], FORUM_OPTIONS),
        CrawlSpec("big", "generic", [site.url("/big/")], FORUM_OPTIONS),
        CrawlSpec("misconfigured", "generic", [site.url("/forum/")], {"text": "div.post"}),
    ]
    items_path = tmp_path_factory.mktemp("crawl") / "items.jsonl"
    outcomes, items = crawl_in_child(specs, items_path, max_page_bytes=MAX_PAGE_BYTES)
    by_source: dict[str, list[dict]] = {spec.source: [] for spec in specs}
    for item in items:
        by_source[item["source"]].append(item)
    assert [outcome.source for outcome in outcomes] == [spec.source for spec in specs]
    return {outcome.source: outcome for outcome in outcomes}, by_source


def test_forum_list_pages_lead_to_every_thread_up_to_max_pages(
        site: LoopbackServer, crawled: tuple[dict, dict]) -> None:
    outcomes, items = crawled
    assert outcomes["forum"] == CrawlOutcome("forum", items=3, failures=[], error=None, pages=6)
    posts = sorted(items["forum"], key=lambda item: item["external_id"])
    assert [post["external_id"] for post in posts] == [site.url(f"/thread/{n}") for n in (1, 2, 3)]
    assert posts[0]["title"] == "Thread 1"
    assert posts[0]["text"] == "Body of thread 1"
    assert posts[0]["author"] == "user1"
    assert posts[0]["posted_at"] == "2025-06-01T10:00:00+08:00"
    paths = [request.path for request in site.requests]
    assert "/forum/?page=3" not in paths, "max_pages=2 stops at the second list page"


def test_robots_txt_is_asked_and_the_user_agent_sent(site: LoopbackServer,
                                                     crawled: tuple[dict, dict]) -> None:
    robots = [request for request in site.requests if request.path == "/robots.txt"]
    assert robots
    assert {request.headers.get("User-Agent") for request in robots} == {"doxwatch-tests"}


def test_rss_feed(crawled: tuple[dict, dict], site: LoopbackServer) -> None:
    outcomes, items = crawled
    assert outcomes["feed"] == CrawlOutcome("feed", items=2, failures=[], error=None, pages=2)
    first, second = items["feed"]
    assert (first["external_id"], first["text"]) == ("a-1", "first entry")
    assert first["posted_at"] == "2025-06-03T09:30:00+08:00"
    assert (second["external_id"], second["text"]) == (site.url("/thread/9"), "second")


def test_an_empty_feed_is_no_failure(crawled: tuple[dict, dict]) -> None:
    outcomes, items = crawled
    assert outcomes["empty-feed"] == CrawlOutcome("empty-feed", items=0, failures=[], pages=2)
    assert items["empty-feed"] == []


def test_a_page_that_is_not_a_feed(crawled: tuple[dict, dict], site: LoopbackServer) -> None:
    outcomes, _ = crawled
    assert outcomes["not-a-feed"].failures == [
        f"{site.url('/not-a-feed.xml')}: not an RSS or Atom feed"
    ]


def test_gbk_pages_without_charset_in_the_header(crawled: tuple[dict, dict]) -> None:
    outcomes, items = crawled
    assert outcomes["gbk"].failures == []
    [post] = items["gbk"]
    assert (post["title"], post["text"]) == ("标题", GBK_TEXT)


def test_broken_html(crawled: tuple[dict, dict]) -> None:
    _, items = crawled
    [post] = items["broken"]
    assert post["title"] == "Broken"
    assert post["text"] == "still readable\ntext"


def test_a_404(crawled: tuple[dict, dict], site: LoopbackServer) -> None:
    outcomes, _ = crawled
    assert outcomes["missing"] == CrawlOutcome(
        "missing", items=0, failures=[f"{site.url('/gone/')}: HTTP 404 Not Found"], pages=2)


def test_a_connection_refused(crawled: tuple[dict, dict]) -> None:
    outcomes, _ = crawled
    [line] = outcomes["dead"].failures
    assert line.endswith("/forum/: Connection refused")
    assert outcomes["dead"].items == 0


def test_a_page_over_the_size_cap_is_dropped_and_recorded(crawled: tuple[dict, dict],
                                                          site: LoopbackServer) -> None:
    outcomes, items = crawled
    assert outcomes["big"].failures == [
        f"{site.url('/big/')}: page larger than the {MAX_PAGE_BYTES}-byte size limit, dropped"
    ]
    assert items["big"] == []


def test_a_source_that_cannot_start_does_not_stop_the_others(crawled: tuple[dict, dict]) -> None:
    outcomes, _ = crawled
    broken = outcomes["misconfigured"]
    assert broken.error is not None and "item_links" in broken.error
    assert (broken.items, broken.failures) == (0, [])
    assert outcomes["forum"].items == 3


def test_feed_follow_and_robots_disallow(http_server: LoopbackServer, tmp_path: Path) -> None:
    http_server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n",
                    content_type="text/plain")
    http_server.add("/feed.xml", rss(
        "<item><guid>e-1</guid><link>/story/1</link><description>teaser</description></item>"
        "<item><guid>e-2</guid><link>/story/2</link><description>kept teaser</description></item>"
    ), content_type="application/rss+xml")
    http_server.add("/story/1", "<html><body><nav>menu</nav><article><p>the full story</p>"
                                "</article></body></html>")
    http_server.add("/private/", list_page([1], None))
    specs = [
        CrawlSpec("follow", "feed", [http_server.url("/feed.xml")], {"follow": True}),
        CrawlSpec("private", "generic", [http_server.url("/private/")], FORUM_OPTIONS),
    ]
    outcomes, items = crawl_in_child(specs, tmp_path / "items.jsonl")
    follow, private = outcomes
    assert follow.items == 2
    assert follow.failures == [f"{http_server.url('/story/2')}: HTTP 404 Not Found"]
    texts = {item["external_id"]: item["text"] for item in items}
    assert texts == {"e-1": "the full story", "e-2": "kept teaser"}
    assert private.failures == [f"{http_server.url('/private/')}: Forbidden by robots.txt"]
    assert "/private/" not in [request.path for request in http_server.requests]
