"""The channel interface every delivery kind implements, built-in or third-party.

As in spidermon's actions: a channel is configured and checked at construction (a missing
secret raises ``NotConfigured`` then, not at 9 a.m. when the digest goes out), and ``send`` is
split into ``prepare`` (render: pure, also run in a dry run so template errors still surface)
and ``deliver`` (the only step that touches the network or the disk).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

import httpx

from alerts.channels.options import Option, check_options, resolve
from alerts.digest import Digest
from alerts.errors import NotConfigured

log = logging.getLogger(__name__)

MessageT = TypeVar("MessageT")


class Channel(ABC, Generic[MessageT]):
    """One configured destination of the digest (``[[channels]]`` in the config file)."""

    kind: ClassVar[str]
    OPTIONS: ClassVar[Mapping[str, Option]]

    @classmethod
    def validate(cls, options: Mapping[str, Any]) -> None:
        """Raise NotConfigured(field, message) for a bad table; no environment, no I/O."""
        check_options(cls.kind, cls.OPTIONS, options)

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        env: Mapping[str, str],
        client: httpx.Client | None = None,
        dry_run: bool = False,
    ) -> None:
        """Check the options, then let the kind ``configure`` itself. Every kind takes the same
        arguments so the registry can build any.
        """
        self.validate(options)
        self.name = name
        self.options = resolve(self.OPTIONS, options)
        self.dry_run = dry_run
        self.configure(env, client)

    def configure(self, env: Mapping[str, str], client: httpx.Client | None) -> None:
        """Read the secrets this kind needs from ``env``, keep the shared ``client`` if it sends
        over HTTP, and derive settings from ``self.options`` (already checked and defaulted).

        A hook rather than an ``__init__`` override so the constructor the registry calls is
        written once, here, and so a kind cannot forget the checks above or run before them.
        Runs in a dry run too: a missing secret should surface then as well.
        """

    def send(self, digest: Digest) -> None:
        """Deliver the digest, or in a dry run render it and log what would have been sent.

        Raises DeliveryError when the destination cannot be reached or refuses the message.
        """
        message = self.prepare(digest)
        if self.dry_run:
            log.info("dry run: %s channel %r would send %s", self.kind, self.name,
                     self.describe(message))
            return
        self.deliver(message)

    @abstractmethod
    def prepare(self, digest: Digest) -> MessageT:
        """Render the digest into what this channel delivers. No I/O."""

    @abstractmethod
    def deliver(self, message: MessageT) -> None:
        """Send a prepared message; raise DeliveryError with a clear message on failure."""

    @abstractmethod
    def describe(self, message: MessageT) -> str:
        """One line saying what would be sent where, for dry runs and logs."""


def read_secret(env: Mapping[str, str], options: Mapping[str, Any], field: str) -> str | None:
    """The secret in the environment variable that option ``field`` names, None if not asked for.

    Raises NotConfigured when the variable is named but unset or empty: better to refuse at
    start-up than to send unauthenticated (or unsigned) messages.
    """
    variable = options.get(field)
    if variable is None:
        return None
    value = env.get(variable)
    if not value:
        raise NotConfigured(field, f"environment variable {variable} is not set")
    return value
