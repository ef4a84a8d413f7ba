"""The pieces the chat channels share (alerts/chat.py): summarizing, splitting, defanging,
masking webhook URLs, reading Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from alerts.chat import (
    Unit,
    defang,
    mask_url,
    pack,
    retry_after,
    safe_link,
    scraped,
    summarize,
    url_secrets,
)
from alerts.digest import Digest
from tests.alerts.samples import CREATED, SINCE, make_entry


def unit(size: int, group: str | None = None, *, heading: bool = False,
         name: str = "") -> Unit[str]:
    return Unit(name or f"{group}:{size}", size, group=group, heading=heading)


def test_pack_fills_parts_up_to_the_budget_counting_separators() -> None:
    units = [unit(4, name=str(i)) for i in range(5)]

    parts = pack(units, budget=10, separator=1)

    assert [[u.body for u in part] for part in parts] == [["0", "1"], ["2", "3"], ["4"]]


def test_pack_repeats_the_heading_of_a_category_split_across_parts() -> None:
    units = [unit(2, "a", heading=True, name="A"), *(unit(3, "a", name=f"a{i}") for i in range(4)),
             unit(2, "b", heading=True, name="B"), unit(3, "b", name="b0")]

    parts = pack(units, budget=9, continued=lambda group: unit(2, group, heading=True,
                                                                 name=f"{group.upper()}…"))

    assert [[u.body for u in part] for part in parts] == [
        ["A", "a0", "a1"], ["A…", "a2", "a3"], ["B", "b0"],
    ]
    assert all(sum(u.size for u in part) <= 9 for part in parts)


def test_pack_never_ends_a_part_with_a_heading() -> None:
    units = [unit(2, "a", heading=True, name="A"), unit(6, "a", name="a0"),
             unit(2, "b", heading=True, name="B"), unit(6, "b", name="b0")]

    parts = pack(units, budget=10)

    assert [[u.body for u in part] for part in parts] == [["A", "a0"], ["B", "b0"]]


def test_pack_limits_the_number_of_units() -> None:
    parts = pack([unit(1) for _ in range(7)], budget=100, max_units=3)

    assert [len(part) for part in parts] == [3, 3, 1]


def test_pack_refuses_a_unit_that_cannot_fit_anywhere() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        pack([unit(11)], budget=10)


@pytest.mark.parametrize(("url", "masked"), [
    ("https://oapi.dingtalk.com/robot/send?access_token=6a1f0c3e9b2d4a7f8e5c",
     "https://oapi.dingtalk.com/robot/send?access_token=***"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa",
     "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/5e3d587e-d78e-4a07-bd07-265f269f86fd",
     "https://open.feishu.cn/open-apis/bot/v2/hook/***"),
    ("https://hooks.slack.com/services/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",
     "https://hooks.slack.com/services/***/***/***"),
    ("http://user:pa55word@[::1]:8080/hook?x=1#frag", "http://[::1]:8080/hook?x=***"),
])
def test_mask_url_hides_tokens_in_the_query_and_the_path(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    for secret in url_secrets(url) - {url}:
        assert secret not in masked


def test_defang_and_scraped_make_quoted_links_inert() -> None:
    assert defang("see https://evil.example and HTTP://x.example/a") == (
        "see hxxps://evil.example and HxxP://x.example/a")
    assert scraped("a\u202e\x1b[2J\n http://evil.example/" + "长" * 50, 20) == (
        "a[2J hxxp://evil.ex…")


def test_safe_link_encodes_what_would_end_a_markdown_link() -> None:
    assert safe_link("http://127.0.0.1/t?a=1)[evil](http://x", 1000) == (
        "http://127.0.0.1/t?a=1%29%5Bevil%5D%28http://x")
    assert safe_link("javascript:alert(1)", 1000) is None
    assert safe_link("http://127.0.0.1/" + "a" * 100, 50) is None


def test_summarize_keeps_the_strongest_entries_by_category_and_every_total() -> None:
    def entry(post_id: int, category: str, score: float):  # noqa: ANN202
        return make_entry(post_id, category, scores={category: score})

    entries = (entry(1, "doxxing", 0.6), entry(2, "medical", 0.9), entry(3, "doxxing", 0.95),
               entry(4, "doxxing", 0.7), entry(5, "medical", 0.5))
    digest = Digest(5, CREATED, entries, since=SINCE,
                    broken_sources=tuple((f"s{i}", "no posts for 3 runs") for i in range(12)))

    summary = summarize(digest, 3)

    assert [(g.category, g.total, [e.post_id for e in g.entries]) for g in summary.groups] == [
        ("medical", 2, [2]), ("doxxing", 3, [3, 4]),
    ]
    assert summary.totals == (("Medical records / 医疗数据", 2), ("Doxxing lookups / 开盒查档", 3),
                              ("Face data & verification bypass / 人脸数据", 0))
    assert (summary.shown, summary.hidden, summary.count) == (3, 2, 5)
    assert len(summary.broken) == 10 and summary.broken_more == 2
    assert summary.period == "from 2026-11-22 09:00+08:00 to 2026-11-23 09:00+08:00"
    assert summary.title == "doxwatch digest 5: 5 new offers"


def test_summarize_without_a_previous_digest_says_until_when() -> None:
    summary = summarize(Digest(None, CREATED, ()), 10)

    assert summary.period == "until 2026-11-23 09:00+08:00"
    assert summary.quiet_line() == "No new offers until 2026-11-23 09:00+08:00."
    assert summary.title == "doxwatch digest 20261123T010000: No new offers"


@pytest.mark.parametrize(("header", "seconds"), [
    ("7", 7.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), (None, None),
])
def test_retry_after_reads_seconds(header: str | None, seconds: float | None) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    assert retry_after(httpx.Response(429, headers=headers)) == seconds


def test_retry_after_reads_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)

    wait = retry_after(httpx.Response(429, headers={"Retry-After": later}))

    assert wait is not None and 25 <= wait <= 30
