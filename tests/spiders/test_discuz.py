"""The discuz spider on pages built from Discuz! X3's own templates (fixtures/discuz/):
parsed in memory, then crawled for real on loopback — one board in UTF-8 with plain URLs,
one in GBK with rewritten URLs — first in full, then incrementally from the first crawl's
marks."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import scrapy
from scrapy.http import HtmlResponse

from spiders.dates import CHINA
from spiders.discuz import DiscuzSpider, ListedThread, thread_id, thread_url
from spiders.items import PostItem
from spiders.memory import FETCHED_AT, DictMemory, MarkItem
from spiders.options import OptionsError
from spiders.runner import CrawlOutcome, CrawlSpec
from tests.helpers import LoopbackServer, loopback_server
from tests.spiders.crawl_child import crawl_in_child
from tests.spiders.responses import html_response

FIXTURES = Path(__file__).parent / "fixtures" / "discuz"
SITE = "https://bbs.example.com/"
BBS_LIST = f"{SITE}forum.php?mod=forumdisplay&fid=2"
GBK_LIST = f"{SITE}gbk/forum-7-1.html"


def fixture(name: str, site: str = SITE) -> str:
    """A fixture page with the board's address where Discuz! writes ``$_G['siteurl']``."""
    return (FIXTURES / name).read_text(encoding="utf-8").replace("__SITEURL__", site)


def gbk_bytes(text: str) -> bytes:
    return text.encode("gbk")


def page(url: str, name: str) -> HtmlResponse:
    """A fixture as the board sends it: the GBK board's pages in GBK, as text/html with
    no charset (only the page's meta tag says gbk)."""
    if name.startswith("gbk_"):
        return html_response(url, gbk_bytes(fixture(name)), content_type="text/html")
    return html_response(url, fixture(name))


def make_spider(*, max_pages: int = 10, memory: DictMemory | None = None,
                refetch_after: timedelta | None = None) -> DiscuzSpider:
    return DiscuzSpider(source_name="bbs", urls=[BBS_LIST], options={}, max_pages=max_pages,
                        memory=memory, refetch_after=refetch_after)


def run(callback: Any, response: HtmlResponse, **kwargs: Any
        ) -> tuple[list[PostItem], list[scrapy.Request], list[MarkItem]]:
    """What a callback yields, by type, checking that it yields nothing else and that
    every mark comes after every post."""
    output = list(callback(response, **kwargs))
    posts = [out for out in output if isinstance(out, PostItem)]
    requests = [out for out in output if isinstance(out, scrapy.Request)]
    marks = [out for out in output if isinstance(out, MarkItem)]
    assert len(posts) + len(requests) + len(marks) == len(output)
    if marks and posts:
        assert output.index(marks[0]) > output.index(posts[-1])
    return posts, requests, marks


def listed(tid: int, replies: int = 2, last_post: str = "2025-6-3 09:48") -> ListedThread:
    return ListedThread(tid=tid, url=f"{SITE}forum.php?mod=viewthread&tid={tid}",
                        title="listed title", replies=replies, views=88, last_post=last_post)


# ----------------------------------------------------------------------- list pages


def test_a_list_page_requests_every_thread_then_the_next_list_page() -> None:
    spider = make_spider()
    posts, requests, marks = run(spider.parse, page(BBS_LIST, "bbs_forumdisplay_fid2_page1.html"))
    assert (posts, marks, spider.failures) == ([], [], [])
    assert [r.url for r in requests] == [
        f"{SITE}forum.php?mod=viewthread&tid=1001",  # the sticky advert is kept
        f"{SITE}forum.php?mod=viewthread&tid=1002",
        f"{SITE}forum.php?mod=viewthread&tid=1003",
        f"{SITE}forum.php?mod=forumdisplay&fid=2&page=2",
    ]
    assert [r.callback for r in requests] == [spider.parse_thread] * 3 + [spider.parse]
    assert requests[-1].cb_kwargs == {"page": 2}
    assert all(r.errback == spider.record_failure for r in requests)
    rows = [(r.cb_kwargs["tid"], r.cb_kwargs["listed"]) for r in requests[:3]]
    assert [(tid, item.replies, item.views, item.last_post, item.title) for tid, item in rows] == [
        (1001, 0, 1523, "2025-5-20 10:58", "【置顶】专业查档 户籍 开房 出行记录 全网最低价"),
        # relative times ("17 分钟前", "昨天 13:05") are listed by their absolute title
        (1002, 2, 88, "2025-6-3 09:48", "出售 三甲医院 体检报告 病历 可定制"),
        (1003, 4, 301, "2025-6-2 13:05", "代查 手机号 机主 开盒 详细资料"),
    ]
    assert rows[1][1].listing == {"replies": 2, "last_post": "2025-6-3 09:48"}


def test_the_last_list_page_has_no_next_page_and_max_pages_stops_earlier() -> None:
    last = make_spider()
    _, requests, _ = run(last.parse, page(f"{BBS_LIST}&page=2", "bbs_forumdisplay_fid2_page2.html"),
                         page=2)
    assert [r.url for r in requests] == [f"{SITE}forum.php?mod=viewthread&tid=1004"]
    capped = make_spider(max_pages=1)
    _, requests, _ = run(capped.parse, page(BBS_LIST, "bbs_forumdisplay_fid2_page1.html"))
    assert len(requests) == 3
    assert all(r.callback == capped.parse_thread for r in requests)


def test_a_gbk_list_page_with_rewritten_urls() -> None:
    spider = make_spider()
    _, requests, _ = run(spider.parse, page(GBK_LIST, "gbk_forum-7-1.html"))
    assert spider.failures == []
    assert [r.url for r in requests] == [f"{SITE}gbk/thread-2001-1-1.html",
                                         f"{SITE}gbk/thread-2002-1-1.html",
                                         f"{SITE}gbk/forum-7-2.html"]
    first = requests[0].cb_kwargs["listed"]
    assert (first.title, first.replies, first.last_post) == ("出售 医保卡 就诊记录 批量出", 1,
                                                             "2025-6-3 08:02")
    _, requests, _ = run(spider.parse, page(f"{SITE}gbk/forum-7-2.html", "gbk_forum-7-2.html"),
                         page=2)
    # the row links to thread-2003-1-2.html (list page 2): the thread's URL is page 1's
    assert [r.url for r in requests] == [f"{SITE}gbk/thread-2003-1-1.html"]


def test_only_threads_whose_listing_changed_are_requested() -> None:
    unchanged = {"replies": 0, "last_post": "2025-5-20 10:58", FETCHED_AT: "2025-06-03T01:00:00+00:00"}
    memory = DictMemory(marks={
        "thread:1001": unchanged,
        "thread:1002": {"replies": 1, "last_post": "2025-6-3 09:30", FETCHED_AT: "2025-06-03T01:00:00+00:00"},
    })
    spider = make_spider(memory=memory)
    _, requests, _ = run(spider.parse, page(BBS_LIST, "bbs_forumdisplay_fid2_page1.html"))
    assert [r.cb_kwargs.get("tid") for r in requests] == [1002, 1003, None]


def test_refetch_after_requests_an_unchanged_thread_fetched_long_enough_ago() -> None:
    memory = DictMemory(marks={"thread:1001": {
        "replies": 0, "last_post": "2025-5-20 10:58",
        FETCHED_AT: (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")}})
    _, requests, _ = run(make_spider(memory=memory, refetch_after=timedelta(hours=3)).parse,
                         page(BBS_LIST, "bbs_forumdisplay_fid2_page1.html"))
    assert 1001 not in [r.cb_kwargs.get("tid") for r in requests]
    _, requests, _ = run(make_spider(memory=memory, refetch_after=timedelta(hours=1)).parse,
                         page(BBS_LIST, "bbs_forumdisplay_fid2_page1.html"))
    assert 1001 in [r.cb_kwargs.get("tid") for r in requests]


def test_a_thread_listed_twice_in_one_crawl_is_requested_once() -> None:
    spider = make_spider()
    run(spider.parse, page(BBS_LIST, "bbs_forumdisplay_fid2_page1.html"))
    _, requests, _ = run(spider.parse, page(BBS_LIST, "bbs_forumdisplay_fid2_page1.html"))
    assert [r.callback for r in requests] == [spider.parse]


def test_an_empty_board_is_no_failure() -> None:
    spider = make_spider()
    posts, requests, _ = run(spider.parse, page(BBS_LIST, "bbs_forumdisplay_empty.html"))
    assert (posts, requests, spider.failures) == ([], [], [])


def test_a_list_page_without_thread_rows_is_a_failure_that_quotes_the_board() -> None:
    spider = make_spider()
    run(spider.parse, page(BBS_LIST, "bbs_viewthread_no_permission.html"))
    assert spider.failures == [
        f"{BBS_LIST}: no thread rows matched \"tbody[id^='normalthread_'], "
        "tbody[id^='stickthread_']\"; the page says: 抱歉，本帖要求阅读权限高于 10 才能浏览"
    ]


# ----------------------------------------------------------------------- thread pages


def test_a_thread_page_gives_the_opening_post_and_the_replies_then_the_mark() -> None:
    spider = make_spider()
    url = f"{SITE}forum.php?mod=viewthread&tid=1002"
    posts, requests, marks = run(spider.parse_thread, page(url, "bbs_viewthread_1002.html"),
                                 tid=1002, listed=listed(1002))
    assert (requests, spider.failures) == ([], [])
    assert [(p.external_id, p.url, p.author, p.posted_at, p.meta) for p in posts] == [
        ("thread-1002#pid5002", f"{url}#pid5002", "hospital_vip", "2025-06-03T08:12:40+08:00",
         {"thread": 1002, "floor": 1, "replies": 2, "views": 88}),
        ("thread-1002#pid5003", f"{url}#pid5003", "buyer_a", "2025-06-03T09:30:12+08:00",
         {"thread": 1002, "floor": 2}),
        ("thread-1002#pid5004", f"{url}#pid5004", "hospital_vip", "2025-06-03T09:48:03+08:00",
         {"thread": 1002, "floor": 3}),
    ]
    assert [p.text for p in posts] == [
        "出售三甲医院体检报告、门诊病历，可按要求定制姓名和日期。\n样本见附件，量大从优。",
        "怎么联系？能开哪几家医院的？",
        # the quoted reply is left out: it is stored as the post it is
        "加微信 med_2025，北京、上海的三甲都能开，带公章。",
    ]
    assert {p.title for p in posts} == {"出售 三甲医院 体检报告 病历 可定制"}
    assert {p.source for p in posts} == {"bbs"}
    [mark] = marks
    assert (mark.source, mark.key) == ("bbs", "thread:1002")
    assert {k: v for k, v in mark.value.items() if k != FETCHED_AT} == {
        "replies": 2, "last_post": "2025-6-3 09:48"}
    assert datetime.fromisoformat(mark.value[FETCHED_AT]) > datetime.now(UTC) - timedelta(minutes=5)


def test_post_text_leaves_out_edit_notes_signatures_and_hidden_filler() -> None:
    spider = make_spider()
    url = f"{SITE}forum.php?mod=viewthread&tid=1001"
    response = page(url, "bbs_viewthread_1001.html")
    [post], _, _ = run(spider.parse_thread, response, tid=1001, listed=listed(1001, 0))
    assert post.text == "全网最低价查档：户籍、开房记录、出行记录。\n价格私聊，QQ 12345678，当天出结果。"
    assert post.posted_at == "2025-05-20T10:58:03+08:00"  # 发表于 2025-5-20 10:58:03
    assert "jammer" in response.text and "8hK2" in response.text  # the fixture has them
    assert "本帖最后由" in response.text and "诚信经营" in response.text


def test_a_code_block_keeps_its_code_and_loses_its_copy_button() -> None:
    [post], _, _ = run(make_spider().parse_thread,
                       page(f"{SITE}gbk/thread-2003-1-1.html", "gbk_thread-2003-1-1.html"),
                       tid=2003)
    assert post.text == "长期回收快递面单，日结。\n微信: mdhs_2025"


def test_every_page_of_a_thread_is_read_and_the_mark_comes_after_the_last() -> None:
    spider = make_spider()
    first_url = f"{SITE}forum.php?mod=viewthread&tid=1003"
    posts, requests, marks = run(spider.parse_thread, page(first_url, "bbs_viewthread_1003_page1.html"),
                                 tid=1003, listed=listed(1003, 4, "2025-6-2 13:05"))
    assert marks == []
    assert [p.meta["floor"] for p in posts] == [1, 2, 3]
    [next_page] = requests
    assert next_page.url == f"{SITE}forum.php?mod=viewthread&tid=1003&page=2"
    assert next_page.callback == spider.parse_thread
    assert next_page.cb_kwargs == {"page": 2, "tid": 1003, "listed": listed(1003, 4, "2025-6-2 13:05"),
                                   "earlier_posts": 3}
    posts, requests, marks = run(spider.parse_thread, page(next_page.url, "bbs_viewthread_1003_page2.html"),
                                 **next_page.cb_kwargs)
    # the comment pager of pid 5009 (a.nxt to javascript:) is not the thread's next page
    assert requests == []
    assert [(p.external_id, p.url, p.author, p.meta["floor"], p.posted_at) for p in posts] == [
        ("thread-1003#pid5008", f"{next_page.url}#pid5008", "查无此人", 4, "2025-06-02T11:20:00+08:00"),
        ("thread-1003#pid5009", f"{next_page.url}#pid5009", "kaihe_pro", 5, "2025-06-02T13:05:31+08:00"),
    ]
    assert [m.key for m in marks] == ["thread:1003"]


def test_floors_are_the_boards_own_numbers() -> None:
    # page 2 read without knowing page 1: 地板 and 5# still say floors 4 and 5
    posts, _, _ = run(make_spider().parse_thread,
                      page(f"{SITE}forum.php?mod=viewthread&tid=1003&page=2",
                           "bbs_viewthread_1003_page2.html"), tid=1003, page=2)
    assert [p.meta["floor"] for p in posts] == [4, 5]


def test_floor_names_a_board_chose_itself_fall_back_to_the_position() -> None:
    url = f"{SITE}forum.php?mod=viewthread&tid=1003&page=2"
    renamed = fixture("bbs_viewthread_1003_page2.html").replace("\n地板\n", "\n四楼\n")
    posts, _, _ = run(make_spider().parse_thread, html_response(url, renamed), tid=1003,
                      page=2, earlier_posts=3)
    assert [p.meta["floor"] for p in posts] == [4, 5]
    posts, _, _ = run(make_spider().parse_thread, html_response(url, renamed), tid=1003,
                      page=2, earlier_posts=10)
    assert [p.meta["floor"] for p in posts] == [11, 5]


def test_a_reply_stuck_to_the_top_is_one_post() -> None:
    """Discuz! shows a stuck reply at the top of page 1 (来自 3#) and again at its floor."""
    tree = lxml.html.fromstring(fixture("bbs_viewthread_1002.html"))
    [opening] = tree.xpath("//div[@id='post_5002']")
    [stuck] = copy.deepcopy(tree.xpath("//div[@id='post_5004']"))
    [number] = stuck.xpath(".//a[@id='postnum5004']")
    number.text, number[:] = " 来自 3# ", []
    opening.addnext(stuck)
    url = f"{SITE}forum.php?mod=viewthread&tid=1002"
    posts, _, _ = run(make_spider().parse_thread,
                      html_response(url, lxml.html.tostring(tree, encoding="unicode")), tid=1002)
    assert [(p.external_id, p.meta["floor"]) for p in posts] == [
        ("thread-1002#pid5002", 1), ("thread-1002#pid5004", 3), ("thread-1002#pid5003", 2)]


def test_max_pages_caps_a_thread_and_marks_it() -> None:
    spider = make_spider(max_pages=1)
    posts, requests, marks = run(spider.parse_thread,
                                 page(f"{SITE}forum.php?mod=viewthread&tid=1003",
                                      "bbs_viewthread_1003_page1.html"),
                                 tid=1003, listed=listed(1003, 4))
    assert (len(posts), requests, [m.key for m in marks]) == (3, [], ["thread:1003"])


def test_an_anonymous_post_has_no_author() -> None:
    posts, _, _ = run(make_spider().parse_thread,
                      page(f"{SITE}forum.php?mod=viewthread&tid=1004", "bbs_viewthread_1004.html"),
                      tid=1004, listed=listed(1004, 1))
    assert [(p.author, p.posted_at, p.text) for p in posts] == [
        (None, "2025-05-20T21:40:00+08:00", "长期收社保、公积金缴存数据，按条结算，要新鲜的。"),
        ("data_buyer", "2025-05-20T22:10:44+08:00", "有货的私信，走担保。"),
    ]


def test_a_gbk_thread_with_the_author_above_the_post() -> None:
    spider = make_spider()
    url = f"{SITE}gbk/thread-2002-1-1.html"
    response = page(url, "gbk_thread-2002-1-1.html")
    assert response.encoding == "gb18030"  # from the meta tag: the header says no charset
    posts, requests, _ = run(spider.parse_thread, response, tid=2002)
    assert [(p.author, p.posted_at, p.meta["floor"]) for p in posts] == [
        ("查询大王", "2025-05-16T09:12:40+08:00", 1),
        ("路人甲", "2025-05-17T14:03:22+08:00", 2),
        ("查询大王", "2025-05-17T15:30:00+08:00", 3),
    ]
    assert posts[0].text == "姓名、身份证、手机号三要素核验，秒出。\n另有开房、快递地址，详询。"
    assert posts[0].title == "开盒 查人 三要素 核验"
    assert [r.url for r in requests] == [f"{SITE}gbk/thread-2002-2-1.html"]


def test_a_relative_time_without_its_title_counts_back_from_now() -> None:
    spider = make_spider()
    spider.clock = lambda: datetime(2025, 6, 3, 10, 5, tzinfo=CHINA)
    url = f"{SITE}forum.php?mod=viewthread&tid=1002"
    text = fixture("bbs_viewthread_1002.html")
    with_titles, _, _ = run(spider.parse_thread, html_response(url, text), tid=1002)
    without = text.replace('<span title="2025-6-3 09:30:12">', "<span>")
    untitled, _, _ = run(spider.parse_thread, html_response(url, without), tid=1002)
    assert with_titles[1].posted_at == "2025-06-03T09:30:12+08:00"  # the title wins
    assert untitled[1].posted_at == "2025-06-03T09:35:00+08:00"  # 半小时前 from 10:05


def test_a_thread_given_as_a_start_url_gives_its_posts_and_no_mark() -> None:
    spider = make_spider()
    url = f"{SITE}forum.php?mod=viewthread&tid=1002"
    posts, requests, marks = run(spider.parse, page(url, "bbs_viewthread_1002.html"))
    assert [p.external_id for p in posts] == [f"thread-1002#pid{pid}" for pid in (5002, 5003, 5004)]
    assert posts[0].meta == {"thread": 1002, "floor": 1}
    assert (requests, marks, spider.failures) == ([], [], [])


def test_a_thread_page_in_another_layout_is_a_failure_and_no_mark() -> None:
    spider = make_spider()
    url = f"{SITE}forum.php?mod=viewthread&tid=1002"
    posts, requests, marks = run(spider.parse_thread, page(url, "bbs_viewthread_touch_layout.html"),
                                 tid=1002, listed=listed(1002))
    assert (posts, requests, marks) == ([], [], [])
    assert spider.failures == [f"{url}: no post blocks matched \"div[id^='post_'] / table[id^='pid']\""]


def test_a_thread_the_board_will_not_show_is_a_failure_that_quotes_the_board() -> None:
    spider = make_spider()
    url = f"{SITE}forum.php?mod=viewthread&tid=1002"
    run(spider.parse_thread, page(url, "bbs_viewthread_no_permission.html"), tid=1002,
        listed=listed(1002))
    [line] = spider.failures
    assert line.endswith("; the page says: 抱歉，本帖要求阅读权限高于 10 才能浏览")


def test_post_blocks_without_text_are_a_failure() -> None:
    spider = make_spider()
    url = f"{SITE}forum.php?mod=viewthread&tid=1002"
    emptied = fixture("bbs_viewthread_1002.html").replace('class="t_f"', 'class="t_x"')
    posts, _, marks = run(spider.parse_thread, html_response(url, emptied), tid=1002,
                          listed=listed(1002))
    assert (posts, marks) == ([], [])
    assert spider.failures == [f"{url}: no post text matched 'td.t_f'"]


# ----------------------------------------------------------------------- URLs, options


@pytest.mark.parametrize(("url", "tid"), [
    (f"{SITE}forum.php?mod=viewthread&tid=1002", 1002),
    (f"{SITE}forum.php?mod=viewthread&tid=1003&extra=page%3D2&page=2", 1003),
    (f"{SITE}gbk/thread-2002-2-1.html", 2002),
    (f"{SITE}forum.php?mod=forumdisplay&fid=2", None),
    (f"{SITE}gbk/forum-7-1.html", None),
    (f"{SITE}forum.php?mod=redirect&tid=1002&goto=lastpost", None),
])
def test_thread_id_of_both_url_forms(url: str, tid: int | None) -> None:
    assert thread_id(url) == tid


def test_thread_url_drops_the_list_page_the_link_came_from() -> None:
    assert thread_url(f"{SITE}forum.php?mod=viewthread&tid=1002&extra=page%3D2") == \
        f"{SITE}forum.php?mod=viewthread&tid=1002"
    assert thread_url(f"{SITE}gbk/thread-2003-1-2.html") == f"{SITE}gbk/thread-2003-1-1.html"


def test_the_discuz_kind_takes_no_options() -> None:
    DiscuzSpider.check_options({})
    with pytest.raises(OptionsError) as raised:
        DiscuzSpider.check_options({"item": "div.post"})
    assert raised.value.field == "item"


# ----------------------------------------------------------------------- real crawls

BBS_THREAD_PAGES = {
    "/forum.php?mod=viewthread&tid=1001": "bbs_viewthread_1001.html",
    "/forum.php?mod=viewthread&tid=1002": "bbs_viewthread_1002.html",
    "/forum.php?mod=viewthread&tid=1003": "bbs_viewthread_1003_page1.html",
    "/forum.php?mod=viewthread&tid=1003&page=2": "bbs_viewthread_1003_page2.html",
    "/forum.php?mod=viewthread&tid=1004": "bbs_viewthread_1004.html",
}
BBS_LIST_PAGES = {
    "/forum.php?mod=forumdisplay&fid=2": "bbs_forumdisplay_fid2_page1.html",
    "/forum.php?mod=forumdisplay&fid=2&page=2": "bbs_forumdisplay_fid2_page2.html",
}
GBK_LIST_PAGES = {"/gbk/forum-7-1.html": "gbk_forum-7-1.html",
                  "/gbk/forum-7-2.html": "gbk_forum-7-2.html"}
GBK_THREAD_PAGES = {
    "/gbk/thread-2001-1-1.html": "gbk_thread-2001-1-1.html",
    "/gbk/thread-2002-1-1.html": "gbk_thread-2002-1-1.html",
    "/gbk/thread-2002-2-1.html": "gbk_thread-2002-2-1.html",
    "/gbk/thread-2003-1-1.html": "gbk_thread-2003-1-1.html",
}
LIST_PATHS = sorted({**BBS_LIST_PAGES, **GBK_LIST_PAGES})
THREAD_PATHS = sorted({**BBS_THREAD_PAGES, **GBK_THREAD_PAGES})


def serve_boards(server: LoopbackServer, pages: dict[str, str]) -> None:
    """Serve fixture pages at their paths: the bbs board at the site's root in UTF-8, the
    gbk board under /gbk/ in GBK, as text/html without a charset."""
    site = server.base + "/"
    for path, name in pages.items():
        if name.startswith("gbk_"):
            server.add(path, gbk_bytes(fixture(name, site)), content_type="text/html")
        else:
            server.add(path, fixture(name, site))


def specs(server: LoopbackServer, **kwargs: Any) -> list[CrawlSpec]:
    return [
        CrawlSpec("bbs", "discuz", [server.url("/forum.php?mod=forumdisplay&fid=2")], {}, **kwargs),
        CrawlSpec("gbk", "discuz", [server.url("/gbk/forum-7-1.html")], {}, **kwargs),
    ]


def crawl(server: LoopbackServer, crawl_specs: list[CrawlSpec], items_path: Path,
          marks: dict[str, dict[str, dict]] | None = None
          ) -> tuple[dict[str, CrawlOutcome], list[dict], list[str]]:
    """One crawl in a child process: outcomes by source, the items in the order the
    pipeline got them, and the paths the server was asked for (robots.txt aside)."""
    before = len(server.requests)
    memories = {source: DictMemory(marks=dict(known)) for source, known in (marks or {}).items()}
    outcomes, items = crawl_in_child(crawl_specs, items_path, memories=memories)
    paths = [r.path for r in server.requests[before:] if r.path != "/robots.txt"]
    return {outcome.source: outcome for outcome in outcomes}, items, paths


def posts_of(items: list[dict], source: str) -> dict[str, dict]:
    return {item["external_id"]: item for item in items
            if "mark" not in item and item["source"] == source}


def marks_of(items: list[dict]) -> dict[str, dict[str, dict]]:
    marks: dict[str, dict[str, dict]] = {}
    for item in items:
        if "mark" in item:
            mark = item["mark"]
            marks.setdefault(mark["source"], {})[mark["key"]] = mark["value"]
    return marks


@pytest.fixture(scope="module")
def boards(tmp_path_factory: pytest.TempPathFactory):
    with loopback_server() as server:
        serve_boards(server, {**BBS_LIST_PAGES, **BBS_THREAD_PAGES, **GBK_LIST_PAGES,
                              **GBK_THREAD_PAGES})
        first = crawl(server, specs(server), tmp_path_factory.mktemp("discuz") / "items.jsonl")
        yield server, first


def test_first_crawl_reads_every_thread_and_every_post(boards) -> None:
    server, (outcomes, items, paths) = boards
    for source in ("bbs", "gbk"):
        assert (outcomes[source].failures, outcomes[source].error) == ([], None)
    assert sorted(paths) == sorted(LIST_PATHS + THREAD_PATHS)  # each page once
    bbs, gbk = posts_of(items, "bbs"), posts_of(items, "gbk")
    assert {pid: (post["author"], post["posted_at"]) for pid, post in bbs.items()} == {
        "thread-1001#pid5001": ("cha_dang_88", "2025-05-20T10:58:03+08:00"),
        "thread-1002#pid5002": ("hospital_vip", "2025-06-03T08:12:40+08:00"),
        "thread-1002#pid5003": ("buyer_a", "2025-06-03T09:30:12+08:00"),
        "thread-1002#pid5004": ("hospital_vip", "2025-06-03T09:48:03+08:00"),
        "thread-1003#pid5005": ("kaihe_pro", "2025-06-01T20:15:00+08:00"),
        "thread-1003#pid5006": ("xiaoming", "2025-06-02T09:00:27+08:00"),
        "thread-1003#pid5007": ("kaihe_pro", "2025-05-31T18:40:09+08:00"),
        "thread-1003#pid5008": ("查无此人", "2025-06-02T11:20:00+08:00"),
        "thread-1003#pid5009": ("kaihe_pro", "2025-06-02T13:05:31+08:00"),
        "thread-1004#pid5011": (None, "2025-05-20T21:40:00+08:00"),
        "thread-1004#pid5012": ("data_buyer", "2025-05-20T22:10:44+08:00"),
    }
    assert {pid: (post["author"], post["posted_at"]) for pid, post in gbk.items()} == {
        "thread-2001#pid6001": ("医保小王", "2025-06-03T07:50:18+08:00"),
        "thread-2001#pid6002": ("老客户", "2025-06-03T08:02:55+08:00"),
        "thread-2002#pid6003": ("查询大王", "2025-05-16T09:12:40+08:00"),
        "thread-2002#pid6004": ("路人甲", "2025-05-17T14:03:22+08:00"),
        "thread-2002#pid6005": ("查询大王", "2025-05-17T15:30:00+08:00"),
        "thread-2002#pid6006": ("小心被骗", "2025-05-18T23:59:10+08:00"),
        "thread-2003#pid6007": ("面单回收", "2025-05-10T16:45:00+08:00"),
    }
    assert bbs["thread-1003#pid5008"]["url"] == \
        server.url("/forum.php?mod=viewthread&tid=1003&page=2#pid5008")
    assert gbk["thread-2002#pid6006"]["url"] == server.url("/gbk/thread-2002-2-1.html#pid6006")
    assert gbk["thread-2001#pid6001"]["text"] == "医保卡就诊记录，全国可查，批量优惠。\n联系电报 @yibao_wang"
    assert gbk["thread-2002#pid6006"]["title"] == "开盒 查人 三要素 核验"
    assert bbs["thread-1002#pid5004"]["text"] == "加微信 med_2025，北京、上海的三甲都能开，带公章。"
    assert gbk["thread-2002#pid6003"]["meta"] == {"thread": 2002, "floor": 1, "replies": 3,
                                                   "views": 210}


def test_first_crawl_marks_each_thread_after_its_posts(boards) -> None:
    _, (_, items, _) = boards
    marks = marks_of(items)
    assert {source: sorted(known) for source, known in marks.items()} == {
        "bbs": ["thread:1001", "thread:1002", "thread:1003", "thread:1004"],
        "gbk": ["thread:2001", "thread:2002", "thread:2003"],
    }
    assert marks["bbs"]["thread:1003"]["replies"] == 4
    assert marks["bbs"]["thread:1003"]["last_post"] == "2025-6-2 13:05"
    assert marks["gbk"]["thread:2002"]["last_post"] == "2025-5-18 23:59"
    for index, item in enumerate(items):
        if "mark" in item:
            tid = int(item["mark"]["key"].split(":")[1])
            later_posts = [other for other in items[index:]
                           if "mark" not in other and other["meta"]["thread"] == tid]
            assert later_posts == [], f"a post of thread {tid} came after its mark"


def test_a_recrawl_of_an_unchanged_board_requests_only_list_pages(boards, tmp_path: Path) -> None:
    server, (_, first_items, _) = boards
    outcomes, items, paths = crawl(server, specs(server), tmp_path / "items.jsonl",
                                   marks_of(first_items))
    assert sorted(paths) == LIST_PATHS
    assert items == []
    assert all(outcome.failures == [] for outcome in outcomes.values())


def test_refetch_after_zero_fetches_every_thread_again(boards, tmp_path: Path) -> None:
    server, (_, first_items, _) = boards
    _, items, paths = crawl(server, specs(server, refetch_after_seconds=0),
                            tmp_path / "items.jsonl", marks_of(first_items))
    assert sorted(paths) == sorted(LIST_PATHS + THREAD_PATHS)
    assert len(posts_of(items, "bbs")) == 11 and len(posts_of(items, "gbk")) == 7


def test_only_the_thread_with_a_new_reply_is_fetched_again(boards, http_server: LoopbackServer,
                                                           tmp_path: Path) -> None:
    _, (_, first_items, _) = boards
    serve_boards(http_server, {**BBS_LIST_PAGES, **BBS_THREAD_PAGES,
                               "/forum.php?mod=forumdisplay&fid=2": "bbs_forumdisplay_fid2_page1_changed.html",
                               "/forum.php?mod=viewthread&tid=1002": "bbs_viewthread_1002_changed.html"})
    outcomes, items, paths = crawl(http_server, specs(http_server)[:1], tmp_path / "items.jsonl",
                                   {"bbs": marks_of(first_items)["bbs"]})
    assert outcomes["bbs"].failures == []
    assert sorted(paths) == sorted([*BBS_LIST_PAGES, "/forum.php?mod=viewthread&tid=1002"])
    posts = posts_of(items, "bbs")
    assert sorted(posts) == [f"thread-1002#pid{pid}" for pid in (5002, 5003, 5004, 5010)]
    new = posts["thread-1002#pid5010"]
    assert (new["author"], new["text"], new["posted_at"], new["meta"]) == (
        "buyer_b", "已加，刚付了定金，等结果。", "2025-06-03T10:01:45+08:00",
        {"thread": 1002, "floor": 4})
    assert posts["thread-1002#pid5002"]["meta"]["replies"] == 3
    mark = marks_of(items)["bbs"]
    assert list(mark) == ["thread:1002"]
    assert (mark["thread:1002"]["replies"], mark["thread:1002"]["last_post"]) == (3, "2025-6-3 10:01")
