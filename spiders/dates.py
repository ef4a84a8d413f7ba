"""Dates as sites write them, turned into ISO 8601.

Feeds use RFC 822 (``Tue, 03 Jun 2025 09:30:00 +0800``) or ISO 8601; forums use ISO in
``<time datetime>``, ``2025-06-03 09:30`` or ``2025年6月3日 09:30``. A date that matches
none of these is dropped (``None``) rather than stored in a form nobody can sort by.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

_CHINESE_DATE = re.compile(
    r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]?"
    r"(?:\s*(?P<hour>\d{1,2})\s*[:：时]\s*(?P<minute>\d{1,2})"
    r"(?:\s*[:：分]\s*(?P<second>\d{1,2}))?)?"
)


def iso_datetime(value: str | None) -> str | None:
    """``value`` as ISO 8601, keeping its UTC offset when it has one; ``None`` if unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    parsed = _from_iso(value) or _from_rfc822(value) or _from_chinese(value)
    return parsed.isoformat() if parsed else None


def _from_iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        return None


def _from_rfc822(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _from_chinese(value: str) -> datetime | None:
    match = _CHINESE_DATE.search(value)
    if not match:
        return None
    parts = {name: int(number) for name, number in match.groupdict().items() if number}
    try:
        return datetime(**parts)
    except ValueError:
        return None
