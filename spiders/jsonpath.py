"""Paths into a JSON document, as the ``generic`` source's JSON options write them.

A small, documented syntax — no expressions, nothing evaluated:

- ``data.list``: keys of objects, separated by dots;
- ``items.0.text`` or ``items[0].text``: a list's element by position, counted from 0
  (``-1`` is the last one); a number on an object is the key of that name (``"0"``);
- ``replies[].text``: every element of a list (or every value of an object), so a path can
  find several values — ``data.groups[].posts[]`` is every post of every group;
- ``$``: the value itself (a response that is a list, an item that is a string); a leading
  ``$.`` is allowed and means nothing more (``$.data.list`` is ``data.list``).

A key that holds a dot or a bracket cannot be written. A path that leads nowhere — a
missing key, an index out of range, a key looked up in a string — finds nothing; it is
never an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_PART = re.compile(r"(?P<key>[^.\[\]]*)(?P<brackets>(?:\[-?\d*\])*)")
_BRACKET = re.compile(r"\[(-?\d*)\]")
_INDEX = re.compile(r"-?\d+")
_TIMESTAMP = re.compile(r"\d{9,}(?:\.\d+)?")
"""A Unix time written as a string: nine digits or more (``20250603`` is an ISO date)."""
MS_TIMESTAMPS_FROM = 100_000_000_000
"""A Unix time this large is in milliseconds: in seconds it would be after the year 5000,
in milliseconds it is after March 1973."""

EACH = None
"""The step of ``[]``: every element."""


class PathError(ValueError):
    """A path that cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True)
class JsonPath:
    """A parsed path: ``find`` gives every value it leads to, in document order."""

    text: str
    steps: tuple[str | int | None, ...]
    """A key (str), a list position (int), or ``EACH``."""

    @property
    def fans_out(self) -> bool:
        """Whether the path holds ``[]`` and so may find several values."""
        return EACH in self.steps

    def find(self, document: Any) -> list[Any]:
        found = [document]
        for step in self.steps:
            found = [value for current in found for value in _step(current, step)]
            if not found:
                break
        return found


def parse_path(text: str) -> JsonPath:
    """Read a path; ``PathError`` if it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise PathError("a path must be a non-empty string")
    path = text.strip()
    rest = path
    if rest.startswith("$"):
        rest = rest[1:]
        if rest.startswith("."):
            rest = rest[1:]
            if not rest:
                raise PathError(f"{path!r} ends with a dot")
        elif rest and not rest.startswith("["):
            raise PathError(f"{path!r}: '$' must be followed by '.' or '['")
    steps: list[str | int | None] = []
    if rest:
        for number, part in enumerate(rest.split(".")):
            steps.extend(_part_steps(path, part, first=number == 0))
    return JsonPath(path, tuple(steps))


def _part_steps(path: str, part: str, *, first: bool) -> list[str | int | None]:
    match = _PART.fullmatch(part)
    if match is None:
        raise PathError(f"{path!r}: cannot read {part!r}; write data.list, items.0.text "
                        "or replies[].text")
    key, brackets = match["key"], match["brackets"]
    if not key and not (first and brackets):
        raise PathError(f"{path!r} has an empty key (two dots, or a dot at an end)")
    steps: list[str | int | None] = [key] if key else []
    for inside in _BRACKET.findall(brackets):
        if inside == "-":
            raise PathError(f"{path!r}: '[-]' is not a list position")
        steps.append(int(inside) if inside else EACH)
    return steps


def _step(value: Any, step: str | int | None) -> Iterable[Any]:
    if step is EACH:
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            return value.values()
        return ()
    if isinstance(step, int):
        return _at(value, step) if isinstance(value, list) else ()
    if isinstance(value, dict):
        return (value[step],) if step in value else ()
    if isinstance(value, list) and _INDEX.fullmatch(step):
        return _at(value, int(step))
    return ()


def _at(values: list[Any], index: int) -> tuple[Any, ...]:
    return (values[index],) if -len(values) <= index < len(values) else ()


def scalars(found: Iterable[Any]) -> list[str]:
    """The values a path found, as text: strings stripped, numbers and booleans as JSON
    writes them, a list's elements in its place; objects, nulls and empty strings left out
    (they are not text)."""
    texts: list[str] = []
    pending = list(found)
    pending.reverse()
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(reversed(value))
        elif isinstance(value, bool):
            texts.append("true" if value else "false")
        elif isinstance(value, int | float):
            texts.append(repr(value))
        elif isinstance(value, str) and value.strip():
            texts.append(value.strip())
    return texts


def unix_time(value: Any) -> str | None:
    """A Unix time (seconds or milliseconds, a number or a string of digits) as ISO 8601
    in UTC; ``None`` if ``value`` is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not _TIMESTAMP.fullmatch(value.strip()):
            return None
        value = float(value)
    if not isinstance(value, int | float):
        return None
    try:
        seconds = value / 1000 if abs(value) >= MS_TIMESTAMPS_FROM else value
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.replace(microsecond=0).isoformat()
