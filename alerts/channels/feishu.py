"""Feishu (飞书) custom bot: the digest as rich-text "post" messages, optionally signed.

What Feishu documents, and where it was found (search tool, corpora docs/pages/issues):

- "自定义机器人使用指南" / "Custom bot usage guide"
  (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, also
  open.larkoffice.com/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN): the custom bot's rate limit
  is 100 requests a minute and 5 a second per bot (hence ``min_interval`` 0.6 s), with a
  warning that sending on the hour or half hour may hit the 11232 limit error under load; and
  the request body may not exceed 20 KB. We keep the whole body, signature fields included, at
  or under 20,000 bytes, the stricter reading of "20 KB".
- Signing ("签名校验", same page; the official Python sample is reproduced at
  https://m.down10s.com/jiaocheng/5605312225.html, the Go one in go-gitea/gitea#34802
  "Fix Feishu webhook signature verification"): ``timestamp`` in *seconds*, within an hour
  of Feishu's clock; ``string_to_sign = f"{timestamp}\\n{secret}"`` is the HMAC-SHA256 *key*
  and the message is empty; the digest is base64-encoded and sent in the JSON body as
  ``"timestamp"`` (a string) and ``"sign"``. (Unlike DingTalk, whose secret is the key.)
- Replies: ``{"code": 0, "msg": "success", …}``; 19021 "sign match fail or timestamp is not
  within one hour from current time" (https://blog.csdn.net/zhanglili1993/article/details/136473704);
  19022 "Ip Not Allowed", 19024 "Key Words Not Found", 9499 "Bad Request" for a malformed or
  over-20 KB body (the guide as quoted at https://blog.csdn.net/qq_43108153/article/details/136166075);
  9499 "too many request" with HTTP 400 when sending too fast (ccfos/nightingale#1437); 11232
  frequency limited; "param invalid: incoming webhook access token invalid" for a wrong hook
  (sansan0/TrendRadar#278; code 19001); the Open Platform's generic limit reply is HTTP 429
  with code 99991400 and ``x-ogw-ratelimit-reset`` seconds (open.feishu.cn/document/
  server-docs/api-call-guide/frequency-control).

Post, not interactive card: a post's content is paragraphs of elements; ``text`` elements are
plain text and links are ``a`` elements with their own ``href``, so scraped text never goes
through a markup parser. A card's ``lark_md`` would parse Markdown, ``<at>`` and ``<font>``
with no documented escape, and the custom bot's 20 KB body limit is the same for both, so a
card buys no room. Mentions only exist as ``at`` elements, which are never sent; ``<`` in
scraped text is made fullwidth anyway, in case a client reads ``<at …>`` in text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import httpx

from alerts.chat import (
    ChatChannel,
    ChatMessage,
    EntryView,
    Group,
    Reply,
    Summary,
    Unit,
    chat_options,
    encode,
    json_body,
    json_size,
    neutralize,
    part_label,
    quote_reply,
    retry_after,
)

BODY_LIMIT = 20_000  # bytes of the request body ("不能超过 20 KB"; 9499 Bad Request above)
PER_MINUTE = 100     # and 5 a second
SIGN_FAILED = 19021
IP_NOT_ALLOWED = 19022
KEYWORDS_NOT_FOUND = 19024
BAD_TOKEN = 19001
BAD_REQUEST = 9499
FREQUENCY_LIMITED = (11232, 99991400)

# The signature fields as they are measured before the real ones exist: same lengths (a
# 10-digit timestamp lasts until 2286; a base64 SHA-256 is 44 characters).
_TIMESTAMP_PLACEHOLDER = "0" * 10
_SIGN_PLACEHOLDER = "=" * 44

_PLAIN = {"<": "＜"}


def sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def text(value: str) -> dict[str, str]:
    return {"tag": "text", "text": value}


def plain(value: str) -> str:
    """Scraped (already cleaned and defanged) text for a text element."""
    return neutralize(value, _PLAIN)


def _size(paragraphs: list[list[dict[str, str]]]) -> int:
    """Bytes the paragraphs add inside the content array (its brackets excluded)."""
    return json_size(paragraphs) - 2


class FeishuChannel(ChatChannel):
    kind = "feishu"
    OPTIONS = chat_options(min_interval=60 / PER_MINUTE, rate_limit_wait=10, signed=True)
    LIMIT = BODY_LIMIT
    UNIT = "bytes"
    SEPARATOR = len(",")

    def _unit(self, paragraphs: list[list[dict[str, str]]], **fields: Any) -> Unit[Any]:
        return Unit(paragraphs, _size(paragraphs), **fields)

    def intro(self, summary: Summary) -> list[Unit[Any]]:
        totals = " · ".join(f"{label}: {count}" for label, count in summary.totals)
        units = [self._unit([[text(f"Period {summary.period}")], [text(totals)]])]
        quiet = summary.quiet_line()
        if quiet:
            units.append(self._unit([[text(quiet)]]))
        for source, reason in summary.broken:
            units.append(self._unit([[text(f"⚠ Broken source {plain(source)}: "
                                           f"{plain(reason)}")]]))
        if summary.broken_more:
            units.append(self._unit([[text(f"⚠ and {summary.broken_more} more broken "
                                           "sources: doxwatch status")]]))
        if summary.undelivered:
            units.append(self._unit([[text(f"⚠ Not delivered (the channel gave up; "
                                           f"{summary.retry_given_up} tries again):")]]))
            units.extend(self._unit([[text(f"- {plain(line)}")]]) for line in summary.undelivered)
        if summary.hidden:
            units.append(self._unit([[text(f"Showing the {summary.shown} strongest of "
                                           f"{summary.offers} offers; all of them: "
                                           f"{summary.rest}")]]))
        return units

    def heading(self, group: Group, *, continued: bool) -> Unit[Any]:
        if continued:
            count = "continued"
        elif len(group.entries) < group.total:
            count = f"{group.total}, showing {len(group.entries)}"
        else:
            count = str(group.total)
        return self._unit([[text(f"■ {group.label} ({count})")]],
                          group=group.category, heading=True)

    def entry(self, view: EntryView, group: str) -> Unit[Any]:
        where = [text(f"{plain(view.source)} · {view.posted} · ")]
        if view.link:
            where.append({"tag": "a", "text": "link", "href": view.link})
        else:
            where.append(text(view.link_note))
        where.append(text(f" · #{view.post_id}"))
        paragraphs = [
            [text(f"{view.number}. {plain(view.heading)}")],
            where,
            [text(view.scores)],
            *([text(f"{name}: {plain(value)}")] for name, value in view.details),
        ]
        if view.excerpt:
            paragraphs.append([text(f"“{plain(view.excerpt)}”")])
        return self._unit(paragraphs, group=group, post_id=view.post_id)

    def outro(self, summary: Summary) -> list[Unit[Any]]:
        if not summary.hidden:
            return []
        return [self._unit([[text(f"…and {summary.hidden} more offers this period: "
                                  f"{summary.rest}, or the e-mail / file digest")]])]

    def payload(self, summary: Summary, units: Sequence[Unit[Any]], index: int,
                total: int) -> dict[str, Any]:
        content = [paragraph for unit in units for paragraph in unit.body]
        body: dict[str, Any] = {
            "msg_type": "post",
            "content": {"post": {"zh_cn": {
                "title": f"{summary.title}{part_label(index, total)}",
                "content": content,
            }}},
        }
        if self.secret:
            body.update(timestamp=_TIMESTAMP_PLACEHOLDER, sign=_SIGN_PLACEHOLDER)
        return body

    def measure(self, payload: dict[str, Any]) -> int:
        return len(encode(payload))

    def request(self, message: ChatMessage) -> tuple[str, bytes]:
        body = dict(message.payload)
        if self.secret:
            timestamp = int(self.clock())
            body.update(timestamp=str(timestamp), sign=sign(self.secret, timestamp))
        return self.url, encode(body)

    def interpret(self, response: httpx.Response) -> Reply:
        status = response.status_code
        data = json_body(response) or {}
        code = data.get("code", data.get("StatusCode"))
        message = quote_reply(data.get("msg", data.get("StatusMessage", response.text)))
        if status == 429 or code in FREQUENCY_LIMITED or (
                code == BAD_REQUEST and "too many" in message.lower()):
            wait = retry_after(response)
            reset = response.headers.get("x-ogw-ratelimit-reset", "")
            if wait is None and reset.isdigit():
                wait = float(reset)
            return Reply(problem=f"the bot is sending too fast (code {code}: {message})",
                         rate_limited=True, retry_after=wait)
        if status >= 500:
            return Reply(problem=f"HTTP {status} from {self.where}", transient=True)
        if code == 0 and response.is_success:
            return Reply.success()
        if not isinstance(code, int):
            return Reply(problem=f"unexpected reply from {self.where} (HTTP {status}, "
                                 "not Feishu's {code, msg})")
        detail = f"code {code}: {message}"
        if code == SIGN_FAILED:
            if self.secret:
                return Reply(problem=f"the bot refused the signature ({detail}): "
                                     f"{self.check_secret()}, and this host's clock (the "
                                     "timestamp must be within an hour of Feishu's)")
            return Reply(problem=f"the bot wants signed messages ({detail}): set secret_env "
                                 "to the variable holding its signature secret")
        if code == BAD_TOKEN or "access token" in message.lower():
            return Reply(problem=f"Feishu does not know this webhook ({detail}): "
                                 f"{self.check_url()}")
        if code == IP_NOT_ALLOWED:
            return Reply(problem=f"this host's IP address is not in the bot's whitelist "
                                 f"({detail}): add it in the bot's security settings")
        if code == KEYWORDS_NOT_FOUND:
            return Reply(problem=f"the message lacks the bot's custom keyword ({detail}): "
                                 "add the keyword doxwatch in the bot's security settings")
        if code == BAD_REQUEST:
            return Reply(problem=f"Feishu could not take the message ({detail}: malformed "
                                 "or over 20 KB)")
        return Reply(problem=f"Feishu refused the message ({detail}, HTTP {status})")
