"""Dates as sites write them, turned into ISO 8601.

Feeds use RFC 822 (``Tue, 03 Jun 2025 09:30:00 +0800``) or ISO 8601; forums use ISO in
``<time datetime>``, ``2025-06-03 09:30`` or ``2025年6月3日 09:30``, and Chinese boards
(Discuz!, Tieba) also write times relative to now: 刚刚, 半小时前, 5 分钟前, 3 小时前,
昨天 13:05, 前天 08:00, 3 天前. A date that matches none of these is dropped (``None``)
rather than stored in a form nobody can sort by.

A date written without an offset is in the site's own time zone; a spider that knows it
passes ``tz`` (Chinese boards show Beijing time, :data:`CHINA`), and relative dates are
counted back from ``now`` in that zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

CHINA = timezone(timedelta(hours=8), "CST")

_CHINESE_DATE = re.compile(
    r"(?P<year>\d{4})\s*[年/-]\s*(?P<month>\d{1,2})\s*[月/-]\s*(?P<day>\d{1,2})\s*[日号]?"
    r"(?:\s*(?P<hour>\d{1,2})\s*[:：时]\s*(?P<minute>\d{1,2})"
    r"(?:\s*[:：分]\s*(?P<second>\d{1,2}))?)?"
)


_RELATIVE = re.compile(
    r"^(?:(?P<now>刚刚)|(?P<half>半)\s*(?P<half_unit>小时|分钟)\s*前"
    r"|(?P<count>\d+)\s*(?P<unit>秒|分钟|小时|天|周)\s*前"
    r"|(?P<day>今天|昨天|前天)(?:\s*(?P<hour>\d{1,2})\s*[:：]\s*(?P<minute>\d{2}))?"
    r"|(?:(?P<month>\d{1,2})\s*[-月]\s*(?P<date>\d{1,2})\s*日?)?\s*"
    r"(?:(?P<at_hour>\d{1,2})\s*[:：]\s*(?P<at_minute>\d{2}))?)$"
)
_LABEL = re.compile(r"^(?:发表于|发布于|回复于|最后回复于?|更新于)\s*")  # 发表于 3 天前
_UNITS = {"秒": timedelta(seconds=1), "分钟": timedelta(minutes=1),
          "小时": timedelta(hours=1), "天": timedelta(days=1), "周": timedelta(weeks=1)}
_DAYS_AGO = {"今天": 0, "昨天": 1, "前天": 2}


def iso_datetime(value: str | None, *, tz: tzinfo | None = None,
                 now: datetime | None = None) -> str | None:
    """``value`` as ISO 8601, keeping its UTC offset when it has one; ``None`` if unreadable.

    ``tz``: the zone of a date written without an offset (else it stays without one).
    ``now``: what relative dates count back from (default: the current time).
    """
    if not value or not value.strip():
        return None
    value = _LABEL.sub("", " ".join(value.split()))
    relative = _from_relative(value, tz or UTC, now)
    if relative is not None:
        return relative.isoformat()
    parsed = _from_iso(value) or _from_rfc822(value) or _from_chinese(value)
    if parsed is None:
        return None
    if tz is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.isoformat()


def _from_relative(value: str, tz: tzinfo, now: datetime | None) -> datetime | None:
    match = _RELATIVE.match(value)
    if not match:
        return None
    here = (now or datetime.now(UTC)).astimezone(tz).replace(microsecond=0)
    if match["now"]:
        return here
    if match["half"]:
        return here - _UNITS[match["half_unit"]] / 2
    if match["count"]:
        return here - int(match["count"]) * _UNITS[match["unit"]]
    try:
        if match["day"]:
            return _at(here - timedelta(days=_DAYS_AGO[match["day"]]), match["hour"],
                       match["minute"])
        return _this_year(here, match)
    except ValueError:  # 25:00, 2-30
        return None


def _this_year(here: datetime, match: re.Match[str]) -> datetime | None:
    """``12-01 13:05``, ``12-1`` or ``13:05``, as lists show recent posts: this year (last
    year if that would be in the future), today when only the time is given."""
    if match["month"] is None and match["at_hour"] is None:
        return None  # an empty string, never a date
    moment = here
    if match["month"] is not None:
        moment = here.replace(month=int(match["month"]), day=int(match["date"]))
        if match["at_hour"] is None:
            moment = moment.replace(hour=0, minute=0, second=0)
    if match["at_hour"] is not None:
        moment = _at(moment, match["at_hour"], match["at_minute"])
    if moment > here + timedelta(days=1):
        moment = moment.replace(year=moment.year - 1)
    return moment


def _at(day: datetime, hour: str | None, minute: str | None) -> datetime:
    return day.replace(hour=int(hour or 0), minute=int(minute or 0), second=0)


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
