"""The channel registry, building channels from config tables, and the public surface."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import alerts
import alerts.channels as channels
from alerts.channels import CHANNELS, build_channel, register, validate_channel
from alerts.channels.base import Channel
from alerts.channels.options import Option, text
from alerts.digest import Digest
from alerts.errors import AlertsError, DeliveryError, NotConfigured
from tests.alerts.samples import sample_digest


def test_builtin_kinds_are_registered() -> None:
    assert {kind: cls.kind for kind, cls in CHANNELS.items()} == {
        "email": "email", "webhook": "webhook", "file": "file", "stdout": "stdout",
        "dingtalk": "dingtalk", "wecom": "wecom", "feishu": "feishu", "slack": "slack",
    }


def test_build_channel_builds_the_registered_kind(tmp_path: Any) -> None:
    channel = build_channel("file", "archive", {"path": str(tmp_path)}, env={}, dry_run=True)

    assert type(channel) is CHANNELS["file"]
    assert (channel.name, channel.dry_run) == ("archive", True)


def test_unknown_kind_is_not_configured_on_the_kind_field() -> None:
    with pytest.raises(NotConfigured) as caught:
        build_channel("pigeon", "coo", {}, env={})

    assert caught.value.field == "kind"
    assert str(caught.value).startswith(
        "kind: unknown channel kind 'pigeon' (known: dingtalk, email, ")
    with pytest.raises(NotConfigured):
        validate_channel("pigeon", {})


def test_a_typo_in_an_option_names_the_key_and_lists_the_known_ones() -> None:
    with pytest.raises(NotConfigured) as caught:
        validate_channel("webhook", {"url": "http://127.0.0.1/hook", "time_out": 3})

    assert caught.value.field == "time_out"
    assert "known: headers, secret_env, timeout, url" in caught.value.message


def test_the_tables_own_name_and_kind_keys_are_accepted() -> None:
    validate_channel("stdout", {"name": "terminal", "kind": "stdout", "format": "text"})


def test_a_missing_required_option_is_named() -> None:
    with pytest.raises(NotConfigured, match="^host: missing \\(required by email channels\\)$"):
        validate_channel("email", {"sender": "a@example.org", "to": ["b@example.org"]})


class _ListChannel(Channel[str]):
    """A third-party channel, as a plugin would write one."""

    kind = "memo"
    OPTIONS = {"prefix": Option(text, default="digest")}
    sent: list[str] = []

    def prepare(self, digest: Digest) -> str:
        return f"{self.options['prefix']} {digest.key}: {digest.count}"

    def deliver(self, message: str) -> None:
        self.sent.append(message)

    def describe(self, message: str) -> str:
        return message


def test_a_third_party_channel_registers_like_the_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channels, "CHANNELS", dict(CHANNELS))

    assert register(_ListChannel) is _ListChannel
    build_channel("memo", "notes", {"prefix": "seen"}, env={}).send(sample_digest())

    assert _ListChannel.sent == ["seen 42: 3"]
    with pytest.raises(ValueError, match="already registered"):
        register(type("Impostor", (_ListChannel,), {}))
    with pytest.raises(TypeError, match="'kind'"):
        register(type("Nameless", (_ListChannel,), {"kind": ""}))


def test_error_messages() -> None:
    assert str(NotConfigured("to", "must be a list")) == "to: must be a list"
    assert str(DeliveryError("HTTP 503 from http://127.0.0.1/hook")) == (
        "HTTP 503 from http://127.0.0.1/hook"
    )
    assert issubclass(NotConfigured, AlertsError) and issubclass(DeliveryError, AlertsError)


def test_every_channel_takes_the_same_constructor_arguments() -> None:
    expected = ["self", "name", "options", "env", "client", "dry_run"]
    for cls in CHANNELS.values():
        parameters = list(inspect.signature(cls.__init__).parameters)
        assert parameters[: len(expected)] == expected, cls


def test_exported_members_match_all() -> None:
    public = {
        name for name, value in vars(alerts).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(alerts.__all__)
    assert all(hasattr(channels, name) for name in channels.__all__)
