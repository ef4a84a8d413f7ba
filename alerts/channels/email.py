"""E-mail over SMTP: one multipart/alternative message, plain text and HTML, UTF-8 throughout.

The Message-ID is derived from the digest, so when a failed delivery is retried and the first
attempt did get through after all, mail clients and the analyst can tell it is the same digest.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from ssl import create_default_context
from typing import Any

import httpx

from alerts.channels.base import Channel, read_secret
from alerts.channels.options import (
    Option,
    boolean,
    email_address,
    email_list,
    env_name,
    port,
    seconds,
    text,
)
from alerts.digest import Digest
from alerts.errors import DeliveryError, NotConfigured
from alerts.render import headline, render_html, render_text

SMTP_PORT = 25
SMTPS_PORT = 465


class EmailChannel(Channel[EmailMessage]):
    kind = "email"
    OPTIONS = {
        "host": Option(text, required=True),
        "port": Option(port),
        "sender": Option(email_address, required=True),
        "to": Option(email_list, required=True),
        "starttls": Option(boolean, default=False),
        "ssl": Option(boolean, default=False),
        "username_env": Option(env_name),
        "password_env": Option(env_name),
        "timeout": Option(seconds, default=30),
        "subject_prefix": Option(text, default="[doxwatch]"),
    }

    @classmethod
    def validate(cls, options: Mapping[str, Any]) -> None:
        super().validate(options)
        if options.get("ssl") and options.get("starttls"):
            raise NotConfigured(
                "starttls",
                "cannot be combined with ssl (ssl is TLS from the first byte, usually port 465; "
                "starttls upgrades a plain connection, usually port 587)",
            )
        for field, partner in (("username_env", "password_env"), ("password_env", "username_env")):
            if field in options and partner not in options:
                raise NotConfigured(partner, f"missing; {field} needs it to log in")

    def configure(self, env: Mapping[str, str], client: httpx.Client | None) -> None:
        settings = self.options
        self.host: str = settings["host"]
        self.port: int = settings["port"] or (SMTPS_PORT if settings["ssl"] else SMTP_PORT)
        username = read_secret(env, settings, "username_env")
        password = read_secret(env, settings, "password_env")
        self._credentials = (username, password) if username and password else None

    def prepare(self, digest: Digest) -> EmailMessage:
        settings = self.options
        message = EmailMessage()
        kind = "Immediate alert: " if digest.immediate else ""
        message["Subject"] = (f"{settings['subject_prefix']} {kind}{headline(digest)} — "
                              f"{digest.created_at.date()}")
        message["From"] = settings["sender"]
        message["To"] = ", ".join(settings["to"])
        message["Date"] = format_datetime(digest.created_at)
        message["Message-ID"] = message_id(digest, settings["sender"])
        message.set_content(render_text(digest), charset="utf-8")
        message.add_alternative(render_html(digest), subtype="html", charset="utf-8")
        return message

    def deliver(self, message: EmailMessage) -> None:
        where = f"SMTP server {self.host}:{self.port}"
        try:
            refused = self._transmit(message)
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(explain(error, where, self.options["timeout"])) from error
        if refused:
            raise DeliveryError(f"{where} refused some recipients: {format_refusals(refused)}")

    def describe(self, message: EmailMessage) -> str:
        return (f"e-mail {message['Subject']!r} to {message['To']} "
                f"via {self.host}:{self.port}")

    def _transmit(self, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        """Connect, secure, log in and send; returns the recipients the server refused."""
        timeout = self.options["timeout"]
        if self.options["ssl"]:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=timeout, context=create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=timeout)
        with smtp:
            if self.options["starttls"]:
                smtp.starttls(context=create_default_context())
            if self._credentials:
                smtp.login(*self._credentials)
            return smtp.send_message(message)


def message_id(digest: Digest, sender: str) -> str:
    """<doxwatch-digest-KEY@sender-domain>: the same digest always gets the same id."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "doxwatch.invalid"
    return f"<doxwatch-digest-{digest.key}@{domain}>"


def explain(error: smtplib.SMTPException | OSError, where: str, timeout: float) -> str:
    """One line for the delivery record: a timeout, an SMTP reply, or a network failure."""
    # smtplib reports a read that timed out as SMTPServerDisconnected; look underneath.
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return f"{where}: no answer within {timeout} s"
    if isinstance(error, smtplib.SMTPException):
        return f"{where}: {describe_smtp_error(error)}"
    return f"cannot reach {where}: {error.strerror or error}"


def describe_smtp_error(error: smtplib.SMTPException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return f"refused every recipient: {format_refusals(error.recipients)}"
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        detail = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{type(error).__name__}: {error.smtp_code} {detail}"
    return f"{type(error).__name__}: {error}"


def format_refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {reply.decode('utf-8', 'replace')})"
        for address, (code, reply) in refused.items()
    )
