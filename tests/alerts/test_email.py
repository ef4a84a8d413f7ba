"""The e-mail channel against a real aiosmtpd server on loopback."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import pytest

from alerts.channels.email import EmailChannel
from alerts.errors import DeliveryError, NotConfigured
from tests.alerts.conftest import SMTP_PASSWORD, SMTP_USER, Mailbox
from tests.alerts.samples import sample_digest
from tests.helpers import closed_port


def options(port: int, **extra: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "sender": "doxwatch@example.org",
            "to": ["soc@example.org", "ciso@example.org"], "timeout": 5, **extra}


def received(mailbox: Mailbox) -> EmailMessage:
    (envelope,) = mailbox.messages
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_sends_multipart_text_and_html_with_a_utf8_subject(smtp_server: Mailbox) -> None:
    channel = EmailChannel("mail", options(smtp_server.port), env={})

    channel.send(sample_digest())

    (envelope,) = smtp_server.messages
    assert envelope.mail_from == "doxwatch@example.org"
    assert envelope.rcpt_tos == ["soc@example.org", "ciso@example.org"]
    message = received(smtp_server)
    assert message["Subject"] == "[doxwatch] 3 new offers — 2026-11-23"
    assert message["Message-ID"] == "<doxwatch-digest-42@example.org>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "代查户籍 全国可查 1" in text.get_content()
    assert "Medical records / 医疗数据" in text.get_content()
    assert html.get_content().startswith("<!DOCTYPE html>")
    assert "医院内部 病历 住院记录 可出" in html.get_content()


def test_resending_the_same_digest_keeps_the_message_id(smtp_server: Mailbox) -> None:
    channel = EmailChannel("mail", options(smtp_server.port, subject_prefix="[SOC]"), env={})

    channel.send(sample_digest())
    channel.send(sample_digest())
    channel.send(replace(sample_digest(), uid="ab" * 16))
    channel.send(replace(sample_digest(), uid="ab" * 16))

    ids = [email.message_from_bytes(e.original_content)["Message-ID"]
           for e in smtp_server.messages]
    # a digest stored before uids keeps its old Message-ID; a new one's has its uid
    assert ids == ["<doxwatch-digest-42@example.org>"] * 2 \
        + [f"<doxwatch-digest-42-{'ab' * 16}@example.org>"] * 2
    assert received_subjects(smtp_server) == ["[SOC] 3 new offers — 2026-11-23"] * 4


def received_subjects(mailbox: Mailbox) -> list[str]:
    return [
        str(email.message_from_bytes(e.original_content, policy=email.policy.default)["Subject"])
        for e in mailbox.messages
    ]


def test_logs_in_with_credentials_from_the_environment(smtp_server: Mailbox) -> None:
    env = {"SMTP_USER": SMTP_USER, "SMTP_PASSWORD": SMTP_PASSWORD}
    channel = EmailChannel(
        "mail", options(smtp_server.port, username_env="SMTP_USER", password_env="SMTP_PASSWORD"),
        env=env,
    )

    channel.send(sample_digest())

    assert smtp_server.logins == [SMTP_USER]
    assert len(smtp_server.messages) == 1


def test_wrong_password_is_a_delivery_error(smtp_server: Mailbox) -> None:
    env = {"SMTP_USER": SMTP_USER, "SMTP_PASSWORD": "wrong"}
    channel = EmailChannel(
        "mail", options(smtp_server.port, username_env="SMTP_USER", password_env="SMTP_PASSWORD"),
        env=env,
    )

    with pytest.raises(DeliveryError, match="SMTPAuthenticationError: 535"):
        channel.send(sample_digest())
    assert smtp_server.messages == []


def test_a_rejected_message_is_a_delivery_error_with_the_server_reply(
    smtp_server: Mailbox,
) -> None:
    smtp_server.reply = "554 5.7.1 message refused by policy"
    channel = EmailChannel("mail", options(smtp_server.port), env={})

    with pytest.raises(DeliveryError) as caught:
        channel.send(sample_digest())

    assert f"127.0.0.1:{smtp_server.port}" in str(caught.value)
    assert "554 5.7.1 message refused by policy" in str(caught.value)


def test_a_refused_recipient_is_a_delivery_error_naming_it(smtp_server: Mailbox) -> None:
    smtp_server.refused = {"ciso@example.org"}
    channel = EmailChannel("mail", options(smtp_server.port), env={})

    with pytest.raises(DeliveryError, match=r"refused some recipients: ciso@example.org "
                                            r"\(550 5.1.1 no such mailbox\)"):
        channel.send(sample_digest())
    assert [e.rcpt_tos for e in smtp_server.messages] == [["soc@example.org"]]


def test_every_recipient_refused_is_a_delivery_error(smtp_server: Mailbox) -> None:
    smtp_server.refused = {"soc@example.org", "ciso@example.org"}
    channel = EmailChannel("mail", options(smtp_server.port), env={})

    with pytest.raises(DeliveryError, match="refused every recipient: soc@example.org"):
        channel.send(sample_digest())
    assert smtp_server.messages == []


def test_a_refused_connection_is_a_delivery_error() -> None:
    port = closed_port()
    channel = EmailChannel("mail", options(port), env={})

    with pytest.raises(DeliveryError, match=f"cannot reach SMTP server 127.0.0.1:{port}: "
                                            "Connection refused"):
        channel.send(sample_digest())


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_silent_server_times_out_within_the_configured_timeout(silent_port: int) -> None:
    channel = EmailChannel("mail", options(silent_port, timeout=0.3), env={})

    started = time.monotonic()
    with pytest.raises(DeliveryError, match="no answer within 0.3 s"):
        channel.send(sample_digest())
    assert time.monotonic() - started < 3


def test_missing_password_in_the_environment_fails_at_construction() -> None:
    settings = options(25, username_env="SMTP_USER", password_env="SMTP_PASSWORD")

    with pytest.raises(NotConfigured) as caught:
        EmailChannel("mail", settings, env={"SMTP_USER": SMTP_USER})

    assert caught.value.field == "password_env"
    assert str(caught.value) == "password_env: environment variable SMTP_PASSWORD is not set"


def test_dry_run_renders_but_sends_nothing(smtp_server: Mailbox,
                                           caplog: pytest.LogCaptureFixture) -> None:
    channel = EmailChannel("mail", options(smtp_server.port), env={}, dry_run=True)

    with caplog.at_level("INFO", logger="alerts.channels.base"):
        channel.send(sample_digest())

    assert smtp_server.messages == []
    assert "[doxwatch] 3 new offers" in caplog.text
    assert "soc@example.org" in caplog.text


@pytest.mark.parametrize(
    ("extra", "port"), [({}, 25), ({"ssl": True}, 465), ({"starttls": True}, 25)]
)
def test_port_defaults_follow_the_transport(extra: dict[str, Any], port: int) -> None:
    settings = {k: v for k, v in options(0).items() if k != "port"} | extra

    assert EmailChannel("mail", settings, env={}).port == port


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"ssl": True, "starttls": True}, "starttls"),
        ({"username_env": "SMTP_USER"}, "password_env"),
        ({"password_env": "SMTP_PASSWORD"}, "username_env"),
        ({"password_env": "hunter2 literally"}, "password_env"),
        ({"to": []}, "to"),
        ({"to": "soc@example.org"}, "to"),
        ({"sender": "not an address"}, "sender"),
        ({"port": 70000}, "port"),
        ({"starttls": "yes"}, "starttls"),
        ({"start_tls": True}, "start_tls"),
    ],
)
def test_validate_names_the_bad_option(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(NotConfigured) as caught:
        EmailChannel.validate(options(25) | extra)

    assert caught.value.field == field


def test_an_immediate_alert_says_so_in_its_subject(smtp_server: Mailbox) -> None:
    channel = EmailChannel("mail", options(smtp_server.port, subject_prefix="[SOC]"), env={})
    channel.send(replace(sample_digest(), immediate=True))
    assert received_subjects(smtp_server) == [
        "[SOC] Immediate alert: 3 new offers — 2026-11-23"]
