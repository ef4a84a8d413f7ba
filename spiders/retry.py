"""Retries that back off: a site that is struggling gets more time before each retry.

Scrapy's ``RetryMiddleware`` retries at once. This one marks each retry with a delay that
doubles with every attempt (``RETRY_BACKOFF_BASE`` seconds, then twice that …, capped at
``RETRY_BACKOFF_MAX``), or what the site asked for in ``Retry-After`` (429, 503) if that
is longer; :class:`BackoffDelayMiddleware` holds the retry back for that long before it
goes out. Waiting happens outside the site's download slot, so other sites go on.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response

BACKOFF_KEY = "doxwatch_backoff"


class BackoffRetryMiddleware(RetryMiddleware):
    """``RetryMiddleware`` whose retries carry the delay to wait before they are sent."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            asked = retry_after(response.headers.get(b"Retry-After"))
            result.meta[BACKOFF_KEY] = min(self.cap, max(asked, self._delay(result)))
        return result

    def process_exception(self, request: Request, exception: Exception,
                          spider: Any = None) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            result.meta[BACKOFF_KEY] = self._delay(result)
        return result

    def _delay(self, retry: Request) -> float:
        return min(self.cap, self.base * 2 ** (retry.meta.get("retry_times", 1) - 1))


class BackoffDelayMiddleware:
    """Holds a retry back for the delay ``BackoffRetryMiddleware`` gave it, once."""

    async def process_request(self, request: Request, spider: Any = None) -> None:
        delay = request.meta.pop(BACKOFF_KEY, 0.0)
        if delay > 0:
            await asyncio.sleep(delay)


def retry_after(value: bytes | None) -> float:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date); 0 if none."""
    if not value:
        return 0.0
    text = value.decode("latin-1").strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
