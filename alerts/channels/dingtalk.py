"""DingTalk (钉钉) custom robot: the digest as markdown messages, optionally signed (加签).

What DingTalk documents, and where it was found (search tool, corpora docs/pages/issues):

Signing ("加签", the custom robot's security settings; the official text is reproduced at
https://apifox.com/apidoc/docs-site/467052/doc-3550006 and https://www.mihaoyun.com/wordpress/?p=391,
with DingTalk's Java and Python samples): ``timestamp`` is the current time in *milliseconds*
and must be within one hour of DingTalk's clock; ``string_to_sign = f"{timestamp}\\n{secret}"``;
HMAC-SHA256 of it keyed with the secret (the ``SEC…`` string), then base64, then URL-encoded
(the sample uses ``urllib.parse.quote_plus``); both go into the webhook URL as
``&timestamp=…&sign=…``. The docs.rs crate dingding 0.1.1 (src/signature.rs) pins the same
algorithm with a test vector, ``("1700000000000", "secret")`` →
``OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D``, which our tests check too.

Limits:
- 20 messages a minute per robot; beyond that the robot is throttled for 10 minutes with
  errcode 130101 "send too fast, exceed 20 times per minute" (DingTalk's custom-robot page, as
  quoted at https://blog.csdn.net/lxw1844912514/article/details/125780346 and
  https://blog.csdn.net/jialiuyang/article/details/118615052). Hence ``min_interval`` 3 s.
- 20,000 bytes a message: errcode 460101 "message too long, exceed 20000 bytes"
  (timonwong/prometheus-webhook-dingtalk#30). We keep the whole JSON request body, which holds
  the markdown text, at or under 20,000 UTF-8 bytes.

Replies are HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}`` on success; errcode 310000 when a
security setting refuses the message, told apart by errmsg: "sign not match" (or, lately,
"…机器人发送签名不匹配…"), "keywords not in content", "ip … not in whitelist"
(x-cold/dingtalk-robot#7, timonwong/prometheus-webhook-dingtalk#197, qd-today/qd#510);
300001 / 300005 "token is not exist" for a wrong access_token (sdvdxl/falcon-message#7,
timonwong/prometheus-webhook-dingtalk#226); 130101 and 460101 as above.

Dialect: DingTalk's markdown is a subset (headings, bold, links, lists, quotes, images,
``<font>``) with no documented escape, so scraped text has those markup characters replaced by
their fullwidth forms (``alerts.chat.FULLWIDTH``): a post cannot become a link, an image (a
tracking pixel in the analysts' clients), a heading or a ``<font>`` tag. @-mentions only happen
through the message's ``at`` field, which is never sent. A robot secured by custom keywords
should use the keyword ``doxwatch``: every message starts with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

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
    errcode_reply,
    json_size,
    neutralize,
    part_label,
)

MESSAGE_LIMIT = 20_000  # bytes of the request body (errcode 460101 above that)
PER_MINUTE = 20         # messages per robot
SEND_TOO_FAST = 130101
SECURITY_REFUSED = 310000
UNKNOWN_TOKEN = (300001, 300005)
TOO_LONG = 460101

_IP_REFUSAL = re.compile(r"(?i)\bip\b|whitelist|白名单")


def sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), before URL-encoding."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The webhook URL with ``timestamp`` and the URL-encoded ``sign`` appended."""
    query = urlencode({"timestamp": str(timestamp_ms), "sign": sign(secret, timestamp_ms)})
    joiner = "" if url.endswith(("?", "&")) else ("&" if "?" in url else "?")
    return f"{url}{joiner}{query}"


def md(text: str) -> str:
    """Scraped (already cleaned and defanged) text, inert in DingTalk markdown."""
    return neutralize(text)


class DingTalkChannel(ChatChannel):
    kind = "dingtalk"
    OPTIONS = chat_options(min_interval=60 / PER_MINUTE, rate_limit_wait=60, signed=True)
    LIMIT = MESSAGE_LIMIT
    UNIT = "bytes"
    SEPARATOR = json_size("\n\n")

    def _unit(self, text: str, **fields: Any) -> Unit[str]:
        return Unit(text, json_size(text), **fields)

    def intro(self, summary: Summary) -> list[Unit[Any]]:
        units = [self._unit(f"**Period** {summary.period}")]
        units.append(self._unit("\n".join(f"- {label}: **{count}**"
                                          for label, count in summary.totals)))
        quiet = summary.quiet_line()
        if quiet:
            units.append(self._unit(quiet))
        for source, reason in summary.broken:
            units.append(self._unit(f"- ⚠ **Broken source** {md(source)}: {md(reason)}"))
        if summary.broken_more:
            units.append(self._unit(f"- ⚠ and {summary.broken_more} more broken sources: "
                                    "`doxwatch status`"))
        if summary.undelivered:
            units.append(self._unit(f"⚠ **Not delivered** (the channel gave up; "
                                    f"`{summary.retry_given_up}` tries again):"))
            units.extend(self._unit(f"- {md(line)}") for line in summary.undelivered)
        if summary.hidden:
            units.append(self._unit(f"Showing the {summary.shown} strongest of "
                                    f"{summary.offers} offers; all of them: `{summary.rest}`"))
        return units

    def heading(self, group: Group, *, continued: bool) -> Unit[Any]:
        if continued:
            text = f"### {group.label} (continued)"
        elif len(group.entries) < group.total:
            text = f"### {group.label} ({group.total}, showing {len(group.entries)})"
        else:
            text = f"### {group.label} ({group.total})"
        return self._unit(text, group=group.category, heading=True)

    def entry(self, view: EntryView, group: str) -> Unit[Any]:
        link = f"[link]({view.link})" if view.link else view.link_note
        lines = [
            f"**{view.number}. {md(view.heading)}**",
            "",
            f"- {md(view.source)} · {view.posted} · {link} · #{view.post_id}",
            f"- {view.scores}",
            *(f"- {name}: {md(value)}" for name, value in view.details),
        ]
        if view.excerpt:
            lines += ["", f"> {md(view.excerpt)}"]
        return self._unit("\n".join(lines), group=group, post_id=view.post_id)

    def outro(self, summary: Summary) -> list[Unit[Any]]:
        if not summary.hidden:
            return []
        return [self._unit(f"…and {summary.hidden} more offers this period: "
                           f"`{summary.rest}`, or the e-mail / file digest")]

    def payload(self, summary: Summary, units: Sequence[Unit[Any]], index: int,
                total: int) -> dict[str, Any]:
        title = f"{summary.title}{part_label(index, total)}"
        text = f"#### {title}" + "".join("\n\n" + unit.body for unit in units)
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}

    def measure(self, payload: dict[str, Any]) -> int:
        return len(encode(payload))

    def request(self, message: ChatMessage) -> tuple[str, bytes]:
        url = self.url
        if self.secret:
            url = signed_url(url, self.secret, int(self.clock() * 1000))
        return url, encode(message.payload)

    def interpret(self, response: httpx.Response) -> Reply:
        read = errcode_reply(response, self.where, "DingTalk")
        if isinstance(read, Reply):
            return read
        code, text = read
        if code == 0:
            return Reply.success()
        if code == SEND_TOO_FAST:
            return Reply(problem=f"the robot is sending too fast (errcode {code}: {text})",
                         rate_limited=True)
        if code == SECURITY_REFUSED:
            return Reply(problem=self._security(text))
        if code in UNKNOWN_TOKEN or "token" in text.lower():
            return Reply(problem=f"DingTalk does not know the robot's access_token "
                                 f"(errcode {code}: {text}): {self.check_url()}")
        if code == TOO_LONG:
            return Reply(problem=f"the message is too long for DingTalk (errcode {code}: {text})")
        return Reply(problem=f"DingTalk refused the message (errcode {code}: {text})")

    def _security(self, text: str) -> str:
        code = f"errcode {SECURITY_REFUSED}: {text}"
        if "sign" in text.lower() or "签名" in text:
            if self.secret:
                return (f"the robot refused the signature ({code}): {self.check_secret()}, and "
                        "this host's clock (the timestamp must be within an hour of DingTalk's)")
            return (f"the robot wants signed messages (加签) ({code}): set secret_env to the "
                    "variable holding its SEC… secret")
        if "keyword" in text.lower() or "关键词" in text:
            return (f"the message lacks the robot's custom keyword ({code}): add the keyword "
                    "doxwatch in the robot's security settings (every message contains it)")
        if _IP_REFUSAL.search(text):
            return (f"this host's IP address is not in the robot's whitelist ({code}): add it "
                    "in the robot's security settings")
        return f"the robot's security settings refused the message ({code})"
