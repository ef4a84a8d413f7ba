"""The tieba spider: list pages whose thread list hides in a pagelet comment, thread pages
of floors, and re-crawls that fetch only the threads whose listing changed.

The pages are the fixtures in ``fixtures/tieba/`` (each says at its top which real markup
it follows); small pages written here test single fallbacks. The first half parses
responses built in memory, the second crawls a loopback server in a child process.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import scrapy

from spiders import SPIDERS, OptionsError, TiebaSpider, validate_options
from spiders.dates import CHINA, iso_datetime
from spiders.items import PostItem
from spiders.memory import DictMemory, MarkItem
from spiders.runner import CrawlOutcome, CrawlSpec
from spiders.tieba import ThreadRow
from tests.helpers import LoopbackServer, loopback_server
from tests.spiders.crawl_child import crawl_in_child
from tests.spiders.responses import html_response

FIXTURES = Path(__file__).parent / "fixtures" / "tieba"
BASE = "https://tieba.baidu.com"
LIST = "/f?kw=%E6%9F%A5%E6%A1%A3&ie=utf-8"
LIST_PN50 = LIST + "&pn=50"
LIST_PN100 = LIST + "&pn=100"
ROUTES = {
    LIST: "list_pn0.html",
    LIST_PN50: "list_pn50.html",
    "/p/9100000003": "thread_9100000003.html",
    "/p/9100000001": "thread_9100000001.html",
    "/p/9100000001?pn=2": "thread_9100000001_pn2.html",
    "/p/9100000002": "thread_9100000002.html",
    "/p/9000000004": "thread_9000000004.html",
    "/p/9000000005": "thread_9000000005.html",
}
THREAD_PAGES = [path for path in ROUTES if path.startswith("/p/")]
SELLER = "9100000001"  # two pages, six floors; its reply count changes in a re-crawl
FLOORS = {  # thread -> floors that are posts (9100000002's floor 2 is only an image)
    "9100000003": [1, 2],
    "9100000001": [1, 2, 3, 4, 5, 6],
    "9100000002": [1, 3],
    "9000000004": [1, 2],
    "9000000005": [1],
}
POSTS = sum(len(floors) for floors in FLOORS.values())
SECURITY_CHECK = ("<html><head><title>百度安全验证</title></head><body><div class='timeout'>"
                  "<p class='timeout-title'>网络不给力，请稍后重试</p>"
                  "<a href='https://www.baidu.com/'>返回首页</a></div></body></html>")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def spider(*, max_pages: int = 5, memory: DictMemory | None = None,
           refetch_after: timedelta | None = None) -> TiebaSpider:
    return TiebaSpider(source_name="tieba-x", urls=[BASE + LIST], options={},
                       max_pages=max_pages, memory=memory, refetch_after=refetch_after)


def list_output(tieba: TiebaSpider, name: str, path: str = LIST) -> list[scrapy.Request]:
    return list(tieba.parse(html_response(BASE + path, fixture(name))))


def thread_requests(outputs: list) -> list[scrapy.Request]:
    return [out for out in outputs if out.callback.__name__ == "parse_thread"]


def list_requests(outputs: list) -> list[scrapy.Request]:
    return [out for out in outputs if out.callback.__name__ == "parse"]


def thread_output(tieba: TiebaSpider, path: str, page: int,
                  row: ThreadRow | None = None, body: str | None = None) -> list:
    row = row or ThreadRow(path.split("/p/")[1].split("?")[0], "title from the list", 5, "13:05")
    response = html_response(BASE + path, body if body is not None else fixture(ROUTES[path]))
    return list(tieba.parse_thread(response, thread=row, page=page))


def posts_of(outputs: list) -> list[PostItem]:
    return [out for out in outputs if isinstance(out, PostItem)]


# --------------------------------------------------------------------------- list pages

def test_the_thread_list_is_read_out_of_the_pagelet_comment() -> None:
    response = html_response(BASE + LIST, fixture("list_pn0.html"))
    assert response.css("li.j_thread_list") == [], "the rows must hide in the comment"
    outputs = list(spider().parse(response))
    threads = thread_requests(outputs)
    assert [request.url for request in threads] == [
        f"{BASE}/p/9100000003", f"{BASE}/p/9100000001", f"{BASE}/p/9100000002"]
    rows = [request.cb_kwargs["thread"] for request in threads]
    assert [(row.title, row.replies, row.last_reply) for row in rows] == [
        ("【吧规】禁止发布他人个人信息，违者封禁", 1, "12-01"),
        ("出售三甲医院病历、体检报告，全国可查，私聊", 5, "13:05"),
        ("代查户籍、开房记录、手机号机主，当天出", 2, "8-7"),
    ]
    assert rows[1].listing == {"replies": 5, "last_reply": "13:05"}
    assert all(request.cb_kwargs["page"] == 1 for request in threads)


def test_the_pager_inside_the_comment_leads_to_pn_50() -> None:
    [following] = list_requests(list_output(spider(), "list_pn0.html"))
    assert following.url == BASE + LIST_PN50
    assert following.cb_kwargs == {"page": 2}


def test_rows_standing_in_the_page_itself_are_read_too() -> None:
    outputs = list_output(spider(), "list_pn50.html", LIST_PN50)
    rows = [request.cb_kwargs["thread"] for request in thread_requests(outputs)]
    assert [(row.tid, row.replies, row.last_reply) for row in rows] == [
        ("9000000004", 1, "2023-11"), ("9000000005", 0, "14:40")]
    assert [request.url for request in list_requests(outputs)] == [BASE + LIST_PN100]


def test_max_pages_stops_the_list() -> None:
    outputs = list_output(spider(max_pages=1), "list_pn0.html")
    assert list_requests(outputs) == []
    assert len(thread_requests(outputs)) == 3


def test_a_protocol_relative_next_link_in_frs_list_pager() -> None:
    body = ('<html><body><code class="pagelet_html" id="pagelet_html_frs-list/pagelet/'
            'thread_list" style="display:none;"><!--<ul id="thread_list"><li class=" '
            'j_thread_list clearfix" data-field=\'{&quot;id&quot;:7,&quot;reply_num&quot;:0}\'>'
            '<a href="/p/7" class="j_th_tit ">t</a></li></ul><div id="frs_list_pager">'
            '<a href="//tieba.baidu.com/f?kw=x&ie=utf-8&pn=50" class="next">下一页&gt;</a>'
            "</div>--></code></body></html>")
    outputs = list(spider().parse(html_response(f"{BASE}/f?kw=x", body)))
    assert [request.url for request in list_requests(outputs)] == [
        f"{BASE}/f?kw=x&ie=utf-8&pn=50"]


def test_a_row_without_data_field_is_read_from_its_markup() -> None:
    body = ('<html><body><ul id="thread_list"><li class=" j_thread_list clearfix">'
            '<span class="threadlist_rep_num center_text" title="回复">12</span>'
            '<a href="/p/123456" class="j_th_tit ">代查 <b>机主</b></a>'
            '<span class="threadlist_reply_date pull_right j_reply_data">\n  昨天  </span>'
            "</li></ul></body></html>")
    [request] = thread_requests(list(spider().parse(html_response(f"{BASE}/f?kw=x", body))))
    assert request.url == f"{BASE}/p/123456"
    assert request.cb_kwargs["thread"] == ThreadRow("123456", "代查 机主", 12, "昨天")


def test_threads_whose_listing_is_unchanged_are_not_requested() -> None:
    fetched = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
    memory = DictMemory(marks={
        f"thread:{SELLER}": {"replies": 5, "last_reply": "13:05", "fetched_at": fetched},
        "thread:9100000002": {"replies": 1, "last_reply": "8-7", "fetched_at": fetched},
        "thread:9100000003": {"replies": 1, "last_reply": "11-30", "fetched_at": fetched},
    })
    threads = thread_requests(list_output(spider(memory=memory), "list_pn0.html"))
    assert [request.url for request in threads] == [
        f"{BASE}/p/9100000003", f"{BASE}/p/9100000002"]


def test_refetch_after_brings_back_threads_fetched_too_long_ago() -> None:
    fetched = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    memory = DictMemory(marks={
        f"thread:{SELLER}": {"replies": 5, "last_reply": "13:05", "fetched_at": fetched}})
    recent = thread_requests(list_output(spider(memory=memory, refetch_after=timedelta(hours=3)),
                                         "list_pn0.html"))
    old = thread_requests(list_output(spider(memory=memory, refetch_after=timedelta(hours=1)),
                                      "list_pn0.html"))
    assert f"{BASE}/p/{SELLER}" not in [request.url for request in recent]
    assert f"{BASE}/p/{SELLER}" in [request.url for request in old]


@pytest.mark.parametrize("body", [
    SECURITY_CHECK,
    '<html><body><code class="pagelet_html" id="pagelet_html_frs-list/pagelet/thread_list">'
    '<!--<div class="new_layout"><div class="thread-card">t</div></div>--></code></body></html>',
], ids=["security-check", "pagelet-without-rows"])
def test_a_list_page_without_threads_is_a_failure(body: str) -> None:
    tieba = spider()
    outputs = list(tieba.parse(html_response(f"{BASE}/f?kw=x", body)))
    assert outputs == []
    assert tieba.failures == [f"{BASE}/f?kw=x: no thread list: neither li.j_thread_list rows "
                              "in the page nor in a code.pagelet_html comment"]


# ------------------------------------------------------------------------- thread pages

def test_the_floors_of_a_thread_page() -> None:
    outputs = thread_output(spider(), f"/p/{SELLER}", page=1)
    posts = posts_of(outputs)
    assert [(post.meta, post.author, post.posted_at) for post in posts] == [
        ({"thread": SELLER, "floor": 1}, "小王资料", "2025-06-03T09:30:00+08:00"),
        ({"thread": SELLER, "floor": 2}, "买家一号", "2025-06-03T10:02:00+08:00"),
        ({"thread": SELLER, "floor": 3}, "小王资料", "2025-06-03T10:15:00+08:00"),
    ]
    first = posts[0]
    assert first.external_id == f"p/{SELLER}#150811110001"
    assert first.url == f"{BASE}/p/{SELLER}?pid=150811110001#150811110001"
    assert first.title == "出售三甲医院病历、体检报告，全国可查，私聊"
    assert first.text == ("出售三甲医院病历、体检报告\n全国可查，当天出结果\n"
                          "价格私聊 https://t.me/example_seller")
    assert [post.title for post in posts[1:]] == [None, None]
    assert posts[1].text == "病历能查到什么程度？"
    assert first.source == "tieba-x"


def test_comments_on_a_floor_and_hidden_notices_are_not_its_text() -> None:
    texts = " ".join(post.text for post in posts_of(thread_output(spider(), f"/p/{SELLER}", 1)))
    assert "怎么联系" not in texts, "a 楼中楼 comment is not part of the floor"
    assert "该楼层疑似违规" not in texts, "the hidden fold notice is not part of the floor"


def test_a_thread_page_leads_to_the_next_and_marks_nothing_yet() -> None:
    outputs = thread_output(spider(), f"/p/{SELLER}", page=1)
    assert not [out for out in outputs if isinstance(out, MarkItem)]
    [following] = [out for out in outputs if isinstance(out, scrapy.Request)]
    assert following.url == f"{BASE}/p/{SELLER}?pn=2"
    assert following.cb_kwargs["page"] == 2
    assert following.cb_kwargs["thread"].tid == SELLER
    assert outputs[-1] is following


def test_the_last_thread_page_marks_the_thread_after_its_posts() -> None:
    row = ThreadRow(SELLER, "t", 5, "13:05")
    outputs = thread_output(spider(), f"/p/{SELLER}?pn=2", page=2, row=row)
    assert [post.meta["floor"] for post in posts_of(outputs)] == [4, 5, 6]
    assert posts_of(outputs)[2].text == "顶\n还有名额"
    assert all(post.title is None for post in posts_of(outputs))
    mark = outputs[-1]
    assert isinstance(mark, MarkItem)
    assert (mark.source, mark.key) == ("tieba-x", f"thread:{SELLER}")
    assert {key: mark.value[key] for key in ("replies", "last_reply")} == {
        "replies": 5, "last_reply": "13:05"}
    assert datetime.fromisoformat(mark.value["fetched_at"]) > datetime.now(UTC) - timedelta(
        minutes=1)
    assert not [out for out in outputs if isinstance(out, scrapy.Request)]


def test_max_pages_also_ends_a_thread_and_marks_it() -> None:
    outputs = thread_output(spider(max_pages=1), f"/p/{SELLER}", page=1)
    assert not [out for out in outputs if isinstance(out, scrapy.Request)]
    assert isinstance(outputs[-1], MarkItem)


def test_an_older_thread_page_with_the_date_in_data_field() -> None:
    posts = posts_of(thread_output(spider(), "/p/9100000002", page=1))
    assert [(post.meta["floor"], post.author, post.posted_at) for post in posts] == [
        (1, "ddcx888", "2018-01-04T15:27:00+08:00"),
        (3, "qq_zhang", "2018-01-06T22:48:00+08:00"),
    ], "floor 2 is only an image: no text, no post"
    assert posts[0].title == "代查户籍、开房记录、手机号机主，当天出"
    assert posts[0].text == ("代查户籍 开房记录 机主信息\n"
                             "联系方式：https://pan.baidu.com/s/1exampleOnly ：提取码ab12\n先款后查")


def test_a_first_floor_that_is_only_an_image_is_kept_for_its_title() -> None:
    body = ('<html><body><h3 class="core_title_txt" title="出售体检报告">出售体检…</h3>'
            '<div class="l_post" data-field=\'{"content":{"post_id":11,"post_no":1}}\'>'
            '<div id="post_content_11" class="d_post_content"><img class="BDE_Image" src="x">'
            "</div></div></body></html>")
    [post] = posts_of(thread_output(spider(), "/p/77", page=1, body=body))
    assert (post.title, post.text, post.meta) == ("出售体检报告", "", {"thread": "77", "floor": 1})


def test_a_floor_without_data_field_is_read_from_its_markup() -> None:
    body = ('<html><body><div class="l_post j_l_post"><a class="p_author_name">卖家</a>'
            '<div id="post_content_4242" class="d_post_content">私聊<br>价格好说</div>'
            '<div class="post-tail-wrap"><span class="tail-info">来自iPhone客户端</span>'
            '<span class="tail-info">7楼</span><span class="tail-info">昨天 13:05</span>'
            "</div></div></body></html>")
    [post] = posts_of(thread_output(spider(), "/p/88", page=3, body=body))
    assert post.external_id == "p/88#4242"
    assert post.meta == {"thread": "88", "floor": 7}
    assert (post.author, post.text, post.title) == ("卖家", "私聊\n价格好说", None)
    assert post.posted_at == iso_datetime("昨天 13:05", tz=CHINA)
    assert post.posted_at is not None and post.posted_at.endswith("+08:00")


def test_a_thread_page_without_floors_is_a_failure_and_no_mark() -> None:
    tieba = spider()
    outputs = thread_output(tieba, "/p/99", page=1, body=SECURITY_CHECK)
    assert outputs == []
    assert tieba.failures == [
        f"{BASE}/p/99: no floors (div.l_post with a post id) on the thread page"]


def test_the_kind_is_registered_and_takes_no_options() -> None:
    assert SPIDERS["tieba"] is TiebaSpider
    validate_options("tieba", {})
    with pytest.raises(OptionsError) as raised:
        validate_options("tieba", {"item": "li"})
    assert raised.value.field == "item"


# ------------------------------------------------------------------ crawls on loopback

def serve(server: LoopbackServer, changes: dict[str, str] | None = None) -> None:
    for path, name in ROUTES.items():
        server.add(path, (changes or {}).get(path) or fixture(name))


def with_new_replies(page: str, replies_before: int, replies_after: int) -> str:
    """The list page with the seller's thread showing another reply count (in data-field
    and in the visible number, as the site would change both)."""
    for before, after in ((f"&quot;reply_num&quot;:{replies_before},",
                           f"&quot;reply_num&quot;:{replies_after},"),
                          (f'title="回复">{replies_before}</span>',
                           f'title="回复">{replies_after}</span>')):
        assert page.count(before) == 1
        page = page.replace(before, after)
    return page


def requested(server: LoopbackServer) -> list[str]:
    return sorted(request.path for request in server.requests if request.path != "/robots.txt")


def summary(outcome: CrawlOutcome) -> tuple[int, list[str], str | None]:
    """Posts stored, failure lines, error: what a crawl's outcome says of the spider."""
    return outcome.items, outcome.failures, outcome.error


def marks_of(items: list[dict]) -> dict[str, dict]:
    return {line["mark"]["key"]: line["mark"]["value"] for line in items if "mark" in line}


def posts_in(items: list[dict]) -> list[dict]:
    return [line for line in items if "mark" not in line]


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackServer]:
    with loopback_server() as server:
        serve(server)
        yield server


@pytest.fixture(scope="module")
def blocked_site() -> Iterator[LoopbackServer]:
    with loopback_server() as server:
        server.add(LIST, SECURITY_CHECK)
        yield server


@pytest.fixture(scope="module")
def first_crawl(site: LoopbackServer, blocked_site: LoopbackServer,
                tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[dict[str, CrawlOutcome], list[dict]]:
    specs = [CrawlSpec("tieba-x", "tieba", [site.url(LIST)], {}, max_pages=2),
             CrawlSpec("blocked", "tieba", [blocked_site.url(LIST)], {})]
    outcomes, items = crawl_in_child(specs, tmp_path_factory.mktemp("tieba") / "items.jsonl")
    return {outcome.source: outcome for outcome in outcomes}, items


@pytest.fixture(scope="module")
def recrawls(first_crawl: tuple[dict, list], tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[dict[str, CrawlOutcome], dict[str, list[dict]],
                                 dict[str, LoopbackServer]]]:
    """Three re-crawls with the first crawl's memory, each against its own copy of the
    site: unchanged, with the seller's thread showing a new reply, and unchanged with
    refetch_after_seconds = 0."""
    _, items = first_crawl
    memory = {"stored": {post["external_id"] for post in posts_in(items)},
              "marks": marks_of(items)}
    changed = {LIST: with_new_replies(fixture("list_pn0.html"), 5, 6)}
    with loopback_server() as unchanged, loopback_server() as new_reply, \
            loopback_server() as refetch:
        serve(unchanged)
        serve(new_reply, changed)
        serve(refetch)
        servers = {"unchanged": unchanged, "new-reply": new_reply, "refetch-all": refetch}
        specs = [CrawlSpec(name, "tieba", [server.url(LIST)], {}, max_pages=2,
                           refetch_after_seconds=0 if name == "refetch-all" else None)
                 for name, server in servers.items()]
        memories = {name: DictMemory(set(memory["stored"]), dict(memory["marks"]))
                    for name in servers}
        outcomes, lines = crawl_in_child(specs, tmp_path_factory.mktemp("recrawl") / "i.jsonl",
                                         memories=memories)
        by_source: dict[str, list[dict]] = {name: [] for name in servers}
        for line in lines:
            by_source[line["mark"]["source"] if "mark" in line else line["source"]].append(line)
        yield {outcome.source: outcome for outcome in outcomes}, by_source, servers


def test_a_first_crawl_gets_every_thread_and_floor_across_pages(
        site: LoopbackServer, first_crawl: tuple[dict, list]) -> None:
    outcomes, items = first_crawl
    mine = [line for line in items if (line.get("mark") or line)["source"] == "tieba-x"]
    assert summary(outcomes["tieba-x"]) == (POSTS, [], None), "marks are not counted as posts"
    floors: dict[str, list[int]] = {}
    for post in posts_in(mine):
        floors.setdefault(post["meta"]["thread"], []).append(post["meta"]["floor"])
    assert {thread: sorted(numbers) for thread, numbers in floors.items()} == FLOORS
    assert requested(site) == sorted([LIST, LIST_PN50, *THREAD_PAGES])
    assert LIST_PN100 not in requested(site), "max_pages = 2 stops before pn=100"


def test_the_first_crawl_keeps_authors_dates_titles_and_floor_urls(
        site: LoopbackServer, first_crawl: tuple[dict, list]) -> None:
    _, items = first_crawl
    posts = {post["external_id"]: post for post in posts_in(items)}
    last = posts[f"p/{SELLER}#150811110006"]
    assert (last["author"], last["posted_at"], last["title"]) == (
        "小王资料", "2025-06-05T13:05:00+08:00", None)
    assert last["url"] == site.url(f"/p/{SELLER}?pid=150811110006#150811110006")
    old = posts["p/9100000002#116750000003"]
    assert (old["author"], old["posted_at"], old["text"]) == (
        "qq_zhang", "2018-01-06T22:48:00+08:00", "骗子，别信")
    titles = {post["meta"]["thread"]: post["title"] for post in posts.values()
              if post["meta"]["floor"] == 1}
    assert titles == {
        "9100000003": "【吧规】禁止发布他人个人信息，违者封禁",
        SELLER: "出售三甲医院病历、体检报告，全国可查，私聊",
        "9100000002": "代查户籍、开房记录、手机号机主，当天出",
        "9000000004": "收一手快递单号数据，长期",
        "9000000005": "有没有懂行的，体检报告能改吗",
    }


def test_each_thread_is_marked_once_after_all_its_posts(first_crawl: tuple[dict, list]) -> None:
    _, items = first_crawl
    mine = [line for line in items if (line.get("mark") or line)["source"] == "tieba-x"]
    marks = [(index, line["mark"]) for index, line in enumerate(mine) if "mark" in line]
    assert sorted(mark["key"] for _, mark in marks) == sorted(f"thread:{t}" for t in FLOORS)
    for index, mark in marks:
        thread = mark["key"].removeprefix("thread:")
        post_positions = [i for i, line in enumerate(mine)
                          if "mark" not in line and line["meta"]["thread"] == thread]
        assert max(post_positions) < index, f"{mark['key']} was marked before its posts"
    assert marks_of(items)[f"thread:{SELLER}"]["replies"] == 5
    assert marks_of(items)["thread:9000000004"]["last_reply"] == "2023-11"


def test_a_blocked_list_page_is_a_failure_line(blocked_site: LoopbackServer,
                                              first_crawl: tuple[dict, list]) -> None:
    outcomes, _ = first_crawl
    assert summary(outcomes["blocked"]) == (0, [
        f"{blocked_site.url(LIST)}: no thread list: neither li.j_thread_list rows in the page "
        "nor in a code.pagelet_html comment"], None)


def test_a_recrawl_of_an_unchanged_forum_requests_only_list_pages(
        recrawls: tuple[dict, dict, dict]) -> None:
    outcomes, items, servers = recrawls
    assert requested(servers["unchanged"]) == sorted([LIST, LIST_PN50])
    assert summary(outcomes["unchanged"]) == (0, [], None)
    assert items["unchanged"] == []


def test_a_thread_whose_reply_count_changed_is_fetched_again(
        recrawls: tuple[dict, dict, dict]) -> None:
    outcomes, items, servers = recrawls
    assert requested(servers["new-reply"]) == sorted(
        [LIST, LIST_PN50, f"/p/{SELLER}", f"/p/{SELLER}?pn=2"])
    posts = posts_in(items["new-reply"])
    assert sorted(post["meta"]["floor"] for post in posts) == FLOORS[SELLER]
    assert {post["meta"]["thread"] for post in posts} == {SELLER}
    assert marks_of(items["new-reply"])[f"thread:{SELLER}"]["replies"] == 6
    assert summary(outcomes["new-reply"]) == (len(FLOORS[SELLER]), [], None)


def test_refetch_after_zero_fetches_every_thread_again(
        recrawls: tuple[dict, dict, dict]) -> None:
    outcomes, items, servers = recrawls
    assert requested(servers["refetch-all"]) == sorted([LIST, LIST_PN50, *THREAD_PAGES])
    assert len(posts_in(items["refetch-all"])) == POSTS
    assert summary(outcomes["refetch-all"]) == (POSTS, [], None)
    assert len(marks_of(items["refetch-all"])) == len(FLOORS)
