"""The generic spider on JSON APIs (``format = "json"``): paths, option checks, parsing in
memory, and real crawls against a loopback API in a child process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import Request, Response, TextResponse

from spiders import OptionsError, validate_options
from spiders.generic import GenericSpider
from spiders.items import PostItem
from spiders.jsonpath import PathError, parse_path, scalars, unix_time
from spiders.memory import DictMemory
from spiders.runner import CrawlOutcome, CrawlSpec
from tests.helpers import LoopbackServer, loopback_server
from tests.spiders.crawl_child import crawl_in_child

API = "http://api.test/v1/posts"
TEMPLATE = f"{API}?page={{page}}"
OPTIONS = {
    "format": "json",
    "items": "data.list",
    "id": "id",
    "text": "content",
    "title": "title",
    "author": "user.nickname",
    "posted_at": "created_at",
    "url": "share_url",
}


# --- paths -----------------------------------------------------------------------------

DOCUMENT = {
    "data": {
        "list": [
            {"id": 1, "text": "first", "tags": ["a", "b"], "user": {"name": "amy"}},
            {"id": 2, "text": "second", "replies": [{"text": "r1"}, {"text": "r2"}]},
        ],
        "by_id": {"7": {"text": "seven"}, "8": {"text": "eight"}},
        "0": "a key named 0",
    },
    "total": 2,
}


@pytest.mark.parametrize(("path", "found"), [
    ("total", [2]),
    ("data.list.0.text", ["first"]),
    ("data.list[0].text", ["first"]),
    ("data.list.-1.id", [2]),
    ("data.list[-1].id", [2]),
    ("data.list.0.user.name", ["amy"]),
    ("data.list[].id", [1, 2]),
    ("data.list[1].replies[].text", ["r1", "r2"]),
    ("data.list[].replies[].text", ["r1", "r2"]),
    ("data.by_id[].text", ["seven", "eight"]),
    ("data.0", ["a key named 0"]),
    ("$.total", [2]),
    ("$", [DOCUMENT]),
    ("  total ", [2]),
])
def test_a_path_finds_its_values(path: str, found: list[Any]) -> None:
    assert parse_path(path).find(DOCUMENT) == found


@pytest.mark.parametrize("path", [
    "missing", "data.missing.deeper", "data.list.2", "data.list[-3]", "total.value",
    "data.list.0.text.0", "data.list[0].text[]", "data.by_id[0]", "data.list.x",
])
def test_a_path_that_leads_nowhere_finds_nothing(path: str) -> None:
    assert parse_path(path).find(DOCUMENT) == []


def test_a_top_level_list() -> None:
    document = [{"id": "a"}, {"id": "b"}]
    assert parse_path("$[].id").find(document) == ["a", "b"]
    assert parse_path("[1].id").find(document) == ["b"]
    assert parse_path("1.id").find(document) == ["b"]


@pytest.mark.parametrize(("path", "words"), [
    ("", "non-empty"),
    ("   ", "non-empty"),
    ("a..b", "empty key"),
    ("a.", "empty key"),
    (".a", "empty key"),
    ("$.", "ends with a dot"),
    ("$a", "followed by"),
    ("a[x]", "cannot read"),
    ("a[", "cannot read"),
    ("a]b", "cannot read"),
    ("a[-]", "not a list position"),
    ("a.[0]", "empty key"),
])
def test_paths_that_cannot_be_read(path: str, words: str) -> None:
    with pytest.raises(PathError) as raised:
        parse_path(path)
    assert words in str(raised.value)


def test_a_path_must_be_a_string() -> None:
    with pytest.raises(PathError):
        parse_path(3)  # type: ignore[arg-type]


def test_scalars_are_the_text_of_what_a_path_found() -> None:
    found = [" spaced ", 12, 1.5, True, False, None, "", {"an": "object"}, ["x", ["y", 3]]]
    assert scalars(found) == ["spaced", "12", "1.5", "true", "false", "x", "y", "3"]


@pytest.mark.parametrize(("value", "iso"), [
    (1748914200, "2025-06-03T01:30:00+00:00"),
    (1748914200000, "2025-06-03T01:30:00+00:00"),
    (1748914200123, "2025-06-03T01:30:00+00:00"),
    (1748914200.5, "2025-06-03T01:30:00+00:00"),
    ("1748914200", "2025-06-03T01:30:00+00:00"),
    ("1748914200000", "2025-06-03T01:30:00+00:00"),
    (0, "1970-01-01T00:00:00+00:00"),
    ("20250603", None),  # an ISO date, not a Unix time
    ("2025-06-03", None),
    (True, None),
    (None, None),
    (10**30, None),
    (float("nan"), None),
    (10**400, None),
])
def test_unix_times_in_seconds_and_milliseconds(value: Any, iso: str | None) -> None:
    assert unix_time(value) == iso


# --- options ---------------------------------------------------------------------------

@pytest.mark.parametrize("options", [
    OPTIONS,
    {"format": "json", "items": "$", "id": "id", "text": "body"},
    {"format": "json", "items": "data.posts[]", "id": "$.pid", "text": "floors[].html",
     "page_size": 20, "first_page": 0},
    {"format": "html", "item": "div.msg", "text": "p"},
])
def test_valid_json_options_pass(options: dict[str, Any]) -> None:
    validate_options("generic", options)


@pytest.mark.parametrize(("options", "field", "words"), [
    ({**OPTIONS, "format": "xml"}, "format", '"html"'),
    ({**OPTIONS, "format": True}, "format", '"json"'),
    ({k: v for k, v in OPTIONS.items() if k != "items"}, "items", "required"),
    ({k: v for k, v in OPTIONS.items() if k != "text"}, "text", "required"),
    ({k: v for k, v in OPTIONS.items() if k != "id"}, "id", "required"),
    ({**OPTIONS, "item_links": "a.thread"}, "item_links", "HTML sources"),
    ({**OPTIONS, "item": "div.msg"}, "item", "HTML sources"),
    ({**OPTIONS, "next_page": "a.next"}, "next_page", "{page}"),
    ({**OPTIONS, "items": ""}, "items", "non-empty"),
    ({**OPTIONS, "text": "content..body"}, "text", "not a valid path"),
    ({**OPTIONS, "author": ["user", "name"]}, "author", "non-empty string"),
    ({**OPTIONS, "url": "links[first]"}, "url", "not a valid path"),
    ({**OPTIONS, "page_size": 0}, "page_size", "1 or more"),
    ({**OPTIONS, "page_size": "20"}, "page_size", "whole number"),
    ({**OPTIONS, "page_size": True}, "page_size", "whole number"),
    ({**OPTIONS, "first_page": -1}, "first_page", "0 or more"),
    ({**OPTIONS, "itmes": "data.list"}, "itmes", "unknown option"),
    ({"item_links": "a", "text": "div.post", "items": "data.list"}, "items",
     'format = "json"'),
    ({"item": "div.msg", "text": "p", "page_size": 20}, "page_size", 'format = "json"'),
    ({"format": "html", "item": "div.msg", "text": "p", "url": "a"}, "url", 'format = "json"'),
])
def test_invalid_json_options_name_the_field(options: dict[str, Any], field: str,
                                             words: str) -> None:
    with pytest.raises(OptionsError) as raised:
        validate_options("generic", options)
    assert (raised.value.field, words in raised.value.message) == (field, True), raised.value


@pytest.mark.parametrize(("urls", "options", "field", "words"), [
    ([f"{API}?p={{pgae}}"], OPTIONS, "urls", "unknown placeholder {pgae}"),
    ([TEMPLATE, f"{API}?start={{offset}}"], OPTIONS, "page_size", "{offset}"),
])
def test_url_templates_are_checked_when_the_spider_starts(
        urls: list[str], options: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(OptionsError) as raised:
        make_spider(options, urls=urls)
    assert raised.value.field == field
    assert words in raised.value.message


# --- parsing in memory -----------------------------------------------------------------

def make_spider(options: dict[str, Any] | None = None, *, urls: list[str] | None = None,
                max_pages: int = 5, memory: DictMemory | None = None) -> GenericSpider:
    return GenericSpider(source_name="api", urls=urls or [TEMPLATE], options=options or OPTIONS,
                         max_pages=max_pages, memory=memory)


def json_response(url: str, body: Any, content_type: str = "application/json") -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    cls = TextResponse if content_type.startswith(("application/json", "text/")) else Response
    return cls(url=url, body=data, headers={"Content-Type": content_type},
               request=Request(url))


def page_of(*items: dict[str, Any]) -> dict[str, Any]:
    return {"code": 0, "data": {"list": list(items)}}


def post(number: int, **fields: Any) -> dict[str, Any]:
    return {"id": number, "content": f"post {number}", **fields}


def run(spider: GenericSpider, response: Response, *, template: str = TEMPLATE,
        index: int = 0) -> tuple[list[PostItem], list[scrapy.Request]]:
    output = list(spider.parse_api_page(response, template=template, index=index))
    items = [out for out in output if isinstance(out, PostItem)]
    requests = [out for out in output if isinstance(out, scrapy.Request)]
    assert len(items) + len(requests) == len(output)
    return items, requests


def first_requests(spider: GenericSpider) -> list[scrapy.Request]:
    async def collect() -> list[scrapy.Request]:
        return [request async for request in spider.start()]

    return asyncio.run(collect())


def test_an_item_gives_every_field() -> None:
    spider = make_spider()
    url = f"{API}?page=1"
    items, requests = run(spider, json_response(url, page_of({
        "id": 901, "content": "<p>出售 <b>体检报告</b></p><p>联系 QQ&nbsp;123456</p>",
        "title": "<em>出售</em> 资料", "user": {"nickname": "seller42"},
        "created_at": 1748914200000, "share_url": "/p/901",
    })))
    [item] = items
    assert item.source == "api"
    assert item.external_id == "901"
    assert item.text == "出售 体检报告\n联系 QQ 123456"
    assert item.title == "出售 资料"
    assert item.author == "seller42"
    assert item.posted_at == "2025-06-03T01:30:00+00:00"
    assert item.url == "http://api.test/p/901"
    assert [r.url for r in requests] == [f"{API}?page=2"]
    assert requests[0].callback == spider.parse_api_page
    assert requests[0].errback == spider.record_failure
    assert requests[0].cb_kwargs == {"template": TEMPLATE, "index": 1}
    assert spider.failures == []


def test_plain_text_is_kept_as_written_not_parsed_as_html() -> None:
    spider = make_spider()
    items, _ = run(spider, json_response(f"{API}?page=1", page_of(
        post(1, content="价格 a<b 当天   出单\n\n第二行"))))
    assert items[0].text == "价格 a<b 当天 出单\n第二行"


def test_optional_fields_and_the_default_url() -> None:
    spider = make_spider()
    items, _ = run(spider, json_response(f"{API}?page=3", page_of(
        post(7, created_at="2025-06-03 09:30", share_url="javascript:void(0)"),
        {"id": "a/b", "content": "x", "created_at": "yesterday-ish"},
    )))
    first, second = items
    assert (first.title, first.author) == (None, None)
    assert first.posted_at == "2025-06-03T09:30:00"
    assert first.url == f"{API}?page=3#7", "a link that is not http(s) is not the post's URL"
    assert second.url == f"{API}?page=3#a%2Fb"
    assert second.posted_at is None


def test_several_values_join_and_lists_of_text_read_as_text() -> None:
    options = {**OPTIONS, "text": "floors[].html", "title": "tags", "id": "ids.0"}
    spider = make_spider(options)
    items, _ = run(spider, json_response(f"{API}?page=1", page_of(
        {"ids": [55], "floors": [{"html": "<p>one</p>"}, {"html": "two"}, {"x": 1}],
         "tags": ["出售", "资料"]})))
    [item] = items
    assert (item.external_id, item.text, item.title) == ("55", "one\ntwo", "出售 资料")


def test_items_without_text_are_skipped_and_without_id_are_counted() -> None:
    spider = make_spider()
    items, requests = run(spider, json_response(f"{API}?page=1", page_of(
        post(1), {"id": 2, "content": "   "}, {"id": 3}, {"content": "no id"}, "a string",
    )))
    assert [item.external_id for item in items] == ["1"]
    assert spider.failures == [
        f"{API}?page=1: 1 of 5 items have text but no id at id path 'id', skipped"
    ]
    assert len(requests) == 1


def test_a_page_where_no_item_has_text_is_a_failure_and_the_last_page() -> None:
    spider = make_spider()
    items, requests = run(spider, json_response(f"{API}?page=1", page_of(
        {"id": 1, "body": "renamed field"}, {"id": 2, "body": "again"})))
    assert (items, requests) == ([], [])
    assert spider.failures == [f"{API}?page=1: no item has text at text path 'content'"]


@pytest.mark.parametrize("body", [page_of(), {"data": {"list": None}}])
def test_an_empty_page_ends_the_listing_without_a_failure(body: dict[str, Any]) -> None:
    spider = make_spider()
    assert run(spider, json_response(f"{API}?page=4", body), index=3) == ([], [])
    assert spider.failures == []


def test_paging_stops_at_max_pages() -> None:
    spider = make_spider(max_pages=2)
    _, requests = run(spider, json_response(f"{API}?page=1", page_of(post(1))), index=0)
    assert [r.url for r in requests] == [f"{API}?page=2"]
    _, requests = run(spider, json_response(f"{API}?page=2", page_of(post(2))), index=1)
    assert requests == []


def test_a_url_without_placeholder_is_one_page() -> None:
    spider = make_spider(urls=[f"{API}/latest"])
    assert [r.url for r in first_requests(spider)] == [f"{API}/latest"]
    items, requests = run(spider, json_response(f"{API}/latest", page_of(post(1))),
                          template=f"{API}/latest")
    assert (len(items), requests) == (1, [])


def test_offset_and_first_page_placeholders() -> None:
    spider = make_spider({**OPTIONS, "page_size": 20, "first_page": 0},
                         urls=[f"{API}?offset={{offset}}&n=20", f"{API}?p={{page}}"])
    assert [r.url for r in first_requests(spider)] == [f"{API}?offset=0&n=20", f"{API}?p=0"]
    template = f"{API}?offset={{offset}}&n=20"
    _, requests = run(spider, json_response(f"{API}?offset=20&n=20", page_of(post(1))),
                      template=template, index=1)
    assert [r.url for r in requests] == [f"{API}?offset=40&n=20"]
    assert requests[0].cb_kwargs == {"template": template, "index": 2}


def test_a_page_whose_posts_are_all_stored_is_the_last() -> None:
    spider = make_spider(memory=DictMemory({"1", "2"}))
    items, requests = run(spider, json_response(f"{API}?page=1", page_of(post(1), post(2))))
    assert [item.external_id for item in items] == ["1", "2"], "stored posts are refreshed"
    assert requests == []
    items, requests = run(spider, json_response(f"{API}?page=1", page_of(post(2), post(3))))
    assert [item.external_id for item in items] == ["3"]
    assert len(requests) == 1, "a page with a new post leads on"


def test_an_api_that_ignores_the_page_number_stops_after_one_repeat() -> None:
    spider = make_spider()
    body = page_of(post(1), post(2))
    first, requests = run(spider, json_response(f"{API}?page=1", body), index=0)
    assert len(first) == 2 and len(requests) == 1
    again, requests = run(spider, json_response(f"{API}?page=2", body), index=1)
    assert (again, requests) == ([], [])


def test_items_path_forms() -> None:
    by_id = {"data": {"list": {"p1": post(1), "p2": post(2)}}}
    spider = make_spider({**OPTIONS, "items": "data.list[]"})
    items, _ = run(spider, json_response(f"{API}?page=1", by_id))
    assert [item.external_id for item in items] == ["1", "2"]
    spider = make_spider({**OPTIONS, "items": "$"})
    items, _ = run(spider, json_response(f"{API}?page=1", [post(3)]))
    assert [item.external_id for item in items] == ["3"]
    spider = make_spider({**OPTIONS, "items": "groups[].posts"})
    grouped = {"groups": [{"posts": [post(4)]}, {"posts": []}, {"posts": [post(5)]}]}
    items, _ = run(spider, json_response(f"{API}?page=1", grouped))
    assert [item.external_id for item in items] == ["4", "5"]
    assert spider.failures == []


@pytest.mark.parametrize(("items_path", "body", "line"), [
    ("data.list", {"code": 401, "msg": "login"},
     "no list at items path 'data.list' (nothing there; the response's keys: code, msg)"),
    ("data.list", {"data": {"list": {"p1": {}}}},
     "no list at items path 'data.list' (found an object; 'data.list[]' takes an object's "
     "values)"),
    ("data.list", {"data": {"list": "none"}},
     "no list at items path 'data.list' (found a string)"),
    ("data.list[]", {"data": {"list": 3}},
     "no list at items path 'data.list[]' (found a number)"),
    ("data.list[]", {"data": {}},
     "no list at items path 'data.list[]' (nothing there; the response's keys: data)"),
    ("$", "just a string", "no list at items path '$' (found a string)"),
])
def test_no_list_at_the_items_path_is_a_failure(items_path: str, body: Any, line: str) -> None:
    spider = make_spider({**OPTIONS, "items": items_path})
    assert run(spider, json_response(f"{API}?page=1", body)) == ([], [])
    assert spider.failures == [f"{API}?page=1: {line}"]


@pytest.mark.parametrize(("body", "content_type", "what"), [
    (b"<html><body>Please log in</body></html>", "text/html; charset=utf-8",
     "Expecting value at line 1 column 1 (Content-Type: text/html)"),
    (b'{"data": {"list": [}', "application/json",
     "Expecting value at line 1 column 20 (Content-Type: application/json)"),
    (b"", "application/json", "Expecting value at line 1 column 1 (Content-Type: application/json)"),
    (b"\xff\xfe\xfa", "application/octet-stream",
     "not UTF-8 text and no charset declared (Content-Type: application/octet-stream)"),
])
def test_a_response_that_is_not_json_is_a_failure(body: bytes, content_type: str,
                                                  what: str) -> None:
    spider = make_spider()
    assert run(spider, json_response(f"{API}?page=1", body, content_type)) == ([], [])
    assert spider.failures == [f"{API}?page=1: not JSON: {what}"]


def test_json_nested_too_deep_is_a_failure_not_a_crash() -> None:
    spider = make_spider()
    body = b"[" * 100_000 + b"]" * 100_000
    assert run(spider, json_response(f"{API}?page=1", body)) == ([], [])
    [line] = spider.failures
    assert line.startswith(f"{API}?page=1: not JSON: maximum recursion depth exceeded")
    assert line.endswith("(Content-Type: application/json)")


def test_json_in_a_declared_charset_or_without_a_text_type_decodes() -> None:
    spider = make_spider()
    gbk = json.dumps(page_of(post(1, content="出售病历资料")), ensure_ascii=False)
    items, _ = run(spider, json_response(f"{API}?page=1", gbk.encode("gbk"),
                                         "application/json; charset=gbk"))
    assert items[0].text == "出售病历资料"
    items, _ = run(spider, json_response(f"{API}?page=2", page_of(post(2)),
                                         "application/octet-stream"))
    assert items[0].text == "post 2"


def test_html_sources_still_start_from_their_urls() -> None:
    spider = GenericSpider(source_name="forum", urls=["http://forum.test/f/"],
                           options={"item_links": "a.t", "text": "div"}, max_pages=1)
    assert spider.api is None
    [request] = first_requests(spider)
    assert (request.url, request.callback) == ("http://forum.test/f/", spider.parse)


# --- real crawls -----------------------------------------------------------------------

API_PATH = "/api/v1/posts"


def api_item(number: int) -> dict[str, Any]:
    return {
        "pid": f"p{number}",
        "body": {"html": f"<div><p>出售 资料 {number}</p><p>联系 <b>QQ</b> 10{number}</p></div>"},
        "author": {"profile": {"nickname": f"user{number}"}},
        "ts": 1748914200000 + number * 60_000,
        "links": [{"href": f"/p/{number}"}],
    }


API_PAGES = {1: [1, 2], 2: [3, 4], 3: [5]}
CRAWL_OPTIONS = {
    "format": "json",
    "items": "result.data.items",
    "id": "pid",
    "text": "body.html",
    "author": "author.profile.nickname",
    "posted_at": "ts",
    "url": "links.0.href",
}


def serve_api(server: LoopbackServer) -> None:
    for page, numbers in {**API_PAGES, 4: []}.items():
        body = {"result": {"data": {"items": [api_item(n) for n in numbers]}, "page": page}}
        server.add(f"{API_PATH}?page={page}", json.dumps(body, ensure_ascii=False),
                   content_type="application/json")
    server.add("/api/login-wall?page=1", "<html><body>请登录</body></html>")
    server.add("/api/moved?page=1", json.dumps({"code": 0, "payload": []}),
               content_type="application/json")


def summary(outcome: CrawlOutcome) -> tuple[int, list[str], str | None]:
    return outcome.items, outcome.failures, outcome.error


def api_requests(server: LoopbackServer) -> list[str]:
    return [request.path for request in server.requests if request.path != "/robots.txt"]


@pytest.fixture(scope="module")
def api_site() -> Iterator[LoopbackServer]:
    with loopback_server() as server:
        serve_api(server)
        yield server


@pytest.fixture(scope="module")
def api_crawl(api_site: LoopbackServer, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[dict[str, CrawlOutcome], dict[str, list[dict]]]:
    specs = [
        CrawlSpec("api", "generic", [api_site.url(f"{API_PATH}?page={{page}}")], CRAWL_OPTIONS),
        CrawlSpec("login-wall", "generic", [api_site.url("/api/login-wall?page={page}")],
                  CRAWL_OPTIONS),
        CrawlSpec("moved", "generic", [api_site.url("/api/moved?page={page}")], CRAWL_OPTIONS),
        CrawlSpec("bad-template", "generic", [api_site.url("/api/x?start={offset}")],
                  CRAWL_OPTIONS),
    ]
    outcomes, items = crawl_in_child(specs, tmp_path_factory.mktemp("api") / "items.jsonl")
    by_source: dict[str, list[dict]] = {spec.source: [] for spec in specs}
    for item in items:
        by_source[item["source"]].append(item)
    return {outcome.source: outcome for outcome in outcomes}, by_source


def test_a_json_api_crawl_walks_its_pages_until_an_empty_one(
        api_site: LoopbackServer, api_crawl: tuple[dict, dict]) -> None:
    outcomes, items = api_crawl
    assert summary(outcomes["api"]) == (5, [], None)
    posts = {post["external_id"]: post for post in items["api"]}
    assert sorted(posts) == ["p1", "p2", "p3", "p4", "p5"]
    third = posts["p3"]
    assert third["text"] == "出售 资料 3\n联系 QQ 103"
    assert third["author"] == "user3"
    assert third["posted_at"] == "2025-06-03T01:33:00+00:00"
    assert third["url"] == api_site.url("/p/3")
    assert third["title"] is None
    pages = [path for path in api_requests(api_site) if path.startswith(API_PATH)]
    assert pages == [f"{API_PATH}?page={n}" for n in (1, 2, 3, 4)]


def test_a_crawl_that_gets_html_or_the_wrong_shape_says_so(
        api_site: LoopbackServer, api_crawl: tuple[dict, dict]) -> None:
    outcomes, items = api_crawl
    assert summary(outcomes["login-wall"]) == (0, [
        f"{api_site.url('/api/login-wall?page=1')}: not JSON: Expecting value at line 1 "
        "column 1 (Content-Type: text/html)"], None)
    assert summary(outcomes["moved"]) == (0, [
        f"{api_site.url('/api/moved?page=1')}: no list at items path 'result.data.items' "
        "(nothing there; the response's keys: code, payload)"], None)
    assert items["login-wall"] == items["moved"] == []
    assert "/api/login-wall?page=2" not in api_requests(api_site)


def test_a_bad_url_template_stops_only_its_source(api_crawl: tuple[dict, dict]) -> None:
    outcomes, _ = api_crawl
    bad = outcomes["bad-template"]
    assert bad.error is not None and "page_size" in bad.error
    assert outcomes["api"].items == 5


def test_a_recrawl_stops_at_the_first_page_it_already_stored(http_server: LoopbackServer,
                                                             tmp_path: Path) -> None:
    serve_api(http_server)
    spec = CrawlSpec("api", "generic", [http_server.url(f"{API_PATH}?page={{page}}")],
                     CRAWL_OPTIONS)
    memory = DictMemory({f"p{n}" for n in API_PAGES[1]})
    outcomes, items = crawl_in_child([spec], tmp_path / "items.jsonl", memories={"api": memory})
    assert [summary(outcome) for outcome in outcomes] == [(2, [], None)]
    assert sorted(item["external_id"] for item in items) == ["p1", "p2"]
    assert api_requests(http_server) == [f"{API_PATH}?page=1"]
