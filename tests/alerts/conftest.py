"""A real SMTP server (aiosmtpd) on loopback for the e-mail channel tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from tests.helpers import closed_port

SMTP_USER = "watcher"
SMTP_PASSWORD = "s3cret-pass"


@dataclass
class Mailbox:
    """Collects what the server accepted; ``reply`` and ``refused`` let a test make it refuse
    the data or some recipients."""

    messages: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    reply: str = "250 OK"
    refused: set[str] = field(default_factory=set)
    port: int = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        if self.reply.startswith("250"):
            self.messages.append(envelope)
        return self.reply

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()
        ) == (SMTP_USER, SMTP_PASSWORD)
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(port=closed_port())
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=mailbox.port,
        authenticator=mailbox.authenticate,
        auth_require_tls=False,
        ready_timeout=5,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
