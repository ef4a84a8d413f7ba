import pytest

from spiders.dates import iso_datetime


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
