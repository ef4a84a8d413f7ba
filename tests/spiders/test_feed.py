"""The feed spider and the feed reader on documents written here (no network)."""

from __future__ import annotations

from typing import Any

import pytest
import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from spiders.feed import FeedSpider
from spiders.items import PostItem
from spiders.syndication import NotAFeed, read_feed
from tests.spiders.responses import html_response, xml_response

FEED_URL = "http://feeds.test/channel.xml"
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>channel</title><link>http://feeds.test/</link>
  <item>
    <title>代查 开房记录</title>
    <link>/posts/1</link>
    <guid isPermaLink="false">tag:feeds.test,2025:1</guid>
    <description><![CDATA[<p>价格 <b>800</b> 元</p><p>1-2 天出单</p><script>x()</script>]]></description>
    <dc:creator>seller</dc:creator>
    <pubDate>Tue, 03 Jun 2025 09:30:00 +0800</pubDate>
  </item>
  <item>
    <title>no guid</title>
    <link>http://feeds.test/posts/2</link>
    <description>&lt;p&gt;escaped &amp;amp; html&lt;/p&gt;</description>
  </item>
  <item><title>no text</title><link>http://feeds.test/posts/3</link></item>
</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>atom channel</title><id>urn:feed</id><updated>2025-06-04T00:00:00Z</updated>
  <entry>
    <title type="html">&lt;b&gt;过人脸&lt;/b&gt; 代过</title>
    <id>urn:entry:1</id>
    <link rel="edit" href="/edit/1"/><link href="/entries/1"/>
    <author><name>atomseller</name></author>
    <published>2025-06-03T01:00:00Z</published><updated>2025-06-04T01:00:00Z</updated>
    <content type="html">&lt;p&gt;活体 认证&lt;/p&gt;&lt;p&gt;包过&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>xhtml entry</title><id>urn:entry:2</id>
    <updated>2025-06-05T08:00:00+08:00</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>one</p><p>two</p></div></content>
  </entry>
  <entry>
    <title>summary only</title><link href="http://feeds.test/entries/3"/>
    <summary>plain summary</summary>
  </entry>
</feed>"""
EMPTY_RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>quiet</title></channel></rss>'
EMPTY_ATOM = '<feed xmlns="http://www.w3.org/2005/Atom"><title>quiet</title></feed>'


def make_spider(options: dict[str, Any] | None = None) -> FeedSpider:
    return FeedSpider(source_name="feeds", urls=[FEED_URL], options=options or {}, max_pages=1)


def run(callback: Any, response: Any) -> tuple[list[PostItem], list[scrapy.Request]]:
    output = list(callback(response))
    items = [out for out in output if isinstance(out, PostItem)]
    requests = [out for out in output if isinstance(out, scrapy.Request)]
    assert len(items) + len(requests) == len(output)
    return items, requests


def test_rss_items_become_posts() -> None:
    spider = make_spider()
    items, requests = run(spider.parse, xml_response(FEED_URL, RSS))
    assert requests == []
    first, second = items
    assert first.external_id == "tag:feeds.test,2025:1"
    assert first.url == "http://feeds.test/posts/1"
    assert first.title == "代查 开房记录"
    assert first.text == "价格 800 元\n1-2 天出单"
    assert first.author == "seller"
    assert first.posted_at == "2025-06-03T09:30:00+08:00"
    assert second.external_id == "http://feeds.test/posts/2"
    assert second.text == "escaped & html"
    assert spider.failures == [], "one entry without text is not a failure of the feed"


def test_atom_entries_become_posts() -> None:
    spider = make_spider()
    items, _ = run(spider.parse, xml_response(FEED_URL, ATOM, "application/atom+xml"))
    first, second, third = items
    assert first.external_id == "urn:entry:1"
    assert first.url == "http://feeds.test/entries/1"
    assert (first.title, first.text) == ("过人脸 代过", "活体 认证\n包过")
    assert first.author == "atomseller"
    assert first.posted_at == "2025-06-03T01:00:00+00:00"
    assert (second.text, second.url) == ("one\ntwo", FEED_URL)
    assert second.posted_at == "2025-06-05T08:00:00+08:00"
    assert (third.external_id, third.text) == ("http://feeds.test/entries/3", "plain summary")


@pytest.mark.parametrize("empty", [EMPTY_RSS, EMPTY_ATOM])
def test_an_empty_feed_gives_nothing_and_is_no_failure(empty: str) -> None:
    spider = make_spider()
    assert run(spider.parse, xml_response(FEED_URL, empty)) == ([], [])
    assert spider.failures == []


@pytest.mark.parametrize("body", [
    "<html><body><p>Just a web page</p></body></html>",
    "<!DOCTYPE html><html><head><title>x</title></head><body><p>unclosed</body></html>",
    "%PDF-1.4 garbage \x00\x01",
    "",
    '<?xml version="1.0"?><opml version="2.0"><body/></opml>',
])
def test_a_response_that_is_not_a_feed_is_a_failure(body: str) -> None:
    spider = make_spider()
    assert run(spider.parse, html_response(FEED_URL, body)) == ([], [])
    assert spider.failures == [f"{FEED_URL}: not an RSS or Atom feed"]


def test_entities_are_never_expanded() -> None:
    laughs = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY file SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><guid>g</guid><title>&b;</title>
<description>x &file; y</description></item></channel></rss>"""
    [entry] = read_feed(laughs.encode(), FEED_URL)
    assert "aaaa" not in (entry.title or "")
    assert "root:" not in entry.text


def test_read_feed_rejects_html_with_the_reason() -> None:
    with pytest.raises(NotAFeed, match="root element is <html>"):
        read_feed(b"<html><body/></html>", FEED_URL)


def test_an_entry_with_neither_guid_nor_link_is_skipped_with_a_failure() -> None:
    feed = ('<rss version="2.0"><channel><item><title>orphan</title>'
            "<description>text</description></item></channel></rss>")
    spider = make_spider()
    assert run(spider.parse, xml_response(FEED_URL, feed)) == ([], [])
    assert spider.failures == [f"{FEED_URL}: entry 'orphan' has neither guid nor link, skipped"]


def test_a_feed_whose_entries_all_lack_text_is_a_failure() -> None:
    feed = ('<rss version="2.0"><channel><item><link>http://feeds.test/a</link></item>'
            "</channel></rss>")
    spider = make_spider()
    assert run(spider.parse, xml_response(FEED_URL, feed)) == ([], [])
    assert spider.failures == [f"{FEED_URL}: no entry has any text"]


def test_follow_fetches_each_entry_page_and_takes_its_text() -> None:
    spider = make_spider({"follow": True})
    items, requests = run(spider.parse, xml_response(FEED_URL, RSS))
    assert items == []
    assert [r.url for r in requests] == [f"http://feeds.test/posts/{n}" for n in (1, 2, 3)]
    page = "<html><body><nav>menu</nav><article><p>full</p><p>story</p></article></body></html>"
    [item], _ = run(lambda response: spider.parse_entry_page(response, **requests[0].cb_kwargs),
                    html_response(requests[0].url, page))
    assert item.text == "full\nstory"
    assert item.external_id == "tag:feeds.test,2025:1"
    assert item.title == "代查 开房记录"


def test_follow_keeps_the_feed_text_when_the_page_fails() -> None:
    spider = make_spider({"follow": True})
    _, requests = run(spider.parse, xml_response(FEED_URL, RSS))
    request: Request = requests[0]
    failure = Failure(ConnectionRefusedError("refused"))
    failure.request = request  # as Scrapy sets it before calling an errback
    [item] = list(request.errback(failure))
    assert item.text == "价格 800 元\n1-2 天出单"
    assert spider.failures == [f"{request.url}: ConnectionRefusedError: refused"]


def test_follow_with_an_empty_page_and_no_feed_text_is_a_failure() -> None:
    spider = make_spider({"follow": True})
    _, requests = run(spider.parse, xml_response(FEED_URL, RSS))
    last = requests[-1]
    items = list(spider.parse_entry_page(Response(last.url, body=b"\x00", headers={
        "Content-Type": "application/octet-stream"}), **last.cb_kwargs))
    assert items == []
    assert spider.failures == [
        f"{last.url}: not a text page (application/octet-stream)",
        f"{last.url}: no visible text on the entry's page or in the feed",
    ]
