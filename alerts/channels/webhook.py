"""A JSON POST to an HTTP endpoint: the digest's data plus its text rendering.

Receivers get what they need to act twice over: ``Idempotency-Key`` lets them drop a retried
delivery they already processed, and the optional ``X-Doxwatch-Signature`` (HMAC-SHA256 of the
exact body with a shared secret) lets them reject posts that did not come from us.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from alerts.channels.base import Channel, read_secret
from alerts.channels.options import Option, env_name, http_url, seconds, string_table
from alerts.digest import Digest
from alerts.errors import DeliveryError
from alerts.render import render_text

SIGNATURE_HEADER = "X-Doxwatch-Signature"


@dataclass(frozen=True)
class WebhookRequest:
    body: bytes
    headers: httpx.Headers


class WebhookChannel(Channel[WebhookRequest]):
    kind = "webhook"
    OPTIONS = {
        "url": Option(http_url, required=True),
        "headers": Option(string_table, default={}),
        "secret_env": Option(env_name),
        "timeout": Option(seconds, default=10),
    }

    def configure(self, env: Mapping[str, str], client: httpx.Client | None) -> None:
        self.url: str = self.options["url"]
        self.timeout = httpx.Timeout(self.options["timeout"])
        self._client = client
        self._secret = read_secret(env, self.options, "secret_env")

    def prepare(self, digest: Digest) -> WebhookRequest:
        payload = {**digest.to_dict(), "text": render_text(digest)}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = httpx.Headers(self.options["headers"])
        headers.update({
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "doxwatch",
            "Idempotency-Key": f"doxwatch-digest-{digest.key}-{self.name}",
        })
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = "sha256=" + sign(self._secret, body)
        return WebhookRequest(body, headers)

    def deliver(self, message: WebhookRequest) -> None:
        where = redact(self.url)
        try:
            with self._session() as client:
                response = client.post(
                    self.url, content=message.body, headers=message.headers, timeout=self.timeout
                )
        except httpx.RequestError as error:
            detail = str(error) or "no detail"
            raise DeliveryError(f"{type(error).__name__}: {detail} (POST {where})") from error
        if not response.is_success:
            raise DeliveryError(f"HTTP {response.status_code} from {where}")

    def describe(self, message: WebhookRequest) -> str:
        return f"POST of {len(message.body)} bytes of JSON to {redact(self.url)}"

    @contextmanager
    def _session(self) -> Iterator[httpx.Client]:
        """The shared client when ``monitor`` gave one, else a short-lived one of our own."""
        if self._client is not None:
            yield self._client
            return
        with httpx.Client(timeout=self.timeout) as client:
            yield client


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the body: receivers recompute it to check the post is ours."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def redact(url: str) -> str:
    """The URL without credentials, query or fragment: chat webhooks carry tokens there, and
    error messages end up in the database and on the terminal."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
