"""Polite Scrapy settings for every crawl, built from the source-independent knobs.

The caller (``monitor/``) adds ``ITEM_PIPELINES``; nothing here knows about storage.
"""

from __future__ import annotations

from typing import Any

RETRY_TIMES = 1
"""One retry: a flaky forum gets a second chance, a dead one does not stall the run."""


def crawl_settings(*, delay: float, timeout: float, max_page_bytes: int,
                   user_agent: str, obey_robots: bool) -> dict[str, Any]:
    """Settings for a crawl that is gentle with the sites and safe with what they send.

    One request at a time per site with ``delay`` seconds between them, robots.txt obeyed
    unless told otherwise, responses larger than ``max_page_bytes`` dropped (the spiders
    record them as failures), and no component that listens on a port: the telnet console
    and the remote-control HTTP server are off. Current Scrapy has a single request
    fingerprinter and no longer reads ``REQUEST_FINGERPRINTER_IMPLEMENTATION``.
    """
    return {
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": obey_robots,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": delay,
        "DOWNLOAD_TIMEOUT": timeout,
        "DNS_TIMEOUT": timeout,
        "DOWNLOAD_MAXSIZE": max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": RETRY_TIMES,
        "REDIRECT_MAX_TIMES": 5,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
    }
