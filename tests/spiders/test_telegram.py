"""The telegram spider: the real saved t.me/s page and our fixture pages parsed in memory,
then real crawls of the fixture channel on loopback through ``run_crawls`` in a child.

The fixture channel ``chan`` has four pages linked by "load older" (``?before=<id>``):

    /s/chan              10 forwarded, 11 photo without caption, 12 signed, links, emoji
    /s/chan?before=10     7 text, 8 a reply (quotes 7), 9 a link showing its URL, a hashtag
    /s/chan?before=7      4 quote block, 5 Cyrillic, 6 service (pin); only <link rel=prev>
    /s/chan?before=4      1 service (channel created), 2 document caption, 3 text; oldest
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import scrapy

import spiders
from spiders.items import PostItem
from spiders.memory import DictMemory
from spiders.options import OptionsError
from spiders.registry import validate_options
from spiders.runner import CrawlOutcome, CrawlSpec
from spiders.telegram import TelegramSpider, parse_count
from tests.helpers import LoopbackServer, closed_port, loopback_server
from tests.spiders.crawl_child import crawl_in_child
from tests.spiders.responses import html_response

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "telegram"
REAL_HTML = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real_html"
REAL_PAGE = REAL_HTML / "telegram_tme_s_channel__shady2k-lifemodel.html"
PAGES = {  # path on the server → fixture file
    "/s/chan": "chan.html",
    "/s/chan?before=10": "chan_before_10.html",
    "/s/chan?before=7": "chan_before_7.html",
    "/s/chan?before=4": "chan_before_4.html",
}
ALL_PATHS = list(PAGES)
POSTS_BY_PAGE = {
    "/s/chan": ["chan/10", "chan/12"],
    "/s/chan?before=10": ["chan/7", "chan/8", "chan/9"],
    "/s/chan?before=7": ["chan/4", "chan/5"],
    "/s/chan?before=4": ["chan/2", "chan/3"],
}
ALL_POSTS = sorted(post for posts in POSTS_BY_PAGE.values() for post in posts)
OLDER_HALF = set(POSTS_BY_PAGE["/s/chan?before=7"] + POSTS_BY_PAGE["/s/chan?before=4"])


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def real_page() -> bytes:
    """The saved t.me/s page, read where the shared fixtures live (never copied here)."""
    if not REAL_PAGE.is_file():
        message = f"the saved Telegram page is missing: {REAL_PAGE}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return REAL_PAGE.read_bytes()


def make_spider(max_pages: int = 20, stored: set[str] | None = None) -> TelegramSpider:
    return TelegramSpider(source_name="tg", urls=["https://t.me/s/chan"], options={},
                          max_pages=max_pages, memory=DictMemory(stored_ids=stored or set()))


def parse(spider: TelegramSpider, url: str, body: bytes | str,
          **kwargs: Any) -> tuple[list[PostItem], list[scrapy.Request]]:
    output = list(spider.parse(html_response(url, body), **kwargs))
    posts = [out for out in output if isinstance(out, PostItem)]
    requests = [out for out in output if isinstance(out, scrapy.Request)]
    assert len(posts) + len(requests) == len(output)
    return posts, requests


# --- the real saved page ------------------------------------------------------------------


def test_the_real_saved_page() -> None:
    spider = make_spider()
    posts, requests = parse(spider, "https://t.me/s/test_channel", real_page())
    # 1003 is "Please open Telegram to view this post" only: no text, no post, no failure.
    assert [post.external_id for post in posts] == ["test_channel/1001", "test_channel/1010"]
    assert spider.failures == []
    album, forwarded = posts
    assert album.url == "https://t.me/test_channel/1001"
    assert album.posted_at == "2026-01-31T08:35:56+00:00"
    assert album.author == "Test_Channel"
    assert album.title is None
    assert album.text.startswith("This is a test message with multiple photos. ")
    assert album.text.endswith("situations.\n"
                               "Telegram (https://t.me/test_channel) | Admin (https://t.me/TestBot)")
    assert album.meta == {"channel": "Test_Channel", "views": 2500}
    assert forwarded.posted_at == "2026-01-31T09:41:27+00:00"
    assert forwarded.meta == {
        "channel": "Test_Channel", "views": 1000,
        "forwarded_from": {"name": "Another Channel", "url": "https://t.me/another_channel/500"},
    }
    # The saved page nests one text block in another: the text must come once, by lines.
    assert forwarded.text.count("Key updates:") == 1
    assert "Key updates:\n- Brick masonry on balconies completed\n- Roof repairs finished" in (
        forwarded.text)
    assert forwarded.text.endswith("mobilized.\nRestoration work will continue until full "
                                   "completion.")
    [older] = requests
    assert older.url == "https://t.me/s/test_channel?before=1001"
    assert older.cb_kwargs == {"page": 2}
    assert older.errback == spider.record_failure


def test_the_real_saved_page_at_max_pages_asks_for_nothing_older() -> None:
    _, requests = parse(make_spider(max_pages=1), "https://t.me/s/test_channel", real_page())
    assert requests == []


# --- the fixture pages, in memory -----------------------------------------------------------


def test_the_newest_page_gives_every_field() -> None:
    spider = make_spider()
    posts, requests = parse(spider, "https://t.me/s/chan", fixture("chan.html"))
    assert [post.external_id for post in posts] == ["chan/10", "chan/12"]  # 11: a bare photo
    assert spider.failures == []
    forwarded, signed = posts
    assert signed.text == ("🔥 代查 开房记录 / 户籍 / 病历\n"
                           "Medical records from any hospital, 24h.\n"
                           "Contact: @lookup_seller (https://t.me/lookup_seller) | "
                           "price list: here (https://example.test/prices)")
    assert signed.author == "Lao Wang", "the signature, not the channel"
    assert signed.url == "https://t.me/chan/12"
    assert signed.posted_at == "2026-03-02T09:15:00+00:00"
    assert signed.title is None
    assert signed.source == "tg"
    assert signed.meta == {"channel": "Chan Market", "views": 1200}
    assert forwarded.author == "Chan Market"
    assert forwarded.text == ("Fresh batch: 2,000 patient files (name, ID number, diagnosis).\n"
                              "Samples on request.")
    assert forwarded.meta == {
        "channel": "Chan Market", "views": 3_400_000,
        "forwarded_from": {"name": "Records Wholesale",
                           "url": "https://t.me/records_wholesale/301"},
    }
    assert [(r.url, r.cb_kwargs) for r in requests] == [
        ("https://t.me/s/chan?before=10", {"page": 2})]


def test_a_reply_leaves_out_the_message_it_quotes() -> None:
    posts, requests = parse(make_spider(), "https://t.me/s/chan?before=10",
                            fixture("chan_before_10.html"), page=2)
    texts = {post.external_id: post.text for post in posts}
    assert texts == {
        "chan/7": "Need records? Send the full name and city.\nОбработка за 1 час.",
        "chan/8": "Yes, 300 USDT, delivery the same day.",
        "chan/9": "Price list updated: https://example.test/list #price",
    }
    # The "newer" link (data-after) is on this page too; only the older one is followed.
    assert [(r.url, r.cb_kwargs) for r in requests] == [
        ("https://t.me/s/chan?before=7", {"page": 3})]


def test_a_quoted_text_is_left_out_even_without_its_reply_marker() -> None:
    """Older markup gave the quoted text no ``js-message_reply_text``: being inside the
    reply block is what tells it apart."""
    page = fixture("chan_before_10.html").decode()
    marked = "tgme_widget_message_text js-message_reply_text"
    assert page.count(marked) == 1
    posts, _ = parse(make_spider(), "https://t.me/s/chan?before=10",
                     page.replace(marked, "tgme_widget_message_text"), page=2)
    [reply] = [post for post in posts if post.external_id == "chan/8"]
    assert reply.text == "Yes, 300 USDT, delivery the same day."


def test_service_messages_are_not_posts_and_link_rel_prev_leads_on() -> None:
    spider = make_spider()
    posts, requests = parse(spider, "https://t.me/s/chan?before=7",
                            fixture("chan_before_7.html"), page=3)
    assert {post.external_id: post.text for post in posts} == {
        "chan/4": "Reviews:\nGot the file in two hours, all correct.\nThanks for trusting us!",
        "chan/5": "Паспорт + СНИЛС по фамилии, 1500 ₽",
    }
    assert posts[1].meta["views"] == 987
    assert [r.url for r in requests] == ["https://t.me/s/chan?before=4"]
    assert spider.failures == []


def test_the_oldest_page_has_nothing_older() -> None:
    spider = make_spider()
    posts, requests = parse(spider, "https://t.me/s/chan?before=4",
                            fixture("chan_before_4.html"), page=4)
    assert [(post.external_id, post.text) for post in posts] == [
        ("chan/2", "Sample of the database (10 rows)."),
        ("chan/3", "Channel rules: payment first, no refunds."),
    ]
    assert requests == []
    assert spider.failures == []


def test_the_older_page_is_joined_to_the_response_url() -> None:
    _, requests = parse(make_spider(), "http://127.0.0.1:8123/s/chan", fixture("chan.html"))
    assert [r.url for r in requests] == ["http://127.0.0.1:8123/s/chan?before=10"]


def test_a_load_older_link_without_href_is_built_from_data_before() -> None:
    page = fixture("chan.html").decode().replace(
        '<a href="/s/chan?before=10" class="tme_messages_more', '<a class="tme_messages_more')
    assert 'href="/s/chan?before=10" class' not in page
    page = page.replace('<link rel="prev" href="/s/chan?before=10">', "")
    _, requests = parse(make_spider(), "https://t.me/s/chan", page)
    assert [r.url for r in requests] == ["https://t.me/s/chan?before=10"]


def test_a_page_of_photos_only_is_no_failure_and_no_sign_of_being_caught_up() -> None:
    page = fixture("chan.html").decode()
    start = page.index("<!-- Message 12")
    photos_only = page[:page.index("<!-- Message 10")] + page[page.index("<!-- Message 11"):start]
    photos_only += page[page.rindex("    </section>"):]
    assert "chan/11" in photos_only and "chan/10" not in photos_only and "chan/12" not in photos_only
    spider = make_spider(stored=set(ALL_POSTS))
    posts, requests = parse(spider, "https://t.me/s/chan", photos_only)
    assert posts == []
    assert spider.failures == []
    assert [r.url for r in requests] == ["https://t.me/s/chan?before=10"]


def test_a_page_whose_posts_are_all_stored_ends_the_paging() -> None:
    spider = make_spider(stored={"chan/10", "chan/12", "chan/3"})
    posts, requests = parse(spider, "https://t.me/s/chan", fixture("chan.html"))
    assert [post.external_id for post in posts] == ["chan/10", "chan/12"], (
        "yielded again: a stored message may have been edited")
    assert requests == []


def test_one_new_post_on_the_page_means_older_pages_are_loaded() -> None:
    spider = make_spider(stored={"chan/10"})
    _, requests = parse(spider, "https://t.me/s/chan", fixture("chan.html"))
    assert [r.url for r in requests] == ["https://t.me/s/chan?before=10"]


def test_an_empty_channel_is_a_failure() -> None:
    spider = make_spider()
    posts, requests = parse(spider, "https://t.me/s/empty", fixture("empty.html"))
    assert (posts, requests) == ([], [])
    assert spider.failures == ["https://t.me/s/empty: no messages on the channel page"]


def test_a_page_that_is_not_a_channel_preview_is_a_failure() -> None:
    landing = ("<html><body><div class='tgme_page'><div class='tgme_page_title'>Chan Market"
               "</div><a class='tgme_action_button_new' href='tg://resolve?domain=chan'>"
               "View in Telegram</a></div></body></html>")
    spider = make_spider()
    posts, requests = parse(spider, "https://t.me/chan", landing)
    assert (posts, requests) == ([], [])
    [line] = spider.failures
    assert line.startswith("https://t.me/chan: no messages and no message history on the page")
    assert "https://t.me/s/<channel>" in line


@pytest.mark.parametrize(("shown", "count"), [
    ("845", 845), ("1K", 1000), ("1.2K", 1200), ("12.3K", 12_300), ("2.5k", 2500),
    ("3.4M", 3_400_000), ("1.05M", 1_050_000), ("2B", 2_000_000_000), (" 7 ", 7),
    ("", None), (None, None), ("1.2X", None), ("views", None), ("1,2K", None),
])
def test_view_counters(shown: str | None, count: int | None) -> None:
    assert parse_count(shown) == count


def test_the_kind_is_registered_and_takes_no_options() -> None:
    assert spiders.SPIDERS["telegram"] is spiders.TelegramSpider is TelegramSpider
    validate_options("telegram", {})
    with pytest.raises(OptionsError) as error:
        validate_options("telegram", {"max_pages": 5})
    assert error.value.field == "max_pages"
    assert "unknown option" in error.value.message


# --- real crawls on loopback ------------------------------------------------------------------


def serve_channel(server: LoopbackServer) -> LoopbackServer:
    for path, name in PAGES.items():
        server.add(path, fixture(name))
    server.add("/s/empty", fixture("empty.html"))
    return server


def page_requests(server: LoopbackServer) -> list[str]:
    return [request.path for request in server.requests if request.path != "/robots.txt"]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, LoopbackServer]]:
    """One server per crawl, so each crawl's requests are counted alone."""
    with ExitStack() as stack:
        yield {name: serve_channel(stack.enter_context(loopback_server()))
               for name in ("full", "two", "empty", "all", "half")}


def summary(outcome: CrawlOutcome) -> tuple[int, list[str], str | None]:
    """What these tests check of an outcome: posts, failure lines, why it never ran."""
    return outcome.items, outcome.failures, outcome.error


def by_source(items: list[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in items:
        assert "mark" not in item
        found.setdefault(item["source"], []).append(item)
    return found


@pytest.fixture(scope="module")
def first_crawl(servers: dict[str, LoopbackServer], tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[dict[str, CrawlOutcome], dict[str, list[dict]]]:
    specs = [
        CrawlSpec("tg-full", "telegram", [servers["full"].url("/s/chan")], {}, max_pages=20),
        CrawlSpec("tg-two", "telegram", [servers["two"].url("/s/chan")], {}, max_pages=2),
        CrawlSpec("tg-empty", "telegram", [servers["empty"].url("/s/empty")], {}),
        CrawlSpec("tg-dead", "telegram", [f"http://127.0.0.1:{closed_port()}/s/chan"], {}),
    ]
    outcomes, items = crawl_in_child(specs, tmp_path_factory.mktemp("tg1") / "items.jsonl")
    return {outcome.source: outcome for outcome in outcomes}, by_source(items)


@pytest.fixture(scope="module")
def second_crawl(servers: dict[str, LoopbackServer], first_crawl: tuple[dict, dict],
                 tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[dict[str, CrawlOutcome], dict[str, list[dict]]]:
    """The channel crawled again, knowing what the first crawl stored: all of it, or only
    its older half (as if the newer pages had come since)."""
    stored = {item["external_id"] for item in first_crawl[1]["tg-full"]}
    assert stored == set(ALL_POSTS)
    specs = [
        CrawlSpec("tg-all", "telegram", [servers["all"].url("/s/chan")], {}, max_pages=20),
        CrawlSpec("tg-half", "telegram", [servers["half"].url("/s/chan")], {}, max_pages=20),
    ]
    memories = {"tg-all": DictMemory(stored_ids=stored),
                "tg-half": DictMemory(stored_ids=stored & OLDER_HALF)}
    outcomes, items = crawl_in_child(specs, tmp_path_factory.mktemp("tg2") / "items.jsonl",
                                     memories=memories)
    return {outcome.source: outcome for outcome in outcomes}, by_source(items)


def test_a_first_crawl_walks_every_page(servers: dict[str, LoopbackServer],
                                        first_crawl: tuple[dict, dict]) -> None:
    outcomes, items = first_crawl
    assert summary(outcomes["tg-full"]) == (len(ALL_POSTS), [], None)
    assert page_requests(servers["full"]) == ALL_PATHS
    posts = {item["external_id"]: item for item in items["tg-full"]}
    assert sorted(posts) == ALL_POSTS
    signed = posts["chan/12"]
    assert signed["url"] == "https://t.me/chan/12", "the permalink the page gives"
    assert (signed["author"], signed["posted_at"]) == ("Lao Wang", "2026-03-02T09:15:00+00:00")
    assert signed["meta"] == {"channel": "Chan Market", "views": 1200}
    assert posts["chan/10"]["meta"]["forwarded_from"]["name"] == "Records Wholesale"


def test_max_pages_bounds_the_load_older_pages(servers: dict[str, LoopbackServer],
                                               first_crawl: tuple[dict, dict]) -> None:
    outcomes, items = first_crawl
    assert page_requests(servers["two"]) == ["/s/chan", "/s/chan?before=10"]
    assert summary(outcomes["tg-two"]) == (5, [], None)
    assert sorted(item["external_id"] for item in items["tg-two"]) == sorted(
        POSTS_BY_PAGE["/s/chan"] + POSTS_BY_PAGE["/s/chan?before=10"])


def test_a_second_crawl_with_everything_stored_asks_only_for_the_first_page(
        servers: dict[str, LoopbackServer], second_crawl: tuple[dict, dict]) -> None:
    outcomes, items = second_crawl
    assert page_requests(servers["all"]) == ["/s/chan"]
    assert summary(outcomes["tg-all"]) == (2, [], None)
    assert [item["external_id"] for item in items["tg-all"]] == POSTS_BY_PAGE["/s/chan"]


def test_with_the_older_half_stored_it_stops_at_the_first_fully_stored_page(
        servers: dict[str, LoopbackServer], second_crawl: tuple[dict, dict]) -> None:
    outcomes, _ = second_crawl
    assert page_requests(servers["half"]) == ["/s/chan", "/s/chan?before=10",
                                              "/s/chan?before=7"]
    assert summary(outcomes["tg-half"]) == (7, [], None)


def test_an_empty_channel_page_is_a_failure_line(servers: dict[str, LoopbackServer],
                                                 first_crawl: tuple[dict, dict]) -> None:
    outcomes, items = first_crawl
    assert summary(outcomes["tg-empty"]) == (
        0, [f"{servers['empty'].url('/s/empty')}: no messages on the channel page"], None)
    assert "tg-empty" not in items


def test_a_channel_url_that_is_down_is_a_failure_line(first_crawl: tuple[dict, dict]) -> None:
    outcomes, items = first_crawl
    [line] = outcomes["tg-dead"].failures
    assert line.endswith("/s/chan: Connection refused")
    assert outcomes["tg-dead"].items == 0
    assert "tg-dead" not in items


def test_the_real_saved_page_over_a_real_socket(http_server: LoopbackServer,
                                                tmp_path: Path) -> None:
    http_server.add("/s/test_channel", real_page())
    outcomes, items = crawl_in_child(
        [CrawlSpec("tg-real", "telegram", [http_server.url("/s/test_channel")], {})],
        tmp_path / "items.jsonl")
    [outcome] = outcomes
    assert [item["external_id"] for item in items] == ["test_channel/1001", "test_channel/1010"]
    # Its "load older" link is relative, so it stays on this server, where nothing is there.
    assert page_requests(http_server) == ["/s/test_channel", "/s/test_channel?before=1001"]
    assert outcome.failures == [
        f"{http_server.url('/s/test_channel?before=1001')}: HTTP 404 Not Found"]
