"""How fast is a whole doxwatch crawl, next to a bare Scrapy spider? Run by hand, not by pytest:

    python benchmarks/crawl.py [--pages 2000] [--per-domain 16] [--delay 0] [--repeat 1]
                               [--pg-url URL | --no-pg] [--no-profile]
                               [--profile-db sqlite|postgresql]

A fixture forum is built in memory and served on loopback by a ``ThreadingHTTPServer`` in this
process (HTTP/1.1 keep-alive, no Nagle delay): N thread pages (default 2,000) behind N / 20
list pages of 20 thread links each, chained by "下一页" links. Thread pages are realistic forum
HTML of 10–30 KB (head with styles, scripts and an inline state blob, navigation, breadcrumb,
sidebar, replies, footer) around one post of 200–800 characters cut from the shipped data
(seeded, so every run serves the same site); a third of the posts carry a victim's mobile,
ID or bank card number that ingest must mask, some also the seller's own phone number that
must stay readable.

The source is a ``generic`` one with selectors (``item_links``, ``title``, ``text``,
``author``, ``posted_at``, ``next_page``) and ``[crawl] delay = 0``, ``obey_robots = false``,
``per_domain = 16`` (``--delay``, ``--per-domain``): politeness off, so that it does not set
the figure (with the default ``delay = 1.0`` a crawl does one page per second per site,
whatever the code costs). AutoThrottle stays on, as in every doxwatch crawl. Measured:

- the server's ceiling: a child process of ``--per-domain`` threads fetching every page with
  ``http.client`` over keep-alive connections (if this is not far above the crawls below, the
  fixture server is the bottleneck and the other figures mean little);
- a bare Scrapy spider in a child process (``CrawlerProcess``): follows the item links and
  the next page and extracts the same fields with plain parsel selectors, no item pipeline,
  with the settings ``spiders.settings.crawl_settings`` builds from the same ``[crawl]``
  values: the reference;
- the full doxwatch crawl, ``monitor.crawl.crawl(config, db)`` as ``doxwatch crawl`` runs it
  (crawl-run rows, the child ``python -m monitor.crawl_child``, the ``generic`` spider, the
  ``StorePipeline``: batches of posts, masking, upsert), into a fresh SQLite file
  and into a fresh PostgreSQL database (created through ``--pg-url``, ``doxwatch db upgrade``,
  dropped at the end, also on error);
- ingest alone: the same posts (as the spider extracts them) straight into each database,
  once in batches of ``StorePipeline.BATCH`` as the pipeline stores them, once through
  ``ingest_lines``
  (one transaction), and the masking + hashing alone, without a database.

Pages per second count the pages the server answered, over the time from the first request
the server saw to the end of the run (the start-up — process, imports, database, spider — is
shown on its own); posts per second count the rows in the database. The ratio full ÷ bare is
the figure to hold at or above 0.8; it is taken from a bare run made just before each full
crawl, so that a machine busy with something else for a while slows both sides alike (the
load average before and after is printed; ``--repeat N`` runs N such pairs and keeps the
fastest of each side). The CPU ratio beside it (CPU seconds per page of the crawling process,
bare ÷ full) is disturbed less by a busy machine but leaves out the time spent waiting.

Where the time goes:

- if the settings the crawl child really uses (``monitor.crawl_child.settings_for``) differ
  from those the configuration asks for, they are listed, the bare spider runs once more with
  the child's, and the full crawl runs once more with ``settings_for`` patched, in that child
  only, to pass the configured values on: what the difference costs;
- the doxwatch spider runs once without storage (``spiders.runner.run_crawls`` with the
  child's settings minus the pipeline): the spider's own cost next to the bare one;
- the child runs once more per database with timers (wall and CPU) around its parsing
  callbacks and the parts of storing (``_content``: masking and the normalised hash; the
  SELECT of a batch's stored posts; the multi-row INSERT; the updates; the COMMIT), the
  SQL statements and connection checkouts per post, and the garbage collector's pauses;
- and once under cProfile (``python -m cProfile -m monitor.crawl_child``, the same plan on
  stdin), whose self time is grouped by package (built-in functions and standard-library
  helpers counted with their callers). The profiler slows Python code more than C code;
  read its shares, not its seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import multiprocessing
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from label_queue import DEFAULT_PG, postgres_database  # noqa: E402

TARGET_RATIO = 0.8
LIST_SIZE = 20  # thread links per list page
SHORTEST, LONGEST = 200, 800  # characters of a post
SMALLEST, LARGEST = 10_000, 30_000  # bytes of a thread page
CHILD_TIMEOUT = 1800.0  # seconds before a measuring child is given up
SOURCE_OPTIONS = {
    "item_links": "a.thread::attr(href)",
    "title": "h1::text",
    "text": "div.post",
    "author": "div.postinfo span.author::text",
    "posted_at": "div.postinfo span.date::text",
    "next_page": "a.next::attr(href)",
}
SOURCES = ("bench-full", "bench-timed", "bench-profile", "bench-honoured")
"""The sources of one database's runs; the full crawl's is numbered per --repeat."""


# --- the fixture site -----------------------------------------------------------------------

NAV = ["首页", "交易区", "求购区", "担保区", "技术交流", "资源分享", "新手上路", "站务公告",
       "数据专区", "实名专区", "定位查询", "社工库", "接码平台", "会员中心", "积分商城",
       "发帖规则", "黑名单", "申诉处理", "广告合作", "联系管理", "友情链接", "搜索", "排行榜",
       "手机版", "签到"]
STYLE = """
body{margin:0;font:14px/1.6 "Microsoft YaHei",PingFang SC,sans-serif;background:#f4f4f4;color:#333}
#top{background:#2b2b2b;height:40px}#top ul.nav{margin:0 auto;width:1200px;padding:0}
#top ul.nav li{display:inline-block;margin:0 8px;line-height:40px}#top a{color:#ddd}
.breadcrumb{width:1200px;margin:10px auto;color:#888}#wrap{width:1200px;margin:0 auto}
#main{float:left;width:880px;background:#fff;padding:16px}#sidebar{float:right;width:280px}
.postinfo{color:#999;font-size:12px;border-bottom:1px dashed #ddd;padding-bottom:6px}
.post p{margin:0 0 10px}.reply{border-top:1px solid #eee;padding:8px 0}
.hot li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.pg a{padding:2px 6px}
#footer{clear:both;text-align:center;color:#aaa;padding:20px 0;font-size:12px}
table.threads{width:100%;border-collapse:collapse}
table.threads td{padding:6px;border-bottom:1px solid #eee}
"""
SCRIPT = """
var _hmt=_hmt||[];(function(){var hm=document.createElement("script");
hm.src="/static/js/stat.js?v=20250603";var s=document.getElementsByTagName("script")[0];
s.parentNode.insertBefore(hm,s);})();
function showMenu(id){var m=document.getElementById(id);if(m){m.style.display=
m.style.display==="block"?"none":"block";}}window.onload=function(){showMenu("umenu");};
"""


@dataclass
class Site:
    pages: dict[str, bytes]  # path -> body
    list_pages: int
    threads: int
    planted: int  # posts that carry a victim's number, which ingest must mask

    @property
    def bytes(self) -> int:
        return sum(map(len, self.pages.values()))


def list_path(page: int) -> str:
    return f"/forum/list/{page}.html"


def thread_path(number: int) -> str:
    return f"/forum/thread/{number}.html"


def _corpus() -> str:
    from models.dataset import load_dataset

    return "\n".join(example.text for example in load_dataset())


def _cut(corpus: str, rng: random.Random, length: int) -> str:
    start = rng.randrange(len(corpus))
    return (corpus[start:] + corpus)[:length]


def _title(corpus: str, rng: random.Random) -> str:
    line = _cut(corpus, rng, 60).replace("\n", " ").strip()
    return line[:rng.randint(8, 24)].strip() or "求购"


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _id_number(rng: random.Random) -> str:
    from models.extract import valid_id_number

    body = (f"{rng.choice(('110101', '310104', '440305', '510107'))}"
            f"{rng.randint(1960, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            f"{rng.randrange(1000):03d}")
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    number = body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    assert valid_id_number(number)
    return number


def _card_number(rng: random.Random) -> str:
    from models.extract import luhn_valid

    body = "6222" + f"{rng.randrange(10**11):011d}"
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("no Luhn digit")


def _post_paragraphs(corpus: str, rng: random.Random) -> tuple[list[str], bool]:
    """A post's paragraphs, and whether a victim's number was planted in it."""
    paragraphs = [line.strip() for line in _cut(corpus, rng, rng.randint(SHORTEST, LONGEST))
                  .split("\n") if line.strip()] or ["出一手数据"]
    roll, planted = rng.random(), True
    if roll < 0.2:
        sample = f"样本：机主 {_phone(rng)} 已核实，轨迹可查"
    elif roll < 0.28:
        sample = f"样本 身份证 {_id_number(rng)} 户籍信息齐全"
    elif roll < 0.33:
        sample = f"流水样本 卡号 {_card_number(rng)}"
    else:
        sample, planted = "", False
    if sample:
        paragraphs.insert(rng.randrange(len(paragraphs) + 1), sample)
    if rng.random() < 0.3:
        paragraphs.append(f"联系电话 {_phone(rng)}")  # the seller's: stays readable
    return paragraphs, planted


def _nav(rng: random.Random) -> str:
    items = "".join(f'<li><a href="/forum/list/{i + 1}.html?nav={i}">{name}</a></li>'
                    for i, name in enumerate(NAV))
    return (f'<div id="top"><ul class="nav">{items}</ul><div id="umenu" class="menu">'
            f'<a href="/member.php?uid={rng.randrange(10**6)}">登录</a> <a href="/register">'
            f'注册</a></div></div>')


def _sidebar(corpus: str, rng: random.Random, threads: int) -> str:
    hot = "".join(f'<li><a href="{thread_path(rng.randint(1, threads))}" title="热帖">'
                  f"{_title(corpus, rng)}</a></li>" for _ in range(rng.randint(15, 30)))
    return (f'<div id="sidebar"><div class="box"><h3>热门帖子</h3><ul class="hot">{hot}</ul>'
            f'</div><div class="box ad"><a href="/ad/{rng.randrange(100)}"><img src='
            f'"/static/ad/{rng.randrange(100)}.gif" alt="广告" width="280" height="120"></a>'
            f"</div></div>")


def _state_script(rng: random.Random, size: int) -> str:
    """An inline state blob of about ``size`` bytes, as SPA-ish forum pages carry."""
    entries, total = [], 0
    while total < size:
        entry = f'"k{rng.randrange(10**6)}":"{rng.getrandbits(96):024x}"'
        entries.append(entry)
        total += len(entry) + 1
    return f"<script>window.__INITIAL_STATE__={{{','.join(entries)}}};</script>"


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{title} - 某某论坛 - Powered by Discuz!</title>"
            f'<meta name="keywords" content="{title}"><meta name="description" content="{title}">'
            f'<link rel="stylesheet" href="/static/css/common.css?v=3"><link rel="stylesheet"'
            f' href="/static/css/forum.css?v=3"><style>{STYLE}</style><script>{SCRIPT}</script>'
            f"</head><body>{body}"
            f'<div id="footer">某某论坛 © 2025 <a href="/about">关于</a> <a href="/contact">'
            f"联系我们</a> <a href=\"/archiver/\">Archiver</a></div></body></html>")


def _thread_page(corpus: str, rng: random.Random, number: int, threads: int,
                 lists: int) -> tuple[bytes, bool]:
    title = _title(corpus, rng)
    paragraphs, planted = _post_paragraphs(corpus, rng)
    post = "".join(f"<p>{text}</p>" for text in paragraphs)
    when = (f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}")
    replies = "".join(
        f'<div class="reply"><span class="replier">用户{rng.randrange(10**5)}</span>'
        f'<div class="message">{_cut(corpus, rng, rng.randint(30, 120))}</div></div>'
        for _ in range(rng.randint(0, 6)))
    main = (f'<div class="breadcrumb"><a href="/">首页</a> › <a href="{list_path(1)}">'
            f'交易区</a> › {title}</div><div id="wrap"><div id="main"><h1>{title}</h1>'
            f'<div class="postinfo"><span class="author">用户{rng.randrange(10**5)}</span> '
            f'发表于 <span class="date">{when}</span> <a href="{list_path(1 + number % lists)}">'
            f'返回列表</a></div><div class="post">{post}</div><div class="replies">{replies}'
            f"</div></div>{_sidebar(corpus, rng, threads)}</div>")
    html = _page(title, _nav(rng) + main)
    target = rng.randint(SMALLEST, LARGEST)
    padding = max(0, target - len(html.encode("utf-8")))
    return _page(title, _nav(rng) + main + _state_script(rng, padding)).encode("utf-8"), planted


def _list_page(corpus: str, rng: random.Random, page: int, lists: int, threads: int) -> bytes:
    first = (page - 1) * LIST_SIZE + 1
    rows = "".join(
        f'<tr><td class="icn"><img src="/static/folder.gif"></td><td><a class="thread" '
        f'href="{thread_path(n)}">{_title(corpus, rng)}</a></td><td class="by">'
        f"用户{rng.randrange(10**5)}</td><td class=\"num\">{rng.randrange(300)}</td></tr>"
        for n in range(first, min(threads, first + LIST_SIZE - 1) + 1))
    numbers = "".join(f'<a href="{list_path(n)}">{n}</a>'
                      for n in range(max(1, page - 4), min(lists, page + 5) + 1))
    more = f'<a class="next" href="{list_path(page + 1)}">下一页</a>' if page < lists else ""
    body = (f'{_nav(rng)}<div id="wrap"><div id="main"><h2>交易区</h2><table class="threads">'
            f'{rows}</table><div class="pg">{numbers}{more}</div></div>'
            f"{_sidebar(corpus, rng, threads)}</div>")
    return _page(f"交易区 - 第{page}页", body).encode("utf-8")


def build_site(threads: int, seed: int = 0) -> Site:
    corpus = _corpus()
    rng = random.Random(seed)
    lists = -(-threads // LIST_SIZE)
    pages, planted = {}, 0
    for page in range(1, lists + 1):
        pages[list_path(page)] = _list_page(corpus, rng, page, lists, threads)
    for number in range(1, threads + 1):
        pages[thread_path(number)], victim = _thread_page(corpus, rng, number, threads, lists)
        planted += victim
    return Site(pages, lists, threads, planted)


class FixtureServer:
    """Serves the site on loopback and counts, per measured run, the pages it answered and
    when the first and last request came."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.lock = threading.Lock()
        self.reset()
        pages = site.pages
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Scrapy's HTTP/1.1 client expects
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's API
                body = pages.get(self.path)
                server.record(body is not None)
                status, kind = (200, "text/html; charset=utf-8") if body is not None \
                    else (404, "text/plain")
                body = body if body is not None else b"not found"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the default backlog of 5 drops bursts of connects

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reset(self) -> None:
        with self.lock:
            self.served = self.missing = 0
            self.first: float | None = None
            self.last: float | None = None

    def record(self, found: bool) -> None:
        now = time.perf_counter()
        with self.lock:
            if self.first is None:
                self.first = now
            self.last = now
            if found:
                self.served += 1
            else:
                self.missing += 1

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- measured runs --------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    pages: int  # answered by the server
    missing: int  # 404s: a wrong link, should be 0
    posts: int  # items scraped, or rows stored
    wall: float  # from the start of the run to its end
    crawl: float  # from the first request at the server to the end of the run
    cpu: float  # CPU seconds of the crawling process
    server_cpu: float  # CPU seconds of this process (the fixture server) during the run
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.pages / self.crawl if self.crawl > 0 else 0.0

    @property
    def startup(self) -> float:
        return self.wall - self.crawl


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(server: FixtureServer, name: str, action: Callable[[], tuple[int, dict]]) -> Run:
    """Run ``action`` (which returns posts and extra figures) and time it at the server."""
    server.reset()
    cpu, own = _children_cpu(), time.process_time()
    start = time.perf_counter()
    posts, extra = action()
    end = time.perf_counter()
    cpu, own = _children_cpu() - cpu, time.process_time() - own
    first = server.first if server.first is not None else end
    return Run(name, server.served, server.missing, posts, end - start, end - first, cpu, own,
               extra)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """In a child: Scrapy's start-up log lines (a crawler built with its own settings logs at
    DEBUG until they are merged) go to a buffer, shown only if the child fails."""
    saved, sys.stderr = sys.stderr, io.StringIO()
    try:
        yield
    except BaseException:
        saved.write(sys.stderr.getvalue()[-3000:])
        raise
    finally:
        sys.stderr = saved


def in_child(target: Callable[..., None], *args: Any) -> dict:
    """Run ``target(*args, results)`` in a fresh (spawned) process; what it put in results."""
    context = multiprocessing.get_context("spawn")
    results = context.SimpleQueue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    process.join(CHILD_TIMEOUT)
    if process.is_alive():
        process.kill()
        process.join()
        raise RuntimeError(f"{target.__name__} took longer than {CHILD_TIMEOUT:.0f} s")
    if process.exitcode != 0 or results.empty():
        raise RuntimeError(f"{target.__name__} failed (exit {process.exitcode})")
    return results.get()


def fetch_child(port: int, paths: list[str], connections: int, results) -> None:
    """Child: fetch every path once with ``connections`` keep-alive http.client threads."""
    import http.client

    errors: list[str] = []

    def fetch(share: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for path in share:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(f"{path}: {response.status}")
        finally:
            connection.close()

    threads = [threading.Thread(target=fetch, args=(paths[n::connections],))
               for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put({"errors": errors})


def bare_child(settings: dict, start_url: str, selectors: dict, max_pages: int,
               results) -> None:
    """Child: a bare Scrapy spider that parses the pages as the source says, no pipeline."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class BareSpider(scrapy.Spider):
        name = "bare"
        start_urls = [start_url]

        def parse(self, response, page: int = 1):
            for href in response.css(selectors["item_links"]).getall():
                yield response.follow(href, self.parse_post)
            following = response.css(selectors["next_page"]).get()
            if following and page < max_pages:
                yield response.follow(following, self.parse, cb_kwargs={"page": page + 1})

        def parse_post(self, response):
            pieces = (piece.strip() for piece in
                      response.css(selectors["text"] + " ::text").getall())
            text = "\n".join(piece for piece in pieces if piece)
            if text:
                yield {"url": response.url, "text": text,
                       "title": " ".join(response.css(selectors["title"]).getall()) or None,
                       "author": response.css(selectors["author"]).get(),
                       "posted_at": response.css(selectors["posted_at"]).get()}

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    results.put({"items": stats.get("item_scraped_count", 0),
                 "responses": stats.get("response_received_count", 0)})


def spider_child(settings: dict, spec: dict, results) -> None:
    """Child: doxwatch's own runner and spider with the crawl child's settings, no storage."""
    from spiders.runner import CrawlSpec, run_crawls

    with quiet_stderr():
        outcome = run_crawls([CrawlSpec(**spec)], settings)[0]
    results.put({"items": outcome.items, "failures": outcome.failures, "error": outcome.error})


STORE = "storing (process_item)"
PARSE_LISTS, PARSE_POSTS = "parse list pages", "parse post pages"
INSERT, COMMIT = "multi-row INSERT (_insert)", "COMMIT"


def timed_child(plan: dict, results) -> None:
    """Child: ``monitor.crawl_child.main`` on ``plan`` with timers (wall and CPU) around its
    parsing callbacks and the parts of storing, and the garbage collector's pauses."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm.session import SessionTransaction
    from sqlalchemy.pool import Pool

    import monitor.crawl_store as crawl_store
    import monitor.ingest as ingest
    from spiders.generic import GenericSpider

    wall: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    inside: list[str] = []  # the timed parts running now, outermost first

    def timing(name: str, call: Callable) -> Callable:
        def timed(*args, **kwargs):
            inside.append(name)
            start, used = time.perf_counter(), time.process_time()
            try:
                return call(*args, **kwargs)
            finally:
                wall[name] += time.perf_counter() - start
                cpu[name] += time.process_time() - used
                calls[name] += 1
                inside.pop()
        return timed

    def timing_callback(name: str, call: Callable) -> Callable:
        """A generator callback, timed while it runs (not while Scrapy holds its output)."""
        def timed(*args, **kwargs):
            output = iter(call(*args, **kwargs))
            calls[name] += 1
            while True:
                start, used = time.perf_counter(), time.process_time()
                try:
                    value = next(output)
                except StopIteration:
                    return
                finally:
                    wall[name] += time.perf_counter() - start
                    cpu[name] += time.process_time() - used
                yield value
        return timed

    commit = SessionTransaction.commit

    def timed_commit(self, *args, **kwargs):
        if self.nested or self._parent is not None:  # a flush's own subtransaction
            return commit(self, *args, **kwargs)
        return timing(COMMIT, commit)(self, *args, **kwargs)

    statements: dict[str, int] = defaultdict(int)

    def executed(_connection, _cursor, statement, *_args) -> None:
        if inside and inside[0] == STORE:
            statements[statement.split(None, 1)[0].upper()] += 1

    def checked_out(*_args) -> None:
        if inside and inside[0] == STORE:
            statements["connection checkouts"] += 1

    event.listen(Engine, "before_cursor_execute", executed)
    event.listen(Pool, "checkout", checked_out)
    collecting: list[float] = []

    def collector(phase: str, info: dict) -> None:
        if phase == "start":
            collecting[:] = [time.perf_counter()]
            return
        pause = time.perf_counter() - collecting[0]
        wall["garbage collection"] += pause
        calls["garbage collection"] += 1
        if inside and inside[0] == STORE:
            wall["garbage collection while storing"] += pause
        if info.get("generation") == 2:
            wall["full collections"] += pause
            calls["full collections"] += 1

    SessionTransaction.commit = timed_commit
    crawl_store.StorePipeline.process_item = timing(STORE, crawl_store.StorePipeline.process_item)
    ingest.upsert_posts = crawl_store.upsert_posts = timing("upsert_posts", ingest.upsert_posts)
    ingest._content = timing("_content", ingest._content)
    ingest.mask_personal_data = timing("mask_personal_data", ingest.mask_personal_data)
    ingest.text_hash = timing("text_hash", ingest.text_hash)
    ingest._stored = timing("_stored", ingest._stored)
    ingest._insert = timing(INSERT, ingest._insert)
    ingest._update = timing("_update", ingest._update)
    GenericSpider.parse = timing_callback(PARSE_LISTS, GenericSpider.parse)
    GenericSpider.parse_post_page = timing_callback(PARSE_POSTS, GenericSpider.parse_post_page)

    gc.callbacks.append(collector)
    try:
        total, total_cpu, outcome = _crawl_child_main(plan)
    finally:
        gc.callbacks.remove(collector)
    results.put({"wall": dict(wall), "cpu": dict(cpu), "calls": dict(calls), "total": total,
                 "total_cpu": total_cpu, "items": outcome["items"],
                 "failures": outcome["failures"], "statements": dict(statements)})


def honoured_child(plan: dict, results) -> None:
    """Child: ``monitor.crawl_child.main`` with ``settings_for`` patched, in this process
    only, to pass ``[crawl] per_domain`` on as the configuration asks: what that would give."""
    import monitor.crawl_child as crawl_child
    from spiders.settings import crawl_settings

    original = crawl_child.settings_for

    def settings_for(plan: dict) -> dict:
        crawl = plan["crawl"]
        return original(plan) | crawl_settings(
            delay=crawl["delay"], timeout=crawl["timeout"],
            max_page_bytes=crawl["max_page_bytes"], user_agent=crawl["user_agent"],
            obey_robots=crawl["obey_robots"], per_domain=crawl["per_domain"])

    crawl_child.settings_for = settings_for
    _, _, outcome = _crawl_child_main(plan)
    results.put({"items": outcome["items"], "failures": outcome["failures"]})


def _crawl_child_main(plan: dict) -> tuple[float, float, dict]:
    """Run ``monitor.crawl_child.main`` here with ``plan`` on its stdin: its wall and CPU
    seconds and its one outcome."""
    import monitor.crawl_child as crawl_child

    saved_in, saved_out = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = io.StringIO(json.dumps(plan)), io.StringIO()
    try:
        with quiet_stderr():
            start, used = time.perf_counter(), time.process_time()
            crawl_child.main()
            total, total_cpu = time.perf_counter() - start, time.process_time() - used
        printed = sys.stdout.getvalue()
    finally:
        sys.stdin, sys.stdout = saved_in, saved_out
    return total, total_cpu, json.loads(printed.split(crawl_child.OUTCOME_MARKER, 1)[1])[0]


# --- the configuration and the databases ----------------------------------------------------


def write_config(path: Path, database_url: str, server: FixtureServer, site: Site,
                 options) -> Path:
    sources = "".join(f"""
[[sources]]
name = "{name}"
kind = "generic"
urls = ["{server.url(list_path(1))}"]
max_pages = {site.list_pages + 1}
[sources.options]
""" + "".join(f'{key} = "{value}"\n' for key, value in SOURCE_OPTIONS.items())
        for name in (*SOURCES, *(f"{SOURCES[0]}-{n}" for n in range(options.repeat))))
    path.write_text(f"""
[database]
url = "{database_url}"

[crawl]
delay = {options.delay}
obey_robots = false
per_domain = {options.per_domain}
{sources}""", encoding="utf-8")
    return path


def _stored(db, name: str) -> tuple[int, int]:
    """Posts stored for source ``name``, and how many of them have a masked number."""
    from sqlalchemy import func, select

    from monitor.db.schema import Post, Source

    with db.session() as session:
        query = select(func.count(Post.id)).join(Source).where(Source.name == name)
        masked = query.where(Post.text.contains("****"))
        return session.scalar(query) or 0, session.scalar(masked) or 0


def _plan(config, db, name: str) -> dict:
    """The plan ``doxwatch crawl`` hands its child, for source ``name`` (created if need be)."""
    from monitor.crawl import _plan as crawl_plan
    from monitor.db import get_or_create_source

    source = config.source(name)
    with db.session() as session:
        get_or_create_source(session, source)
    return crawl_plan(config, db, [source], False)


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _filesystem(path: Path) -> str:
    """The type of the file system ``path`` is on (from /proc/mounts), for the SQLite line."""
    best, kind = "", "?"
    with contextlib.suppress(OSError), open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            parts = line.split()
            if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return kind


# --- ingest alone ---------------------------------------------------------------------------


def spider_items(site: Site, server: FixtureServer) -> list[dict]:
    """The posts as the generic spider yields them (same extraction code), as dicts."""
    from parsel import Selector
    from w3lib.url import canonicalize_url

    from spiders.dates import iso_datetime
    from spiders.extract import first_text, joined_text
    from spiders.items import PostItem

    items = []
    for number in range(1, site.threads + 1):
        url = server.url(thread_path(number))
        page = Selector(text=site.pages[thread_path(number)].decode("utf-8"))
        items.append(asdict(PostItem(
            source="ingest", external_id=canonicalize_url(url, keep_fragments=False), url=url,
            text=joined_text(page, SOURCE_OPTIONS["text"], separator="\n"),
            title=joined_text(page, SOURCE_OPTIONS["title"], separator=" ") or None,
            author=joined_text(page, SOURCE_OPTIONS["author"], separator=" ") or None,
            posted_at=iso_datetime(first_text(page, SOURCE_OPTIONS["posted_at"])))))
    return items


def ingest_alone(db, items: list[dict], label: str) -> dict[str, float]:
    """Posts per second into ``db``: in batches (the pipeline's way), in one transaction
    (``ingest_lines``), and the masking and hashing alone."""
    from models.extract import mask_personal_data
    from monitor.config import external_source
    from monitor.crawl_store import StorePipeline
    from monitor.db import get_or_create_source
    from monitor.db.schema import Source
    from monitor.ingest import ingest_lines, text_hash, upsert_posts

    with db.session() as session:
        source_id = get_or_create_source(session, external_source(f"ingest-each-{label}")).id
    pauses: list[float] = []

    def collector(phase: str, _info: dict) -> None:
        pauses.append(time.perf_counter() if phase == "start" else
                      time.perf_counter() - pauses.pop())

    gc.callbacks.append(collector)
    start = time.perf_counter()
    try:
        for first in range(0, len(items), StorePipeline.BATCH):
            with db.session() as session:
                upsert_posts(session, session.get_one(Source, source_id),
                             items[first:first + StorePipeline.BATCH])
    finally:
        each = time.perf_counter() - start
        gc.callbacks.remove(collector)

    lines = [json.dumps({"id": item["external_id"], "url": item["url"], "title": item["title"],
                         "text": item["text"], "author": item["author"],
                         "posted_at": item["posted_at"]}, ensure_ascii=False) for item in items]
    start = time.perf_counter()
    report = ingest_lines(db, external_source(f"ingest-lines-{label}"), lines)
    once = time.perf_counter() - start
    if report.new != len(items) or report.errors:
        raise RuntimeError(f"ingest_lines stored {report.new} of {len(items)}: {report.errors[:3]}")

    start = time.perf_counter()
    for item in items:
        text = mask_personal_data(item["text"])
        text_hash(text)
        if item["title"]:
            mask_personal_data(item["title"])
    prepare = time.perf_counter() - start
    count = len(items)
    return {"each": count / each, "once": count / once, "prepare": count / prepare,
            "each_ms": each / count * 1000, "prepare_ms": prepare / count * 1000,
            "each_gc": sum(pauses), "each_seconds": each, "batch": StorePipeline.BATCH}


# --- the profile ----------------------------------------------------------------------------

IDLE = "idle: waiting in epoll for the server"
STARTUP = "start-up: imports, module code"
PROFILE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("database: SQLAlchemy, sqlite3/psycopg", ("/sqlalchemy/", "/psycopg", "/sqlite3/",
                                              "/alembic/", "/monitor/db/")),
    ("storing: monitor.ingest, crawl_store", ("/monitor/ingest.py", "/monitor/crawl_store.py")),
    ("masking, normalising: models, opencc", ("/models/", "/opencc/")),
    ("parsing: parsel, lxml, spiders.extract", ("/parsel/", "/lxml/", "/cssselect/",
                                               "/spiders/extract.py", "/spiders/generic.py",
                                               "/spiders/base.py", "/spiders/dates.py",
                                               "/spiders/items.py")),
    ("URLs: w3lib, urllib, idna, fingerprints", ("/w3lib/", "/urllib/", "/idna/",
                                                "/ipaddress.py", "/scrapy/utils/request.py",
                                                "/scrapy/utils/url.py", "/hashlib")),
    ("Scrapy downloader, HTTP, middlewares", ("/scrapy/core/downloader/",
                                             "/scrapy/downloadermiddlewares/",
                                             "/scrapy/extensions/throttle.py",
                                             "/spiders/retry.py", "/scrapy/http/")),
    ("Scrapy engine, scheduler, scraper, signals", ("/scrapy/", "/pydispatch/")),
    ("Twisted, asyncio event loop", ("/twisted/", "/asyncio/", "/selectors.py")),
    ("logging", ("/logging/",)),
)


PASS_THROUGH = ("/_weakrefset.py", "/weakref.py", "/inspect.py", "/contextlib.py", "/copy.py",
                "/functools.py", "/typing.py", "/abc.py", "/enum.py", "/dataclasses.py",
                "/types.py", "/re/", "/collections/", "/json/", "/threading.py", "/warnings.py",
                "/datetime.py", "/uuid.py")
"""Standard-library helpers whose time belongs to whoever called them, like a built-in's."""


def _group(key: tuple) -> str | None:
    """The group of a profiled Python function; None for a built-in (C) function or a
    standard-library helper, whose time goes to its callers."""
    file, _, function = key
    if file == "~":
        return IDLE if "epoll" in function and "poll" in function else None
    if function != "<module>" and any(part in file for part in PASS_THROUGH):
        return None
    if function == "<module>" or file.startswith("<frozen") or "/importlib/" in file:
        return STARTUP
    for name, parts in PROFILE_GROUPS:
        if any(part in file for part in parts):
            return name
    return "other Python"


def profile_groups(path: Path) -> tuple[dict[str, float], float, list, list]:
    """Self time by group, with each built-in's time shared out among its callers'
    groups by what it spent under each; the total; the top doxwatch entries by cumulative
    time; the top entries by self time."""
    stats = pstats.Stats(str(path)).stats  # key -> (cc, nc, tt, ct, callers)
    groups: dict[str, float] = defaultdict(float)

    def assign(key: tuple, seconds: float, depth: int = 0) -> None:
        group = _group(key)
        if group is not None:
            groups[group] += seconds
            return
        callers = stats.get(key, (0, 0, 0, 0, {}))[4]
        under = sum(value[2] for value in callers.values())
        if depth > 6 or not under:
            groups["other built-in functions"] += seconds
            return
        for caller, value in callers.items():
            assign(caller, seconds * value[2] / under, depth + 1)

    for key, (_, _, own, _, _) in stats.items():
        if own:
            assign(key, own)
    total = sum(groups.values())
    ours = [(key, entry) for key, entry in stats.items()
            if any(part in key[0] for part in ("/monitor/", "/spiders/", "/models/"))
            and key[2] != "<module>" and "crawl_child.py" not in key[0]]
    ours.sort(key=lambda pair: pair[1][3], reverse=True)
    own_time = sorted(stats.items(), key=lambda pair: pair[1][2], reverse=True)
    return dict(groups), total, ours[:14], own_time[:12]


def _where(key: tuple) -> str:
    file, line, function = key
    if file == "~":
        return function
    parts = Path(file).parts
    for anchor in ("site-packages", "monitor", "spiders", "models"):
        if anchor in parts:
            index = parts.index(anchor) + (anchor == "site-packages")
            return f"{'/'.join(parts[index:])}:{line} {function}"
    return f"{Path(file).name}:{line} {function}"


# --- the whole benchmark --------------------------------------------------------------------


@dataclass
class Database:
    label: str
    bare: Run | None = None  # the bare spider again, run just before the full crawl
    full: Run | None = None
    honoured: Run | None = None  # the full crawl with [crawl] per_domain passed on
    timed: dict | None = None
    ingest: dict[str, float] | None = None
    stored: int = 0
    masked: int = 0


def bench_database(label: str, url: str, folder: Path, server: FixtureServer, site: Site,
                   items: list[dict], options, requested: dict, *, profile: bool,
                   honour: bool) -> Database:
    from monitor.config import load_config
    from monitor.crawl import crawl
    from monitor.db import open_database

    config_path = write_config(folder / f"doxwatch-{label}.toml", url, server, site, options)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    doxwatch = str(Path(sys.executable).with_name("doxwatch"))
    subprocess.run([doxwatch, "--config", str(config_path), "db", "upgrade"], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    config = load_config(config_path)
    db = open_database(url)
    result = Database(label)
    try:
        def full(name: str) -> Callable[[], tuple[int, dict]]:
            def action() -> tuple[int, dict]:
                summaries = crawl(config, db, [name])
                bad = [s for s in summaries if s.status != "ok"]
                if bad:
                    raise RuntimeError(f"doxwatch crawl: {bad[0].status}: {bad[0].error}")
                return _stored(db, name)[0], {"items": summaries[0].items, "source": name}

            return action

        # The pairs the ratio is taken from, each run back to back, so that a machine busy
        # with something else for a while slows both alike; the fastest of each is kept.
        for number in range(options.repeat):
            bare = bare_run(server, site, requested, f"bare Scrapy spider, before {label}")
            whole = measured(server, f"doxwatch crawl, {label}", full(f"{SOURCES[0]}-{number}"))
            print(f"  {label}: bare spider {bare.rate:,.0f} pages/s, then the full crawl "
                  f"{whole.pages} pages in {whole.crawl:.1f} s (+{whole.startup:.1f} s "
                  f"start-up), {whole.posts} posts stored")
            if result.bare is None or bare.rate > result.bare.rate:
                result.bare = bare
            if result.full is None or whole.rate > result.full.rate:
                result.full = whole
        result.stored, result.masked = _stored(db, result.full.extra["source"])

        if honour:
            plan = _plan(config, db, SOURCES[3])

            def honoured() -> tuple[int, dict]:
                found = in_child(honoured_child, plan)
                if found["failures"]:
                    raise RuntimeError(f"per_domain honoured: {found['failures'][:3]}")
                return _stored(db, SOURCES[3])[0], found

            result.honoured = measured(server, f"  same, per_domain honoured, {label}", honoured)
            print(f"  {label}: full crawl with per_domain honoured (patched in that child only) "
                  f"{result.honoured.rate:,.0f} pages/s")

        plan = _plan(config, db, SOURCES[1])
        server.reset()
        timed = in_child(timed_child, plan)
        timed["pages"], timed["stored"] = server.served, _stored(db, SOURCES[1])[0]
        result.timed = timed
        print(f"  {label}: timed child {timed['pages']} pages in {timed['total']:.1f} s")

        result.ingest = ingest_alone(db, items, label)
        print(f"  {label}: ingest alone {result.ingest['each']:,.0f} posts/s in batches")

        if profile:
            plan = _plan(config, db, SOURCES[2])
            target = folder / f"crawl-{label}.prof"
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(target), "-m",
                                   "monitor.crawl_child"], input=json.dumps(plan), text=True,
                                  capture_output=True, env=env, timeout=CHILD_TIMEOUT)
            if done.returncode != 0 or not target.exists():
                raise RuntimeError(f"profiled child failed: {done.stderr.strip()[-300:]}")
            result.timed["profile"] = (target, time.perf_counter() - start)
            print(f"  {label}: profiled child done in {time.perf_counter() - start:.1f} s")
    finally:
        db.dispose()
    return result


def bare_run(server: FixtureServer, site: Site, settings: dict, name: str) -> Run:
    def action() -> tuple[int, dict]:
        found = in_child(bare_child, settings, server.url(list_path(1)), SOURCE_OPTIONS,
                         site.list_pages + 1)
        return found["items"], found

    return measured(server, name, action)


def reference_runs(server: FixtureServer, site: Site, options, child_settings: dict,
                   requested: dict, spec: dict) -> list[Run]:
    paths = list(site.pages)
    runs = []

    def fetch() -> tuple[int, dict]:
        found = in_child(fetch_child, server.port, paths, options.per_domain)
        if found["errors"]:
            raise RuntimeError(f"fetching: {found['errors'][:3]}")
        return 0, {}

    def spider() -> tuple[int, dict]:
        found = in_child(spider_child, child_settings, spec)
        if found["error"] or found["failures"]:
            raise RuntimeError(f"doxwatch spider: {found['error'] or found['failures'][:3]}")
        return found["items"], found

    runs.append(measured(server, f"http.client, {options.per_domain} connections", fetch))
    print(f"  server ceiling: {runs[-1].rate:,.0f} pages/s")
    runs.append(bare_run(server, site, requested, "bare Scrapy spider"))
    print(f"  bare Scrapy spider: {runs[-1].rate:,.0f} pages/s")
    if child_settings != requested:
        runs.append(bare_run(server, site, child_settings, "bare spider, child's settings"))
        print(f"  bare Scrapy spider with the crawl child's settings: {runs[-1].rate:,.0f} "
              "pages/s")
    runs.append(measured(server, "doxwatch spider, no storage", spider))
    print(f"  doxwatch spider without storage: {runs[-1].rate:,.0f} pages/s")
    return runs


def settings_in_play(config_path: Path, options) -> tuple[dict, dict, dict, list[str]]:
    """The settings the configuration asks for (``crawl_settings`` with its [crawl] values),
    those ``monitor.crawl_child.settings_for`` gives the child (minus the pipeline), one
    source's spec, and the differences."""
    from monitor.config import load_config
    from monitor.crawl import request_options
    from monitor.crawl_child import settings_for
    from spiders.settings import crawl_settings

    config = load_config(config_path)
    crawl = config.crawl
    requested = crawl_settings(delay=crawl.delay, timeout=crawl.timeout,
                               max_page_bytes=crawl.max_page_bytes, user_agent=crawl.user_agent,
                               obey_robots=crawl.obey_robots, per_domain=crawl.per_domain)
    source = config.source(SOURCES[0])
    spec = {"source": source.name, "kind": source.kind, "urls": list(source.urls),
            "options": dict(source.options), "max_pages": source.max_pages,
            "refetch_after_seconds": source.refetch_after,
            "request": request_options(config, source)}
    plan = {"database_url": "sqlite://", "crawl": asdict(crawl),
            "sources": [{"request": spec["request"]}]}
    child = settings_for(plan)
    for key in ("ITEM_PIPELINES", "DOXWATCH_DATABASE_URL", "CLOSESPIDER_TIMEOUT"):
        child.pop(key, None)
    differences = [f"{key} = {child.get(key)!r} (the configuration asks for "
                   f"{requested.get(key)!r})" for key in sorted(set(requested) | set(child))
                   if requested.get(key) != child.get(key)]
    return requested, child, spec, differences


# --- the report -----------------------------------------------------------------------------


def report_runs(runs: list[Run]) -> None:
    print("\nevery run (pages/s over the crawl: first request at the server → end of the run)")
    header = (f"{'run':40} {'pages':>6} {'posts':>6} {'start-up s':>10} {'crawl s':>8} "
              f"{'pages/s':>8} {'crawler CPU':>11} {'server CPU':>10}")
    print(header)
    print("-" * len(header))
    for run in runs:
        busy = f"{run.cpu / run.wall:5.0%} busy" if run.cpu else ""
        print(f"{run.name:40} {run.pages:6} {run.posts:6} {run.startup:10.2f} {run.crawl:8.2f} "
              f"{run.rate:8.0f} {busy:>11} {run.server_cpu:9.1f}s")
        if run.missing:
            print(f"  ! {run.missing} requests for pages the site does not have")


def report_table(databases: list[Database]) -> None:
    print(f"\nfull doxwatch crawl against the bare Scrapy spider (target ratio >= {TARGET_RATIO})")
    header = (f"{'database':10} {'full pages/s':>12} {'bare pages/s':>12} {'ratio':>6} "
              f"{'wall ratio':>10} {'CPU ratio':>9} {'posts/s':>8} {'ingest-only posts/s':>20}"
              "  target met")
    print(header)
    print("-" * len(header))
    for db in databases:
        full, bare = db.full, db.bare
        ratio = full.rate / bare.rate
        wall_ratio = (full.pages / full.wall) / (bare.pages / bare.wall)
        ingest = f"{db.ingest['each']:,.0f} / {db.ingest['once']:,.0f}" if db.ingest else "-"
        cpu_ratio = (bare.cpu / bare.pages) / (full.cpu / full.pages)
        print(f"{db.label:10} {full.rate:12.0f} {bare.rate:12.0f} {ratio:6.2f} {wall_ratio:10.2f} "
              f"{cpu_ratio:9.2f} {db.stored / full.crawl:8.0f} {ingest:>20}  "
              f"{'yes' if ratio >= TARGET_RATIO else 'NO'}")
    print("(bare: the bare spider run just before each full crawl; ratio: over the crawl "
          "time; wall ratio: over each run's whole time, start-up included; CPU ratio: the "
          "crawling process's CPU seconds per page, bare ÷ full, which a busy machine disturbs "
          "less but which leaves out waiting; ingest-only: in the pipeline's "
          "batches / all in one transaction)")
    for db in databases:
        if db.honoured:
            run = db.honoured
            print(f"{db.label:10} with [crawl] per_domain passed on to Scrapy (settings_for "
                  f"patched in that run only): {run.rate:.0f} pages/s, ratio "
                  f"{run.rate / db.bare.rate:.2f}, {run.posts / run.crawl:.0f} posts/s")


def report_ingest(databases: list[Database], site: Site) -> None:
    print("\ningest alone, the same posts straight into each database")
    for db in databases:
        if not db.ingest:
            continue
        figures = db.ingest
        print(f"  {db.label:10} batches of {figures['batch']} {figures['each']:7,.0f} posts/s "
              f"({figures['each_ms']:.2f} ms a post); one transaction {figures['once']:7,.0f} "
              f"posts/s; masking + hash alone {figures['prepare']:7,.0f} posts/s "
              f"({figures['prepare_ms']:.2f} ms each)")
        print(f"  {'':10} garbage collection during the batched run: {figures['each_gc']:.2f} s "
              f"of {figures['each_seconds']:.2f} s")
        print(f"  {'':10} posts with a masked number: {db.masked} of {db.stored} stored "
              f"({site.planted} planted)")


def report_timed(db: Database) -> None:
    timed = db.timed
    wall, cpu, calls = timed["wall"], timed["cpu"], timed["calls"]
    total, total_cpu = timed["total"], timed["total_cpu"]
    print(f"\nwhere the time goes, {db.label}: the crawl child with timers ({timed['pages']} "
          f"pages, {timed['stored']} posts stored; main() {total:.2f} s wall, {total_cpu:.2f} s "
          f"CPU = {total_cpu / total:.0%} busy; the reactor runs parsing and storing in one "
          "thread, so their wall time adds to the crawl's; waiting = wall - CPU)")
    print(f"  {'':38} {'wall s':>7} {'share':>6} {'CPU s':>6} {'ms per call':>12}")

    def line(name: str, seconds: float, used: float | None, indent: int = 2,
             count: int | None = None) -> None:
        each = f"{seconds / count * 1000:6.2f} × {count}" if count else ""
        used_text = f"{used:6.2f}" if used is not None else ""
        print(f"{' ' * indent}{name:{38 - indent}} {seconds:7.2f} {seconds / total:6.1%} "
              f"{used_text:>6} {each:>14}")

    def part(name: str, label: str, indent: int) -> None:
        line(label, wall.get(name, 0.0), cpu.get(name, 0.0), indent, calls.get(name))

    parse = wall.get(PARSE_LISTS, 0.0) + wall.get(PARSE_POSTS, 0.0)
    parse_cpu = cpu.get(PARSE_LISTS, 0.0) + cpu.get(PARSE_POSTS, 0.0)
    store, store_cpu = wall.get(STORE, 0.0), cpu.get(STORE, 0.0)
    line("parsing (spider callbacks)", parse, parse_cpu)
    part(PARSE_LISTS, "list pages", 4)
    part(PARSE_POSTS, "post pages", 4)
    part(STORE, "storing (StorePipeline.process_item)", 2)
    part("_content", "masking + hash (ingest._content)", 4)
    part("mask_personal_data", "mask_personal_data", 6)
    part("text_hash", "text_hash (normalize, sha256)", 6)
    part("_stored", "SELECT of the batch's stored posts", 4)
    part(INSERT, "multi-row INSERT … RETURNING", 4)
    part("_update", "updates of stored posts", 4)
    part(COMMIT, "COMMIT", 4)
    parts = ("_content", "_stored", INSERT, "_update", COMMIT)
    inner = sum(wall.get(name, 0.0) for name in parts)
    inner_cpu = sum(cpu.get(name, 0.0) for name in parts)
    line("the rest: session, BEGIN, get_one", store - inner, store_cpu - inner_cpu, 4)
    line("waiting on the database", store - store_cpu, None, 4)
    rest, rest_cpu = total - parse - store, total_cpu - parse_cpu - store_cpu
    line("Scrapy, Twisted, HTTP, start-up", rest, rest_cpu)
    line("idle: waiting for the pages", rest - rest_cpu, None, 4)
    line("garbage collection (within those)", wall.get("garbage collection", 0.0), None, 2,
         calls.get("garbage collection"))
    line("of it while storing", wall.get("garbage collection while storing", 0.0), None, 4)
    line("full collections (generation 2)", wall.get("full collections", 0.0), None, 4,
         calls.get("full collections"))
    statements = timed.get("statements") or {}
    posts = calls.get(STORE) or 1
    if statements:
        print("  per post stored: " + ", ".join(
            f"{count / posts:.2f} {name}" for name, count in sorted(
                statements.items(), key=lambda pair: pair[1], reverse=True))
            + f", {calls.get(COMMIT, 0) / posts:.2f} COMMIT (SQL statements run while storing; "
            "on PostgreSQL each checkout is also pinged first, pool_pre_ping)")


def report_profile(db: Database) -> None:
    path, seconds = db.timed["profile"]
    groups, total, ours, own = profile_groups(path)
    print(f"\nprofile of the crawl child, {db.label} (cProfile, {seconds:.1f} s under the "
          f"profiler; self time by group, built-ins counted with their callers)")
    for name, spent in sorted(groups.items(), key=lambda pair: pair[1], reverse=True):
        print(f"  {name:44} {spent:7.2f} s {spent / total:6.1%}")
    stats = pstats.Stats(str(path)).stats
    tasks = sum(entry[1] for key, entry in stats.items()
                if key[0].endswith("asyncio/base_events.py") and key[2] == "create_task")
    responses = db.full.pages if db.full else 0
    if tasks and responses:
        print(f"  asyncio tasks created: {tasks:,}, {tasks / responses:.0f} per page (Scrapy's "
              "scraper runs CONCURRENT_ITEMS = 100 workers over each callback's output; the "
              "bare spider pays this too)")
    print("  top doxwatch functions by cumulative time:")
    for key, (_, calls, _, cumulative, _) in ours:
        print(f"    {cumulative:7.2f} s {calls:7} calls  {_where(key)}")
    print("  top functions by self time:")
    for key, (_, calls, spent, _, _) in own:
        print(f"    {spent:7.2f} s {calls:7} calls  {_where(key)}  "
              f"[{_group(key) or 'counted with its callers'}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000, help="thread pages (default 2000)")
    parser.add_argument("--per-domain", type=int, default=16,
                        help="[crawl] per_domain, requests at a time (default 16)")
    parser.add_argument("--delay", type=float, default=0.0, help="[crawl] delay (default 0)")
    parser.add_argument("--pg-url", default=DEFAULT_PG,
                        help="a PostgreSQL database to create the benchmark's database from "
                        f"(default {DEFAULT_PG}; DOXWATCH_TEST_PG)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--repeat", type=int, default=1,
                        help="bare/full pairs per database, the fastest of each kept (default 1)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--profile-db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the database of the profiled run (default sqlite)")
    options = parser.parse_args()
    if options.pages < LIST_SIZE or options.per_domain < 1 or options.delay < 0 \
            or options.repeat < 1:
        parser.error(f"--pages must be at least {LIST_SIZE}, --per-domain and --repeat at "
                     "least 1, --delay not negative")

    start = time.perf_counter()
    site = build_site(options.pages)
    thread_bytes = [len(site.pages[thread_path(n)]) for n in range(1, site.threads + 1)]
    server = FixtureServer(site)
    databases: list[Database] = []
    pg_failure = None
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            os.environ["DOXWATCH_HOME"] = str(folder / "home")
            os.environ.pop("DOXWATCH_CONFIG", None)
            items = spider_items(site, server)
            print(f"fixture: {len(site.pages):,} pages ({site.list_pages} list pages × "
                  f"{LIST_SIZE} links, {site.threads:,} thread pages of "
                  f"{min(thread_bytes) / 1000:.0f}–{max(thread_bytes) / 1000:.0f} KB, mean "
                  f"{sum(thread_bytes) / len(thread_bytes) / 1000:.1f} KB), "
                  f"{site.bytes / 1e6:.1f} MB, posts of "
                  f"{sum(len(i['text']) for i in items) / len(items):.0f} characters on "
                  f"average, {site.planted} with a victim's number; built in "
                  f"{time.perf_counter() - start:.1f} s; served on 127.0.0.1:{server.port} by "
                  "ThreadingHTTPServer (HTTP/1.1 keep-alive) in this process")
            print(f"[crawl] delay = {options.delay}, obey_robots = false, per_domain = "
                  f"{options.per_domain}: politeness off so that it does not dominate a "
                  "throughput figure; AutoThrottle on, as always; "
                  f"{os.cpu_count()} CPUs, load average {_load()} before the runs")
            probe = write_config(folder / "probe.toml", f"sqlite:///{folder / 'probe.db'}",
                                 server, site, options)
            requested, child_settings, spec, differences = settings_in_play(probe, options)
            if differences:
                print("the crawl child's settings (monitor.crawl_child.settings_for) differ "
                      "from what the configuration asks for:")
                for difference in differences:
                    print(f"  {difference}")
            print("\nrunning:")
            runs = reference_runs(server, site, options, child_settings, requested, spec)
            sqlite_file = folder / "bench.db"
            print(f"  sqlite: {sqlite_file} on {_filesystem(sqlite_file)}")
            honour = child_settings != requested
            databases.append(bench_database(
                "sqlite", f"sqlite:///{sqlite_file}", folder, server, site, items, options,
                requested, profile=not options.no_profile and options.profile_db == "sqlite",
                honour=honour))
            if not options.no_pg:
                try:
                    with postgres_database(options.pg_url) as url:
                        databases.append(bench_database(
                            "postgresql", url, folder, server, site, items, options,
                            requested, profile=not options.no_profile
                            and options.profile_db == "postgresql", honour=honour))
                except Exception as error:  # SQLite's figures are still reported
                    pg_failure = f"{type(error).__name__}: {error}"

            print(f"  load average {_load()} after the runs (above the CPU count: something "
                  "else was running too, and the absolute figures suffer more than the ratios)")
            report_runs(runs + [run for db in databases
                                for run in (db.bare, db.full, db.honoured) if run])
            report_table([db for db in databases if db.full])
            report_ingest(databases, site)
            for db in databases:
                if db.timed:
                    report_timed(db)
            for db in databases:
                if db.timed and "profile" in db.timed:
                    report_profile(db)
    finally:
        server.close()
    if pg_failure:
        sys.exit(f"\npostgresql failed: {pg_failure}")


if __name__ == "__main__":
    main()
