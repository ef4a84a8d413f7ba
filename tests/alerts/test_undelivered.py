"""The "Not delivered" section: every format and chat dialect names the channel that gave
up on an earlier digest, its date and last error, with the error's text made inert."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from alerts.channels import build_channel
from alerts.digest import Digest, Undelivered
from alerts.render import render_html, render_json, render_markdown, render_text
from tests.alerts.samples import empty_digest, sample_digest

SHANGHAI = ZoneInfo("Asia/Shanghai")
GAVE_UP = Undelivered(3, datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI), "soc-hook", 8,
                      "HTTP 503 from http://127.0.0.1:9/hook <b>[x](http://evil)</b>")
LINE = "digest 3 of 2026-11-20 09:00+08:00 → soc-hook: gave up after 8 attempts"


def _with(digest: Digest) -> Digest:
    return replace(digest, uid="cd" * 16, undelivered=(GAVE_UP,))


@pytest.mark.parametrize("make", [sample_digest, empty_digest], ids=["offers", "empty"])
def test_every_format_says_what_was_not_delivered(make) -> None:
    digest = _with(make())

    text, markdown, html = render_text(digest), render_markdown(digest), render_html(digest)

    assert "NOT DELIVERED" in text and LINE in text
    assert "**Not delivered**" in markdown and LINE in markdown
    assert r"\<b\>\[x\]\(http://evil\)\</b\>" in markdown  # escaped, no link, no tag
    assert "Not delivered" in html and LINE in html and "<b>[x]" not in html
    assert "&lt;b&gt;" in html
    assert json.loads(render_json(digest))["undelivered"] == [GAVE_UP.to_dict()]
    assert Digest.from_dict(digest.to_dict()) == digest
    assert "Not delivered" not in render_text(make()) + render_markdown(make())


@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu", "slack"])
def test_every_chat_dialect_says_what_was_not_delivered(kind: str) -> None:
    channel = build_channel(kind, "chat", {"url": "https://example.org/robot?key=secret99"},
                            env={}, client=None)

    [message] = channel.prepare(_with(sample_digest()))

    body = json.dumps(message.payload, ensure_ascii=False)
    assert "Not delivered" in body and "gave up after 8 attempts" in body
    assert "doxwatch digest --retry-given-up" in body
    assert "http://evil" not in body and "hxxp://" in body  # defanged: no link
    # the title names the digest by its id, the key (with its random uid) is for receivers
    assert "doxwatch digest 42:" in body and "cd" * 16 not in body
    assert message.key == f"42-{'cd' * 16}"
