from datetime import UTC, datetime

import pytest

from spiders.dates import CHINA, iso_datetime


@pytest.mark.parametrize(("written", "iso"), [
    ("2025-06-03T09:30:00+08:00", "2025-06-03T09:30:00+08:00"),
    ("2025-06-03 09:30", "2025-06-03T09:30:00"),
    ("2025/06/03", "2025-06-03T00:00:00"),
    ("Tue, 03 Jun 2025 09:30:00 +0800", "2025-06-03T09:30:00+08:00"),
    ("Tue, 03 Jun 2025 01:30:00 GMT", "2025-06-03T01:30:00+00:00"),
    ("2025年6月3日 09:30", "2025-06-03T09:30:00"),
    ("发表于 2025年6月3日", "2025-06-03T00:00:00"),
])
def test_dates_sites_write_become_iso_8601(written: str, iso: str) -> None:
    assert iso_datetime(written) == iso


@pytest.mark.parametrize("unreadable", [None, "", "  ", "yesterday", "2025年13月40日"])
def test_unreadable_dates_are_dropped(unreadable: str | None) -> None:
    assert iso_datetime(unreadable) is None


NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 14:00 in Beijing


@pytest.mark.parametrize(("written", "meant"), [
    ("刚刚", "2026-12-02T14:00:00+08:00"),
    ("半小时前", "2026-12-02T13:30:00+08:00"),
    ("发表于 半小时前", "2026-12-02T13:30:00+08:00"),
    ("5 分钟前", "2026-12-02T13:55:00+08:00"),
    ("3 小时前", "2026-12-02T11:00:00+08:00"),
    ("昨天 13:05", "2026-12-01T13:05:00+08:00"),
    ("前天 08:00", "2026-11-30T08:00:00+08:00"),
    ("3 天前", "2026-11-29T14:00:00+08:00"),
    ("发表于 2025-6-3 09:30", "2025-06-03T09:30:00+08:00"),
    ("12-01 13:05", "2026-12-01T13:05:00+08:00"),
    ("13:05", "2026-12-02T13:05:00+08:00"),
    ("12-25", "2025-12-25T00:00:00+08:00"),  # would be in the future: last year
    ("昨天 25:00", None),
])
def test_relative_and_partial_dates_of_chinese_boards(written, meant):
    assert iso_datetime(written, tz=CHINA, now=NOW) == meant


def test_a_date_without_offset_stays_without_one_unless_the_zone_is_known():
    assert iso_datetime("2025-06-03 09:30") == "2025-06-03T09:30:00"
    assert iso_datetime("2025-06-03 09:30", tz=CHINA) == "2025-06-03T09:30:00+08:00"
