"""Failure lines say what happened in a few words, whatever Scrapy raised."""

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from spiders.failures import describe


def http_error(status: int) -> HttpError:
    return HttpError(Response("http://x.test/", status=status), "Ignoring non-200 response")


@pytest.mark.parametrize(("error", "words"), [
    (http_error(404), "HTTP 404 Not Found"),
    (http_error(503), "HTTP 503 Service Unavailable"),
    (http_error(599), "HTTP 599"),
    (DownloadConnectionRefusedError("refused"), "Connection refused"),
    (DownloadTimeoutError("Getting x took longer than 1 seconds."), "Timed out"),
    (CannotResolveHostError("no such host"), "DNS lookup failed"),
    (DownloadCancelledError("Received 9000 bytes which is larger than download max size "
                            "(4000) in request <GET http://x.test/>."),
     "page larger than the 4000-byte size limit, dropped"),
    (DownloadCancelledError("cancelled by the user"),
     "DownloadCancelledError: cancelled by the user"),
    (IgnoreRequest("Forbidden by robots.txt"), "Forbidden by robots.txt"),
    (IgnoreRequest(), "request ignored"),
    (ValueError(), "ValueError"),
])
def test_describe(error: Exception, words: str) -> None:
    assert describe(Failure(error), max_page_bytes=4000) == words


def test_the_size_limit_is_named_only_when_known() -> None:
    error = DownloadCancelledError("Expected to receive 9000 bytes which is larger than "
                                   "download max size (4000) in request <GET http://x.test/>.")
    assert describe(Failure(error)) == "page larger than the size limit, dropped"
