"""The demo site and its loopback server: what ``doxwatch demo`` crawls must be whole.

The site is fetched over a real socket, as the spiders will fetch it; the forum's
selectors are checked on every thread page with Scrapy's own selector engine, and the
answer key (expected.json) is checked against what the site actually links to.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser
from xml.etree import ElementTree

import httpx
import pytest
from scrapy.http import HtmlResponse

from models import CATEGORIES
from monitor.demo_server import (
    DEMO_SITE,
    FORUM_SELECTORS,
    demo_sources,
    expected_labels,
    serve_demo_site,
)

GBK_THREAD = "/forum/thread-107.html"
LIST_PAGES = ["/forum/", "/forum/list-2.html", "/forum/list-3.html"]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_demo_site() as base:
        yield base


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=5.0) as http:
        yield http


def _html(client: httpx.Client, path: str) -> HtmlResponse:
    """Fetch a page and hand it to Scrapy with the server's headers, as a crawl would."""
    reply = client.get(path)
    assert reply.status_code == 200, path
    return HtmlResponse(url=str(reply.url), body=reply.content,
                        headers={"Content-Type": reply.headers["content-type"]})


def _walk_list_pages(client: httpx.Client) -> tuple[list[str], set[str]]:
    """Follow ``next_page`` from the first list page: (pages visited, thread paths linked)."""
    pages: list[str] = []
    threads: set[str] = set()
    path: str | None = demo_sources(str(client.base_url))[0]["urls"][0]
    while path is not None:
        page = _html(client, path)
        pages.append(urlsplit(page.url).path)
        threads.update(urlsplit(page.urljoin(href)).path
                       for href in page.css(FORUM_SELECTORS["item_links"]).getall())
        next_href = page.css(FORUM_SELECTORS["next_page"]).get()
        path = urljoin(page.url, next_href) if next_href else None
        assert len(pages) <= len(LIST_PAGES), "the next-page links loop"
    return pages, threads


def _feed(client: httpx.Client) -> ElementTree.Element:
    reply = client.get("/feed.xml")
    assert reply.status_code == 200
    return ElementTree.fromstring(reply.content)


def _raw_status(base_url: str, target: str) -> tuple[int, bytes]:
    """Send ``target`` byte for byte: httpx would normalise ``..`` away before sending."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("GET", target)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("path", "content_type"), [
    ("/", "text/html; charset=utf-8"),
    ("/forum/", "text/html; charset=utf-8"),
    ("/forum/list-2.html", "text/html; charset=utf-8"),
    ("/forum/list-3.html", "text/html; charset=utf-8"),
    ("/forum/thread-101.html", "text/html; charset=utf-8"),
    (GBK_THREAD, "text/html"),
    ("/feed.xml", "application/rss+xml; charset=utf-8"),
    ("/robots.txt", "text/plain; charset=utf-8"),
])
def test_serves_pages_with_their_content_type(client: httpx.Client, path: str,
                                              content_type: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == content_type
    assert int(reply.headers["content-length"]) == len(reply.content) > 0


def test_head_sends_headers_without_a_body(base_url: str) -> None:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("HEAD", "/forum/")
        reply = conn.getresponse()
        assert reply.status == 200
        assert int(reply.getheader("Content-Length")) > 0
        assert reply.read() == b""
    finally:
        conn.close()


def test_gbk_page_is_declared_only_in_the_page_and_decodes(client: httpx.Client) -> None:
    raw = client.get(GBK_THREAD).content
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b'<meta charset="gbk">' in raw
    page = _html(client, GBK_THREAD)
    title = page.css(FORUM_SELECTORS["title"]).get()
    assert title == re.search(r"<h1>(.*?)</h1>", raw.decode("gbk")).group(1)
    assert "户籍" in title
    assert "开房记录" in "".join(page.css("div.post ::text").getall())


@pytest.mark.parametrize("target", [
    "/../pyproject.toml",
    "/../../pyproject.toml",
    "/%2e%2e/pyproject.toml",
    "/%2E%2E/%2e%2e/pyproject.toml",
    "/../__init__.py",
    "/%2e%2e/demo_server.py",
    "/..%2fdemo_server.py",
    "/forum/../../demo_server.py",
    "/forum/%2e%2e/%2e%2e/__init__.py",
    "/..\\demo_server.py",
    "/forum/%00thread-101.html",
    "forum/index.html",
])
def test_paths_outside_the_site_are_refused(base_url: str, target: str) -> None:
    status, body = _raw_status(base_url, target)
    assert status in (403, 404)
    assert b"import" not in body and b"[project]" not in body


@pytest.mark.parametrize("target", [
    "/../outside.html",
    "/%2e%2e/outside.html",
    "/%2E%2E/outside.txt",
    "/..%2foutside.html",
    "/forum/../../outside.html",
    "/forum/%2e%2e/%2e%2e/outside.txt",
    "/.hidden.html",
])
def test_nothing_beside_the_site_leaks(tmp_path: Path, target: str) -> None:
    """Files a traversal would reach exist and would be served: only the guard stops them."""
    site = tmp_path / "site"
    (site / "forum").mkdir(parents=True)
    (site / "index.html").write_text('<meta charset="utf-8">inside', encoding="utf-8")
    for name in ("outside.html", "outside.txt", "site/.hidden.html"):
        (tmp_path / name).write_text('<meta charset="utf-8">SECRET', encoding="utf-8")
    with serve_demo_site(site=site) as base:
        assert _raw_status(base, "/")[0] == 200
        status, body = _raw_status(base, target)
    assert status in (403, 404)
    assert b"SECRET" not in body


@pytest.mark.parametrize("path", ["/expected.json", "/README.md", "/static/", "/forum/thread-1.html"])
def test_files_outside_the_site_proper_are_not_served(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_a_directory_without_its_slash_redirects(client: httpx.Client) -> None:
    reply = client.get("/forum")
    assert reply.status_code == 301
    assert reply.headers["location"] == "/forum/"


def test_robots_allows_everything(client: httpx.Client, base_url: str) -> None:
    robots = RobotFileParser()
    robots.parse(client.get("/robots.txt").text.splitlines())
    assert robots.can_fetch("doxwatch", f"{base_url}/forum/thread-101.html")
    assert robots.can_fetch("*", f"{base_url}/feed.xml")


def test_list_pages_chain_by_next_links_and_the_last_has_none(client: httpx.Client) -> None:
    pages, _threads = _walk_list_pages(client)
    assert pages == LIST_PAGES


def test_linked_threads_exist_and_every_thread_is_linked(client: httpx.Client) -> None:
    _pages, linked = _walk_list_pages(client)
    on_disk = {f"/forum/{item.name}" for item in (DEMO_SITE / "forum").iterdir()
               if item.name.startswith("thread-")}
    assert linked == on_disk
    assert all(client.get(path).status_code == 200 for path in linked)


def test_thread_pages_answer_every_forum_selector(client: httpx.Client) -> None:
    _pages, linked = _walk_list_pages(client)
    for path in sorted(linked):
        page = _html(client, path)
        assert len(page.css("h1")) == len(page.css("div.post")) == 1, path
        assert page.css(FORUM_SELECTORS["title"]).get().strip(), path
        assert page.css(FORUM_SELECTORS["author"]).get().strip(), path
        posted_at = datetime.fromisoformat(page.css(FORUM_SELECTORS["posted_at"]).get())
        assert posted_at.utcoffset() is not None, path
        visible = page.css(FORUM_SELECTORS["text"]).xpath(
            ".//text()[not(ancestor::script) and not(ancestor::style)]").getall()
        assert len("".join(visible).strip()) > 40, path


def test_some_posts_carry_markup_the_text_must_drop(client: httpx.Client) -> None:
    """A crawler must keep the words and drop scripts: the demo has posts that test it."""
    _pages, linked = _walk_list_pages(client)
    posts = [_html(client, path).css("div.post") for path in sorted(linked)]
    assert sum(bool(post.css("script")) for post in posts) >= 2
    assert any(post.css("style") for post in posts)
    assert any(post.css("br") for post in posts)


def test_feed_is_rss_2_with_complete_items(client: httpx.Client) -> None:
    rss = _feed(client)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    items = rss.findall("./channel/item")
    assert len(items) >= 10
    for item in items:
        for field in ("guid", "link", "title", "description", "pubDate"):
            assert (item.findtext(field) or "").strip(), field
        assert parsedate_to_datetime(item.findtext("pubDate")).utcoffset() is not None
    guids = [item.findtext("guid") for item in items]
    assert len(set(guids)) == len(guids)


def test_every_expected_post_is_on_the_site_and_every_post_is_expected(
        client: httpx.Client) -> None:
    _pages, linked = _walk_list_pages(client)
    guids = {item.findtext("guid") for item in _feed(client).findall("./channel/item")}
    assert set(expected_labels()) == linked | guids


def test_the_mix_of_offers_and_benign_posts() -> None:
    labels = expected_labels()
    offers = [found for found in labels.values() if found]
    benign = [found for found in labels.values() if not found]
    assert 36 <= len(labels) <= 46
    assert 12 <= len(offers) <= 16
    assert len(benign) >= 20
    assert {category for found in offers for category in found} == set(CATEGORIES)
    assert all(set(found) <= set(CATEGORIES) and len(set(found)) == len(found)
               for found in offers)
    assert sum(len(found) > 1 for found in offers) >= 2


def test_expected_labels_reads_the_shipped_answer_key() -> None:
    raw = json.loads((DEMO_SITE / "expected.json").read_text(encoding="utf-8"))
    assert expected_labels() == {key: tuple(found) for key, found in raw.items()}
    assert "/forum/thread-101.html" in raw


def _site_texts() -> Iterator[str]:
    """Every file of the site as text, each page decoded as it declares itself."""
    pending = [DEMO_SITE]
    while pending:
        node = pending.pop()
        if node.is_dir():
            pending.extend(node.iterdir())
            continue
        raw = node.read_bytes()
        is_gbk_page = node.name.endswith(".html") and b'<meta charset="gbk">' in raw[:1024]
        yield raw.decode("gbk" if is_gbk_page else "utf-8")


def test_no_sentence_is_copied_from_the_seed_articles(seeds_dir: Path) -> None:
    site = "\n".join(_site_texts())
    for seed in sorted(seeds_dir.glob("*.txt")):
        sentences = re.split(r"[。！？!?；;\n]", seed.read_text(encoding="utf-8"))
        copied = [s.strip() for s in sentences if len(s.strip()) >= 15 and s.strip() in site]
        assert not copied, f"{seed.name}: {copied[:3]}"


def test_demo_sources_point_at_the_served_site(client: httpx.Client, base_url: str) -> None:
    forum, feed = demo_sources(base_url + "/")
    assert (forum["kind"], feed["kind"]) == ("generic", "feed")
    assert forum["name"] != feed["name"]
    assert forum["options"] == FORUM_SELECTORS
    assert forum["urls"] == [f"{base_url}/forum/"]
    assert feed["urls"] == [f"{base_url}/feed.xml"]
    for source in (forum, feed):
        assert client.get(source["urls"][0]).status_code == 200


def test_only_loopback_addresses_are_accepted() -> None:
    with pytest.raises(ValueError, match="loopback"), serve_demo_site(host="0.0.0.0"):
        pass


def test_the_server_stops_when_the_block_ends() -> None:
    with serve_demo_site() as base:
        assert httpx.get(f"{base}/robots.txt", timeout=5.0).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/robots.txt", timeout=5.0)
