"""Where digests go: a registry of channel kinds and the one function that builds a channel.

The built-in kinds are registered with the same ``register`` a third-party channel would call,
so they have no privileges a plugin lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from alerts.channels.base import Channel
from alerts.channels.dingtalk import DingTalkChannel
from alerts.channels.email import EmailChannel
from alerts.channels.feishu import FeishuChannel
from alerts.channels.file import FileChannel
from alerts.channels.slack import SlackChannel
from alerts.channels.stdout import StdoutChannel
from alerts.channels.webhook import WebhookChannel
from alerts.channels.wecom import WeComChannel
from alerts.errors import NotConfigured

CHANNELS: dict[str, type[Channel[Any]]] = {}


def register(channel: type[Channel[Any]]) -> type[Channel[Any]]:
    """Make a channel kind available to the config file; usable as a class decorator."""
    if not isinstance(getattr(channel, "kind", None), str) or not channel.kind:
        raise TypeError(f"{channel!r} needs a non-empty string class attribute 'kind'")
    existing = CHANNELS.get(channel.kind)
    if existing is not None and existing is not channel:
        raise ValueError(f"channel kind {channel.kind!r} is already registered by {existing!r}")
    CHANNELS[channel.kind] = channel
    return channel


for _builtin in (EmailChannel, WebhookChannel, FileChannel, StdoutChannel,
                 DingTalkChannel, WeComChannel, FeishuChannel, SlackChannel):
    register(_builtin)


def channel_class(kind: str) -> type[Channel[Any]]:
    """The registered class for ``kind``; NotConfigured("kind", …) when there is none."""
    try:
        return CHANNELS[kind]
    except KeyError:
        known = ", ".join(sorted(CHANNELS))
        raise NotConfigured("kind", f"unknown channel kind {kind!r} (known: {known})") from None


def validate_channel(kind: str, options: Mapping[str, Any]) -> None:
    """Check a channel table without building it (no env, no I/O): for config loading."""
    channel_class(kind).validate(options)


def build_channel(
    kind: str,
    name: str,
    options: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    client: httpx.Client | None = None,
    dry_run: bool = False,
) -> Channel[Any]:
    """Build a ready-to-send channel; raises NotConfigured for bad options or missing secrets."""
    return channel_class(kind)(name, options, env=env, client=client, dry_run=dry_run)


__all__ = [
    "CHANNELS",
    "Channel",
    "DingTalkChannel",
    "EmailChannel",
    "FeishuChannel",
    "FileChannel",
    "SlackChannel",
    "StdoutChannel",
    "WeComChannel",
    "WebhookChannel",
    "build_channel",
    "channel_class",
    "register",
    "validate_channel",
]
