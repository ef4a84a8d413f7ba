"""How a source's requests go out, against real servers on loopback: headers and cookies,
an HTTP proxy, a SOCKS5 proxy, robots.txt per source, and retries that back off."""

from __future__ import annotations

import time
from pathlib import Path

from spiders.retry import retry_after
from spiders.runner import CrawlSpec
from tests.helpers import LoopbackServer, Recorded, Route, loopback_server, socks_proxy
from tests.spiders.crawl_child import crawl_in_child

OPTIONS = {"item": "div.post", "text": "p"}
PAGE = "<html><body><div class='post'><p>出 户籍 查询 私聊</p></div></body></html>"


def _pages(server: LoopbackServer) -> list[Recorded]:
    return [r for r in server.requests if not r.path.endswith("/robots.txt")]


def test_headers_and_cookies_go_with_every_request(http_server: LoopbackServer,
                                                   tmp_path: Path) -> None:
    url = http_server.add("/board/", PAGE)
    spec = CrawlSpec("board", "generic", [url], OPTIONS, request={
        "headers": {"X-Token": "t0ken"}, "cookies": {"sid": "abc"}, "obey_robots": True})
    outcomes, items = crawl_in_child([spec], tmp_path / "items.jsonl")
    assert outcomes[0].items == 1 and not outcomes[0].failures
    (page,) = _pages(http_server)
    assert page.headers["X-Token"] == "t0ken"
    assert "sid=abc" in page.headers["Cookie"]


def test_a_source_may_ignore_robots_txt_when_told(http_server: LoopbackServer,
                                                  tmp_path: Path) -> None:
    http_server.add("/robots.txt", "User-agent: *\nDisallow: /", content_type="text/plain")
    url = http_server.add("/board/", PAGE)
    obeying = CrawlSpec("obeying", "generic", [url], OPTIONS, request={"obey_robots": True})
    ignoring = CrawlSpec("ignoring", "generic", [url], OPTIONS, request={"obey_robots": False})
    outcomes, _ = crawl_in_child([obeying, ignoring], tmp_path / "items.jsonl")
    by_source = {outcome.source: outcome for outcome in outcomes}
    assert by_source["obeying"].items == 0 and by_source["ignoring"].items == 1
    assert len(_pages(http_server)) == 1  # only the source told to ignore robots.txt asked


def test_an_http_proxy_carries_the_requests(tmp_path: Path) -> None:
    """The target host does not exist: only a proxy that really carried the request can
    have answered it, and it saw the absolute URL."""
    proxy = LoopbackServer(handler=lambda r: Route(PAGE.encode()) if "/board/" in r.path else None)
    with loopback_server(proxy):
        spec = CrawlSpec("board", "generic", ["http://board.invalid/board/"], OPTIONS,
                         request={"proxy": proxy.base, "obey_robots": True})
        outcomes, items = crawl_in_child([spec], tmp_path / "items.jsonl")
    assert outcomes[0].items == 1, outcomes[0].failures
    assert [r.path for r in _pages(proxy)] == ["http://board.invalid/board/"]


def test_a_socks5_proxy_carries_the_requests(http_server: LoopbackServer,
                                             tmp_path: Path) -> None:
    http_server.add("/board/", PAGE)
    with socks_proxy(http_server.port) as proxy:
        spec = CrawlSpec("hidden", "generic", ["http://hidden.onion/board/"], OPTIONS,
                         request={"proxy": f"socks5://127.0.0.1:{proxy.port}",
                                  "obey_robots": True})
        outcomes, items = crawl_in_child([spec], tmp_path / "items.jsonl")
    assert outcomes[0].items == 1, outcomes[0].failures
    assert "hidden.onion" in proxy.asked  # the name went to the proxy, as Tor needs
    assert items[0]["text"] == "出 户籍 查询 私聊"


def test_a_busy_site_is_retried_after_the_time_it_asks_for(http_server: LoopbackServer,
                                                          tmp_path: Path) -> None:
    answered: list[float] = []

    def busy_then_fine(request: Recorded) -> Route | None:
        if request.path != "/board/":
            return None
        answered.append(time.monotonic())
        if len(answered) == 1:
            return Route(b"slow down", 429, "text/plain", {"Retry-After": "1"})
        return Route(PAGE.encode())

    http_server.handler = busy_then_fine
    spec = CrawlSpec("board", "generic", [http_server.url("/board/")], OPTIONS,
                     request={"obey_robots": True})
    outcomes, _ = crawl_in_child([spec], tmp_path / "items.jsonl")
    assert outcomes[0].items == 1 and not outcomes[0].failures
    assert len(answered) == 2 and answered[1] - answered[0] >= 0.9


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after(b"7") == 7.0
    assert retry_after(None) == 0.0 and retry_after(b"soon") == 0.0
    assert retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
