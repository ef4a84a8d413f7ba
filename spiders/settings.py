"""Polite Scrapy settings for every crawl, built from the source-independent knobs.

The caller (``monitor/``) adds ``ITEM_PIPELINES``; nothing here knows about storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RETRY_TIMES = 2
"""Two retries, 1 s then 2 s later (or when the site's Retry-After says): a flaky forum
gets a second chance, a dead one does not stall the run."""


def crawl_settings(*, delay: float, timeout: float, max_page_bytes: int,
                   user_agent: str, obey_robots: bool, per_domain: int = 1,
                   retry_backoff: float = 1.0) -> dict[str, Any]:
    """Settings for a crawl that is gentle with the sites and safe with what they send.

    At most ``per_domain`` requests at a time per site, at least ``delay`` seconds apart,
    and AutoThrottle slowing down further when a site answers slowly (it never goes below
    ``delay``); retries back off (``spiders.retry``); robots.txt obeyed unless told
    otherwise; responses larger than ``max_page_bytes`` dropped (the spiders record them as
    failures); and no component that listens on a port: the telnet console and the
    remote-control HTTP server are off. Current Scrapy has a single request fingerprinter
    and no longer reads ``REQUEST_FINGERPRINTER_IMPLEMENTATION``.
    """
    return {
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": obey_robots,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        "DOWNLOAD_DELAY": delay,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": delay,
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(per_domain),
        "DOWNLOAD_TIMEOUT": timeout,
        "DNS_TIMEOUT": timeout,
        "DOWNLOAD_MAXSIZE": max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": RETRY_TIMES,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "RETRY_BACKOFF_BASE": retry_backoff,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "spiders.retry.BackoffRetryMiddleware": 550,
            "spiders.retry.BackoffDelayMiddleware": 50,
        },
        "REDIRECT_MAX_TIMES": 5,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
    }


# Scrapy's own HTTP handler speaks to HTTP proxies only; its httpx handler (with socksio)
# also speaks SOCKS5, which a local Tor client offers. Only crawls through a SOCKS proxy
# use it.
_HTTPX_HANDLER = "scrapy.core.downloader.handlers._httpx.HttpxDownloadHandler"


def crawler_settings(request: Mapping[str, Any]) -> dict[str, Any]:
    """Settings one source's crawler needs beyond the shared ones (its request options)."""
    proxy = request.get("proxy") or ""
    if proxy.startswith("socks"):
        return {"DOWNLOAD_HANDLERS": {"http": _HTTPX_HANDLER, "https": _HTTPX_HANDLER}}
    return {}
