"""Declared options of a channel, checked before anything is built or sent.

Each channel lists the keys its table accepts with a check per key. Checking is pure (no
environment, no I/O) so ``monitor`` can validate the whole config file at load time and name
the offending key; an unknown key is an error because it is almost always a typo
(``start_tls`` for ``starttls``) that would otherwise silently change behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from alerts.errors import NotConfigured

Check = Callable[[object], "str | None"]
"""Returns what is wrong with a value, or None when it is acceptable."""

RESERVED = frozenset({"name", "kind"})
"""Keys of a ``[[channels]]`` table that belong to the table itself, not to the channel kind."""


@dataclass(frozen=True)
class Option:
    """``path``: the value names a file or folder. Whoever reads the table owns resolving a
    relative one (``monitor`` makes it relative to the config file, as it does the SQLite
    file, not to wherever doxwatch happens to be started)."""

    check: Check
    required: bool = False
    default: Any = None
    path: bool = False


def check_options(kind: str, specs: Mapping[str, Option], options: Mapping[str, object]) -> None:
    """Raise NotConfigured for the first unknown, missing or malformed key."""
    for key in options:
        if key not in specs and key not in RESERVED:
            known = ", ".join(sorted(specs))
            raise NotConfigured(key, f"unknown option for a {kind} channel (known: {known})")
    for key, spec in specs.items():
        if key not in options:
            if spec.required:
                raise NotConfigured(key, f"missing (required by {kind} channels)")
            continue
        problem = spec.check(options[key])
        if problem:
            raise NotConfigured(key, problem)


def resolve(specs: Mapping[str, Option], options: Mapping[str, object]) -> dict[str, Any]:
    """The channel's settings: every declared key, with its default where the table has none."""
    return {key: options.get(key, spec.default) for key, spec in specs.items()}


def text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    return None


def boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def port(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        return "must be a port number between 1 and 65535"
    return None


def seconds(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return "must be a positive number of seconds"
    return None


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def env_name(value: object) -> str | None:
    """The *name* of an environment variable: secrets never live in the config file."""
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        return "must be the name of an environment variable, e.g. DOXWATCH_SMTP_PASSWORD"
    return None


def email_address(value: object) -> str | None:
    if not isinstance(value, str) or "\n" in value or "\r" in value:
        return "must be an e-mail address"
    address = parseaddr(value)[1]
    if "@" not in address.strip("@"):
        return f"{value!r} is not an e-mail address"
    return None


def email_list(value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of e-mail addresses"
    for item in value:
        problem = email_address(item)
        if problem:
            return problem
    return None


def http_url(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be an http:// or https:// URL"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{value!r} is not an http:// or https:// URL"
    return None


def string_table(value: object) -> str | None:
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    ):
        return "must be a table of strings, e.g. { Authorization = \"Bearer …\" }"
    if any("\n" in key + item or "\r" in key + item for key, item in value.items()):
        return "header names and values cannot contain line breaks"
    return None


def one_of(*choices: str) -> Check:
    def check(value: object) -> str | None:
        if value not in choices:
            return f"must be one of {', '.join(choices)}"
        return None

    return check


def subset_of(*choices: str) -> Check:
    def check(value: object) -> str | None:
        if not isinstance(value, list) or not value or any(item not in choices for item in value):
            return f"must be a non-empty list drawn from {', '.join(choices)}"
        if len(set(value)) != len(value):
            return "lists the same value twice"
        return None

    return check
