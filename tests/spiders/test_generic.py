"""The generic spider on pages written here, parsed in memory (no network)."""

from __future__ import annotations

from typing import Any

import pytest
import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.generic import GenericSpider
from spiders.items import PostItem
from tests.spiders.responses import html_response

BASE = "http://forum.test"
ISSUE_OPTIONS = {
    "item_links": "a.thread::attr(href)",
    "title": "h1::text",
    "text": "div.post",
    "next_page": "a.next::attr(href)",
    "author": "span.author::text",
    "posted_at": "time::attr(datetime)",
}
LIST_PAGE = """<html><body>
<a class="thread" href="/thread/1">first</a>
<a class="thread" href="thread/2#reply-3">second</a>
<a class="thread" href="javascript:void(0)">not a page</a>
<a class="next" href="/forum/?page=2">next</a>
</body></html>"""
THREAD_PAGE = """<html><head><title>ignored</title></head><body>
<h1>出售 体检报告</h1>
<span class="author">seller42</span>
<time datetime="2025-06-03T09:30:00+08:00">3 June</time>
<div class="post">第一行<br>second   line<script>track()</script>
<p>联系 QQ 123456</p></div>
</body></html>"""


def make_spider(options: dict[str, Any] | None = None, max_pages: int = 5) -> GenericSpider:
    return GenericSpider(source_name="forum", urls=[f"{BASE}/forum/"],
                         options=options or ISSUE_OPTIONS, max_pages=max_pages)


def run(callback: Any, response: Response, **kwargs: Any) -> tuple[list[PostItem],
                                                                    list[scrapy.Request]]:
    output = list(callback(response, **kwargs))
    items = [out for out in output if isinstance(out, PostItem)]
    requests = [out for out in output if isinstance(out, scrapy.Request)]
    assert len(items) + len(requests) == len(output)
    return items, requests


def test_a_list_page_leads_to_its_threads_and_the_next_list_page() -> None:
    spider = make_spider()
    items, requests = run(spider.parse, html_response(f"{BASE}/forum/", LIST_PAGE))
    assert items == []
    assert [r.url for r in requests] == [
        f"{BASE}/thread/1", f"{BASE}/forum/thread/2#reply-3", f"{BASE}/forum/?page=2",
    ]
    assert [r.callback for r in requests] == [spider.parse_post_page] * 2 + [spider.parse]
    assert requests[-1].cb_kwargs == {"page": 2}
    assert all(r.errback == spider.record_failure for r in requests)
    assert spider.failures == []


def test_format_html_is_the_default() -> None:
    default = make_spider()
    explicit = make_spider({**ISSUE_OPTIONS, "format": "html"})
    assert explicit.api is None
    _, requests = run(explicit.parse, html_response(f"{BASE}/forum/", LIST_PAGE))
    _, default_requests = run(default.parse, html_response(f"{BASE}/forum/", LIST_PAGE))
    assert [r.url for r in requests] == [r.url for r in default_requests]
    assert len(requests) == 3


def test_next_page_stops_at_max_pages() -> None:
    spider = make_spider(max_pages=2)
    _, requests = run(spider.parse, html_response(f"{BASE}/forum/?page=2", LIST_PAGE), page=2)
    assert [r.url for r in requests] == [f"{BASE}/thread/1", f"{BASE}/forum/thread/2#reply-3"]


def test_a_thread_page_gives_every_field() -> None:
    spider = make_spider()
    url = f"{BASE}/forum/thread/2#reply-3"
    items, _ = run(spider.parse_post_page, html_response(url, THREAD_PAGE))
    [item] = items
    assert item.source == "forum"
    assert item.external_id == f"{BASE}/forum/thread/2"
    assert item.url == url
    assert item.title == "出售 体检报告"
    assert item.text == "第一行\nsecond line\n联系 QQ 123456"
    assert item.author == "seller42"
    assert item.posted_at == "2025-06-03T09:30:00+08:00"
    assert item.fetched_at.endswith("+00:00")


def test_an_id_selector_gives_the_external_id() -> None:
    spider = make_spider({**ISSUE_OPTIONS, "id": "//link[@rel='canonical']/@href"})
    page = THREAD_PAGE.replace("<head>", "<head><link rel='canonical' href='post-77'>")
    items, _ = run(spider.parse_post_page, html_response(f"{BASE}/t/77?x=1", page))
    assert items[0].external_id == "post-77"


def test_xpath_selectors_work_like_css_ones() -> None:
    spider = make_spider({
        "item_links": "//a[@class='thread']/@href",
        "title": "//h1/text()",
        "text": "//div[@class='post']",
        "author": "(//span[@class='author'])[1]/text()",
    })
    _, requests = run(spider.parse, html_response(f"{BASE}/forum/", LIST_PAGE))
    assert len(requests) == 2
    items, _ = run(spider.parse_post_page, html_response(f"{BASE}/thread/1", THREAD_PAGE))
    assert (items[0].title, items[0].author) == ("出售 体检报告", "seller42")
    assert items[0].text.startswith("第一行")


BOARD_PAGE = """<html><body>
<div class="msg" id="m1"><b class="who">alice</b><h2>Offer</h2><p class="body">代查 户籍</p></div>
<div class="msg"><b class="who">bob</b><p class="body">  </p></div>
<div class="msg"><b class="who">carol</b><p class="body">news about a case</p>
<span class="when">2025年6月3日 10:00</span></div>
</body></html>"""
BLOCK_OPTIONS = {"item": "div.msg", "text": "p.body", "author": "b.who::text",
                 "title": "//h2/text()", "posted_at": "span.when::text"}


def test_post_blocks_on_the_page_itself_each_become_a_post() -> None:
    spider = make_spider(BLOCK_OPTIONS)
    items, requests = run(spider.parse, html_response(f"{BASE}/board", BOARD_PAGE))
    assert requests == []
    assert [(i.author, i.text) for i in items] == [
        ("alice", "代查 户籍"), ("carol", "news about a case"),
    ]
    alice, carol = items
    assert alice.title == "Offer"
    assert carol.title is None, "an XPath inside a block must not find another block's title"
    assert carol.posted_at == "2025-06-03T10:00:00"
    assert alice.external_id == f"{BASE}/board#m1"
    assert carol.external_id.startswith("sha256:")
    assert spider.failures == []


def test_block_ids_without_anchor_are_stable_across_list_pages() -> None:
    spider = make_spider(BLOCK_OPTIONS)
    first, _ = run(spider.parse, html_response(f"{BASE}/board", BOARD_PAGE))
    moved, _ = run(spider.parse, html_response(f"{BASE}/board?page=2", BOARD_PAGE))
    assert first[1].external_id == moved[1].external_id


def test_threads_holding_several_post_blocks() -> None:
    spider = make_spider({**BLOCK_OPTIONS, "item_links": "a.thread"})
    _, requests = run(spider.parse, html_response(f"{BASE}/forum/", LIST_PAGE))
    assert [r.url for r in requests] == [f"{BASE}/thread/1", f"{BASE}/forum/thread/2#reply-3"]
    items, _ = run(requests[0].callback, html_response(requests[0].url, BOARD_PAGE))
    assert len(items) == 2


def test_broken_html_still_yields() -> None:
    broken = ("<html><body><h1>Unclosed <b>title<div class='post'><p>first para"
              "<p>second <i>para<table><tr><td>cell</div>")
    spider = make_spider()
    items, _ = run(spider.parse_post_page, html_response(f"{BASE}/t/9", broken))
    [item] = items
    assert item.title == "Unclosed"
    assert item.text.splitlines() == ["first para", "second para", "cell"]


GBK_TEXT = "出售病历资料，价格面议，当天出单"


@pytest.mark.parametrize("declaration", [
    '<meta charset="gbk">',
    '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
])
def test_a_gbk_page_declared_only_in_meta_decodes(declaration: str) -> None:
    page = f"<html><head>{declaration}</head><body><h1>标题</h1><div class='post'>{GBK_TEXT}"
    body = (page + "</div></body></html>").encode("gbk")
    spider = make_spider()
    items, _ = run(spider.parse_post_page, html_response(f"{BASE}/t/1", body, "text/html"))
    assert (items[0].title, items[0].text) == ("标题", GBK_TEXT)


def test_a_declared_gb2312_page_decodes_as_gb18030() -> None:
    text = GBK_TEXT + " 䶮"  # U+4DAE is in GB18030 but not in GBK or GB2312
    page = f"<html><body><div class='post'>{text}</div></body></html>".encode("gb18030")
    spider = make_spider()
    response = html_response(f"{BASE}/t/1", page, "text/html; charset=GB2312")
    items, _ = run(spider.parse_post_page, response)
    assert items[0].text == text


def test_a_big5_page_decodes() -> None:
    text = "代查醫療記錄，價格私聊"
    page = f"<html><head><meta charset='big5'></head><body><div class='post'>{text}</div>"
    spider = make_spider()
    response = html_response(f"{BASE}/t/1", page.encode("big5"), "text/html")
    items, _ = run(spider.parse_post_page, response)
    assert items[0].text == text


def test_a_page_without_post_text_is_a_failure_not_a_post() -> None:
    spider = make_spider()
    items, _ = run(spider.parse_post_page,
                   html_response(f"{BASE}/t/1", "<h1>t</h1><div class='post'> </div>"))
    assert items == []
    assert spider.failures == [f"{BASE}/t/1: no post text matched text 'div.post'"]


def test_a_list_page_without_links_is_a_failure() -> None:
    spider = make_spider()
    items, requests = run(spider.parse, html_response(f"{BASE}/forum/", "<p>redesigned</p>"))
    assert (items, requests) == ([], [])
    assert spider.failures == [
        f"{BASE}/forum/: no links to posts matched item_links 'a.thread::attr(href)'"
    ]


def test_a_page_without_post_blocks_is_a_failure() -> None:
    spider = make_spider(BLOCK_OPTIONS)
    items, _ = run(spider.parse, html_response(f"{BASE}/board", "<p>nothing</p>"))
    assert items == []
    assert spider.failures == [f"{BASE}/board: no post blocks matched item 'div.msg'"]


def test_a_response_that_is_not_text_is_a_failure() -> None:
    spider = make_spider()
    response = Response(f"{BASE}/t/1.png", body=b"\x89PNG",
                        headers={"Content-Type": "image/png"})
    items, _ = run(spider.parse_post_page, response)
    assert items == []
    assert spider.failures == [f"{BASE}/t/1.png: not a text page (image/png)"]


def test_a_gbk_page_with_no_declaration_at_all_decodes() -> None:
    text = "专业代查户籍信息，当天出单，价格私聊。联系方式见主页，请勿轻信他人。"
    body = f"<html><body><div class='post'>{text}</div></body></html>".encode("gbk")
    spider = make_spider()
    items, _ = run(spider.parse_post_page, html_response(f"{BASE}/t/1", body, "text/html"))
    assert items[0].text == text


def test_an_exception_while_parsing_is_a_failure_line() -> None:
    crawler = Crawler(GenericSpider, {})
    spider = GenericSpider.from_crawler(crawler, source_name="forum", urls=[f"{BASE}/"],
                                        options=ISSUE_OPTIONS, max_pages=1)
    response = html_response(f"{BASE}/t/1", THREAD_PAGE)
    crawler.signals.send_catch_log(signals.spider_error, failure=Failure(KeyError("x")),
                                   response=response, spider=spider)
    assert spider.failures == [f"{BASE}/t/1: could not parse: KeyError: 'x'"]
