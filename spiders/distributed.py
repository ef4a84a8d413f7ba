"""One crawl shared by many processes on many machines, through Redis (scrapy-redis).

With ``[crawl] backend = "redis"`` each source's request queue and duplicate filter live
in Redis under ``doxwatch:<source>:…``: whichever process holds a source's spider pops
the next request, and a page one process fetched is never fetched by another in the same
crawl. `doxwatch crawl` seeds the queue (its start pages) and works on it; `doxwatch
worker` processes only work, and stay until the queues have been empty for their
``idle_exit`` seconds.

Requests sit in Redis as JSON, never pickle: anyone who can write to that Redis could
otherwise make every worker run code of their choosing.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from twisted.internet import task

KEY_PREFIX = "doxwatch"
_TAGS = {"__bytes__", "__pairs__"}


def queue_key(source: str) -> str:
    """The Redis key of a source's request queue (``%`` doubled: scrapy-redis formats it)."""
    return f"{KEY_PREFIX}:{source}:requests".replace("%", "%%")


def dupefilter_key(source: str) -> str:
    return f"{KEY_PREFIX}:{source}:dupefilter".replace("%", "%%")


def redis_settings(redis_url: str, source: str, idle_exit: float) -> dict[str, Any]:
    """The settings of one source's crawler when the crawl is shared through Redis.

    A process takes from the shared queue only as many requests as it may download at
    once, as every crawl does (``spiders.runner``): Scrapy would otherwise pull sixteen
    into its own downloader, where they wait for the site while other workers find the
    queue empty.
    """
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # the queue outlives any one process
        "SCHEDULER_QUEUE_KEY": queue_key(source),
        "SCHEDULER_DUPEFILTER_KEY": dupefilter_key(source),
        "SCHEDULER_SERIALIZER": "spiders.distributed",
        "REDIS_URL": redis_url,
        "DOXWATCH_IDLE_EXIT": idle_exit,
        "EXTENSIONS": {"spiders.distributed.IdleExit": 500},
    }


def start_fresh(redis_url: str, sources: list[str]) -> None:
    """Before seeding: a source whose queue is empty has no crawl in progress, so its
    duplicate filter is cleared, and this crawl fetches its pages again (once each). A
    source whose queue still holds requests is mid-crawl: its filter stays, and the
    seed's start pages join that crawl without being fetched twice."""
    import redis

    server = redis.Redis.from_url(redis_url)
    try:
        for source in sources:
            queue = queue_key(source).replace("%%", "%")
            if not server.exists(queue):
                server.delete(dupefilter_key(source).replace("%%", "%"))
    finally:
        server.close()


class IdleExit:
    """Keeps a spider open while its queue is empty, until ``DOXWATCH_IDLE_EXIT`` seconds
    have passed with nothing to do: another process may still add requests.

    An idle Scrapy engine looks at its scheduler only every 5 seconds; this extension
    looks at the shared queue every :data:`POLL_SECONDS` and wakes the engine when another
    process has put requests there, so a worker joins a crawl at once.
    """

    POLL_SECONDS = 0.5

    def __init__(self, crawler: Crawler, idle_exit: float) -> None:
        self.crawler = crawler
        self.idle_exit = idle_exit
        self.idle_since: float | None = None
        self.poll = task.LoopingCall(self._wake_if_queued)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IdleExit:
        extension = cls(crawler, crawler.settings.getfloat("DOXWATCH_IDLE_EXIT", 0.0))
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.busy, signal=signals.request_scheduled)
        crawler.signals.connect(extension.busy, signal=signals.response_received)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self, spider: Spider) -> None:
        self.poll.start(self.POLL_SECONDS, now=False)

    def closed(self, spider: Spider) -> None:
        if self.poll.running:
            self.poll.stop()

    def _wake_if_queued(self) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)  # the engine's "look again" call
        if self.idle_since is not None and slot is not None and len(slot.scheduler):
            slot.nextcall.schedule()

    def busy(self, *args: Any, **kwargs: Any) -> None:
        self.idle_since = None

    def spider_idle(self, spider: Spider) -> None:
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.idle_exit:
            raise DontCloseSpider


# --- the serializer scrapy-redis calls (SCHEDULER_SERIALIZER names this module) ----------

def dumps(request: dict[str, Any]) -> str:
    """A request (``request_to_dict``) as JSON: bytes and bytes-keyed headers tagged."""
    return json.dumps(_encode(request), ensure_ascii=False)


def loads(data: bytes | str) -> dict[str, Any]:
    return _decode(json.loads(data))


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        plain = all(isinstance(key, str) for key in value)
        if plain and not _TAGS & set(value):
            return {key: _encode(item) for key, item in value.items()}
        return {"__pairs__": [[_encode(key), _encode(item)] for key, item in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return base64.b64decode(value["__bytes__"])
        if set(value) == {"__pairs__"}:
            return {_decode(key): _decode(item) for key, item in value["__pairs__"]}
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value
