"""One line per failed URL, saying what happened in words an operator can act on.

Scrapy reports failures as exceptions of many kinds; the monitor only needs to store and
show "http://…/: Connection refused". The line is built here, once, for every spider.
"""

from __future__ import annotations

from http import HTTPStatus

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

_PLAIN_MESSAGES: tuple[tuple[type[Exception], str], ...] = (
    (DownloadConnectionRefusedError, "Connection refused"),
    (DownloadTimeoutError, "Timed out"),
    (CannotResolveHostError, "DNS lookup failed"),
)
_SIZE_CAP_HINT = "max size"
"""Scrapy cancels an oversized download with a message that mentions its max size."""


def failure_line(url: str, what: str) -> str:
    return f"{url}: {what}"


def describe(failure: Failure, *, max_page_bytes: int | None = None) -> str:
    """What went wrong with a request, in a few words."""
    error = failure.value
    if isinstance(error, HttpError):
        return _describe_status(error.response.status)
    for kind, message in _PLAIN_MESSAGES:
        if isinstance(error, kind):
            return message
    if isinstance(error, DownloadCancelledError) and _SIZE_CAP_HINT in str(error):
        limit = f"the {max_page_bytes}-byte" if max_page_bytes else "the"
        return f"page larger than {limit} size limit, dropped"
    if isinstance(error, IgnoreRequest):
        return str(error) or "request ignored"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _describe_status(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"
