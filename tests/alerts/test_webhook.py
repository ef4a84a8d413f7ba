"""The webhook channel against the real loopback HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from alerts.channels.webhook import WebhookChannel
from alerts.errors import DeliveryError, NotConfigured
from alerts.render import render_text
from tests.alerts.samples import sample_digest
from tests.helpers import LoopbackServer, Recorded, Route, closed_port

SECRET = "shared-webhook-secret"


def hook(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, **extra}


UID = "0123456789abcdef" * 2


@pytest.fixture
def receiver(http_server: LoopbackServer) -> LoopbackServer:
    """The loopback server answering 204 No Content on /hook, as a chat webhook would."""
    http_server.add("/hook", b"", status=204, content_type="text/plain")
    return http_server


def test_posts_the_digest_as_json_with_its_text(receiver: LoopbackServer) -> None:
    channel = WebhookChannel(
        "hook", hook(receiver.url("/hook"), headers={"Authorization": "Bearer abc"}), env={}
    )

    channel.send(sample_digest())
    channel.send(replace(sample_digest(), uid=UID))

    request, stored = receiver.requests
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["Authorization"] == "Bearer abc"
    # a digest stored before uids keeps its old key; a new one's is unique to its database
    assert request.headers["Idempotency-Key"] == "doxwatch-digest-42-hook"
    assert stored.headers["Idempotency-Key"] == f"doxwatch-digest-42-{UID}-hook"
    assert "X-Doxwatch-Signature" not in request.headers
    payload = json.loads(request.body.decode("utf-8"))
    assert payload == {**sample_digest().to_dict(), "text": render_text(sample_digest())}
    assert payload["entries"][2]["title"] == "代查户籍 全国可查 1"


def test_the_signature_is_an_hmac_of_the_exact_body(receiver: LoopbackServer) -> None:
    channel = WebhookChannel(
        "hook", hook(receiver.url("/hook"), secret_env="HOOK_SECRET"),
        env={"HOOK_SECRET": SECRET},
    )

    channel.send(sample_digest())

    (request,) = receiver.requests
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Doxwatch-Signature"] == f"sha256={expected}"


def test_uses_the_shared_client_when_given_one(receiver: LoopbackServer) -> None:
    with httpx.Client(headers={"X-Shared-Client": "yes"}, timeout=httpx.Timeout(5)) as client:
        channel = WebhookChannel("hook", hook(receiver.url("/hook")), env={}, client=client)
        channel.send(sample_digest())
        assert not client.is_closed  # the channel does not own it

    assert receiver.requests[0].headers["X-Shared-Client"] == "yes"


def test_a_server_error_is_a_delivery_error_without_the_url_token(
    http_server: LoopbackServer,
) -> None:
    http_server.handler = lambda request: Route(b"down", status=500)
    channel = WebhookChannel("hook", hook(http_server.url("/hook?access_token=T0KEN")), env={})

    with pytest.raises(DeliveryError) as caught:
        channel.send(sample_digest())

    assert str(caught.value) == f"HTTP 500 from {http_server.url('/hook')}"


def test_a_redirect_is_not_followed(http_server: LoopbackServer) -> None:
    def redirect(request: Recorded) -> Route:
        return Route(b"", status=302)

    http_server.handler = redirect
    channel = WebhookChannel("hook", hook(http_server.url("/hook")), env={})

    with pytest.raises(DeliveryError, match="HTTP 302"):
        channel.send(sample_digest())
    assert len(http_server.requests) == 1


def test_a_closed_port_is_a_quick_connect_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    channel = WebhookChannel("hook", hook(url, timeout=2), env={})

    started = time.monotonic()
    with pytest.raises(DeliveryError, match=r"^ConnectError: .*\(POST http://127\.0\.0\.1:\d+/hook\)$"):
        channel.send(sample_digest())
    assert time.monotonic() - started < 2


@pytest.fixture
def silent_url() -> Iterator[str]:
    """An HTTP URL whose server accepts the connection and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"


@pytest.mark.parametrize("shared", [False, True], ids=["own client", "shared client"])
def test_the_timeout_option_bounds_a_silent_server(silent_url: str, shared: bool) -> None:
    # A shared client with a long timeout must not stretch the channel's own.
    with httpx.Client(timeout=httpx.Timeout(60)) as client:
        channel = WebhookChannel("hook", hook(silent_url, timeout=0.3), env={},
                                 client=client if shared else None)
        started = time.monotonic()
        with pytest.raises(DeliveryError, match="^ReadTimeout: "):
            channel.send(sample_digest())
    assert time.monotonic() - started < 3


def test_missing_secret_in_the_environment_fails_at_construction() -> None:
    with pytest.raises(NotConfigured) as caught:
        WebhookChannel("hook", hook("http://127.0.0.1:9/hook", secret_env="HOOK_SECRET"), env={})

    assert caught.value.field == "secret_env"


def test_dry_run_posts_nothing(http_server: LoopbackServer) -> None:
    channel = WebhookChannel("hook", hook(http_server.url("/hook")), env={}, dry_run=True)

    channel.send(sample_digest())

    assert http_server.requests == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({}, "url"),
        (hook("ftp://127.0.0.1/hook"), "url"),
        (hook("javascript:alert(1)"), "url"),
        (hook("http://127.0.0.1/hook", headers={"X-Count": 3}), "headers"),
        (hook("http://127.0.0.1/hook", headers={"X-Evil": "a\r\nInjected: 1"}), "headers"),
        (hook("http://127.0.0.1/hook", timeout=0), "timeout"),
        (hook("http://127.0.0.1/hook", timeout=True), "timeout"),
        (hook("http://127.0.0.1/hook", secret="inline"), "secret"),
    ],
)
def test_validate_names_the_bad_option(options: dict[str, Any], field: str) -> None:
    with pytest.raises(NotConfigured) as caught:
        WebhookChannel.validate(options)

    assert caught.value.field == field
