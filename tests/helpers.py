"""Real servers on loopback for the tests: an HTTP server that serves pages we wrote.

Why a thread and not a mock: the spiders and channels must meet a real socket, real
headers and real failures (404, a closed port), as they will in the field.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LoopbackServer:
    """Serves ``routes`` (path with query → Route) and records every request."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    handler: Callable[[Recorded], Route | None] | None = None
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: str | bytes, *, status: int = 200,
            content_type: str = "text/html; charset=utf-8") -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, status, content_type)
        return self.url(path)


def _make_handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            rec = Recorded(self.command, self.path, dict(self.headers.items()), body)
            server.requests.append(rec)
            route = server.handler(rec) if server.handler else None
            if route is None:
                route = server.routes.get(self.path) or Route(b"not found", 404, "text/plain")
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(route.body)

        do_GET = do_POST = do_HEAD = do_PUT = _serve

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


@contextmanager
def loopback_server(server: LoopbackServer | None = None,
                    port: int = 0) -> Iterator[LoopbackServer]:
    """Serve on ``port`` (0: any free one; a given port lets a test bring a "down" peer up)."""
    server = server or LoopbackServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class SocksProxy:
    """A SOCKS5 proxy (no authentication, CONNECT only) that sends every connection to
    ``target`` on loopback, whatever host was asked for, and records the hosts asked."""

    target: int
    asked: list[str] = field(default_factory=list)
    port: int = 0


@contextmanager
def socks_proxy(target: int) -> Iterator[SocksProxy]:
    proxy = SocksProxy(target)
    listener = socket.create_server(("127.0.0.1", 0))
    proxy.port = listener.getsockname()[1]

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def serve(client: socket.socket) -> None:
        with client:
            client.recv(2 + 255)  # version, methods: answer "no authentication"
            client.sendall(b"\x05\x00")
            header = client.recv(4)  # version, CONNECT, reserved, address type
            if header[3] == 3:
                host = client.recv(client.recv(1)[0]).decode()
            elif header[3] == 1:
                host = socket.inet_ntoa(client.recv(4))
            else:
                host = socket.inet_ntop(socket.AF_INET6, client.recv(16))
            client.recv(2)  # the port asked for: every connection goes to the target
            proxy.asked.append(host)
            with socket.create_connection(("127.0.0.1", proxy.target)) as upstream:
                client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1")
                               + proxy.target.to_bytes(2, "big"))
                back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
                back.start()
                pipe(client, upstream)
                back.join(timeout=10)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                threading.Thread(target=serve, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield proxy
    finally:
        listener.close()


def closed_port() -> int:
    """A loopback port with nothing listening: connection refused, for real."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SmtpInbox:
    """What a loopback aiosmtpd server received: one entry per message."""

    port: int = 0
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[SmtpInbox]:
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()

    class Handler:
        async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 - aiosmtpd API
            inbox.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=closed_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()
