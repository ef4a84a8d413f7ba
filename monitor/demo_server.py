"""Serve the built-in demo site on loopback, and describe the sources that crawl it.

Why a real HTTP server rather than handing the files to the parsers: ``doxwatch demo``
must show the path a real crawl takes — sockets, headers, robots.txt, pagination, a page
whose encoding is declared only inside it — so the demo proves the product, not a shortcut.

The site is read through ``importlib.resources`` so it is served the same from a source
checkout and from an installed wheel. Request paths are resolved segment by segment
inside the site; a ``..`` (however it is encoded) is refused before any file is touched.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, unquote

__all__ = [
    "DEMO_SITE",
    "FORUM_SELECTORS",
    "demo_sources",
    "expected_labels",
    "serve_demo_site",
]

DEMO_SITE: Traversable = files("monitor") / "demo_site"

#: The generic spider's selectors for the demo forum; the same keys a user writes in
#: ``[sources.options]``.
FORUM_SELECTORS: dict[str, str] = {
    "item_links": "a.thread::attr(href)",
    "title": "h1::text",
    "text": "div.post",
    "next_page": "a.next::attr(href)",
    "author": "span.author::text",
    "posted_at": "time::attr(datetime)",
}

#: Only these kinds of file are part of the site; anything else (the answer key
#: ``expected.json``, the README) is not served.
_CONTENT_TYPES = {
    ".html": "text/html",
    ".xml": "application/rss+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_META_CHARSET = re.compile(rb"""<meta\s+charset=["']?([\w-]+)""", re.IGNORECASE)
_SNIFF_BYTES = 1024


def demo_sources(base_url: str) -> list[dict[str, Any]]:
    """The two sources the demo crawls: the forum (generic) and the channel mirror (feed)."""
    base = base_url.rstrip("/")
    return [
        {"name": "demo-forum", "kind": "generic", "urls": [f"{base}/forum/"],
         "options": dict(FORUM_SELECTORS)},
        {"name": "demo-feed", "kind": "feed", "urls": [f"{base}/feed.xml"], "options": {}},
    ]


def expected_labels() -> dict[str, tuple[str, ...]]:
    """What an analyst would label each demo post: thread URL path or feed guid -> labels.

    Forum posts are keyed by path (``/forum/thread-101.html``) because the port changes
    on every run; feed items by their guid, which is what the feed spider stores.
    """
    raw = json.loads((DEMO_SITE / "expected.json").read_text(encoding="utf-8"))
    return {key: tuple(labels) for key, labels in raw.items()}


@contextmanager
def serve_demo_site(host: str = "127.0.0.1", port: int = 0, *,
                    site: Traversable = DEMO_SITE) -> Iterator[str]:
    """Serve the demo site until the block ends; yields the base URL, e.g. http://127.0.0.1:43117.

    ``port=0`` picks a free port. Only loopback addresses are accepted: the site is made
    of black-market look-alikes and has no business on a network. ``site`` is another
    directory to serve the same way (the tests use it to prove nothing beside it leaks).
    """
    address = ipaddress.ip_address(host)
    if address.version != 4 or not address.is_loopback:
        raise ValueError(f"the demo site is served on IPv4 loopback only, not on {host}")
    httpd = _DemoSiteServer((host, port), site)
    thread = threading.Thread(target=httpd.serve_forever, name="doxwatch-demo-site",
                              daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _content_type(name: str, body: bytes) -> str | None:
    """The Content-Type for a served file, or None if the file is not part of the site.

    An HTML page not declared UTF-8 is sent without a charset, as legacy forums do, so
    the crawler has to honour the page's own ``<meta charset>``.
    """
    content_type = _CONTENT_TYPES.get(PurePosixPath(name).suffix)
    if content_type != "text/html":
        return content_type
    declared = _META_CHARSET.search(body[:_SNIFF_BYTES])
    if declared and declared.group(1).lower() in (b"utf-8", b"utf8"):
        return "text/html; charset=utf-8"
    return content_type


def _site_path_segments(request_target: str) -> list[str] | None:
    """The decoded path segments of a request, or None if it tries to leave the site."""
    path = request_target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return None
    segments = unquote(path).split("/")[1:]
    for segment in segments:
        if segment.startswith(".") or "\\" in segment or "\x00" in segment:
            return None
    return segments


def _site_node(site: Traversable, segments: list[str]) -> Traversable:
    """The site's file or directory at ``segments`` (already checked not to climb out)."""
    node = site
    for segment in filter(None, segments):
        node = node / segment
    return node


def _read_page(node: Traversable) -> tuple[bytes, str] | None:
    """A served file's bytes and Content-Type, or None; a directory means its index.html."""
    if node.is_dir():
        node = node / "index.html"
    if not node.is_file():
        return None
    body = node.read_bytes()
    content_type = _content_type(node.name, body)
    return (body, content_type) if content_type else None


class _DemoSiteHandler(BaseHTTPRequestHandler):
    """GET/HEAD of the site's files; a directory means its index.html, never a listing."""

    server: _DemoSiteServer
    server_version = "doxwatch-demo"

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        segments = _site_path_segments(self.path)
        node = _site_node(self.server.site, segments) if segments is not None else None
        if node is not None and node.is_dir() and segments[-1]:
            self._redirect(quote("/" + "/".join(segments) + "/"))
            return
        page = _read_page(node) if node is not None else None
        if page is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        body, content_type = page
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        """``/forum`` -> ``/forum/``, so the list page's relative links resolve inside it."""
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo prints its own progress, not an access log."""


class _DemoSiteServer(ThreadingHTTPServer):
    """A threading HTTP server that knows which directory it serves."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: Traversable) -> None:
        self.site = site
        super().__init__(address, _DemoSiteHandler)
