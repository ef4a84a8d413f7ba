"""WeCom (企业微信) group robot: the digest as markdown messages.

What WeCom documents, and where it was found (search tool, corpora docs/pages/issues):

- "群机器人配置说明" (https://work.weixin.qq.com/api/doc/90000/90136/91770, now
  developer.work.weixin.qq.com/document/path/91770): POST ``{"msgtype": "markdown",
  "markdown": {"content": …}}`` to the webhook; content must be UTF-8; the markdown is a subset:
  headings, bold, links, inline code, quotes and ``<font color="info|comment|warning">``;
  members are mentioned with ``<@userid>`` inside the content.
- The content is at most 4096 bytes: errcode 40058 "markdown.content exceed max length 4096"
  (dromara/domain-admin#82). We measure the content in UTF-8 bytes and keep each part ≤ 4096.
- At most 20 messages a minute per robot ("每个机器人发送的消息不能超过20条/分钟", quoted from the
  same page in k8scat/goutils message/wecom). Hence ``min_interval`` 3 s.
- Replies: ``{"errcode": 0, "errmsg": "ok"}``; 93000 "invalid webhook url" for a wrong key
  (wes-lin/Cloud189Checkin#175, zema1/watchvuln#146); 45009 "api freq out of limit"
  (WecomTeam/wecom-openclaw-plugin#48); 40058 as above.

There is no signing: the ``key`` in the URL is the robot's only credential, so ``url_env`` is
the better place for it. Dialect: no escape is documented, so scraped text has the markup
characters replaced by their fullwidth forms (``alerts.chat.FULLWIDTH``): a post cannot make a
link, a ``<font>`` tag or a ``<@userid>`` mention; our own markup uses ``<font>`` for the
category headings and the scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from alerts.chat import (
    Caps,
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
    neutralize,
    part_label,
)

CONTENT_LIMIT = 4096  # UTF-8 bytes of markdown.content (errcode 40058 above that)
PER_MINUTE = 20
INVALID_WEBHOOK = 93000
FREQUENCY_LIMIT = 45009
TOO_LONG = 40058


def md(text: str) -> str:
    """Scraped (already cleaned and defanged) text, inert in WeCom markdown."""
    return neutralize(text)


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


class WeComChannel(ChatChannel):
    kind = "wecom"
    OPTIONS = chat_options(min_interval=60 / PER_MINUTE, rate_limit_wait=60, signed=False)
    LIMIT = CONTENT_LIMIT
    UNIT = "bytes"
    SEPARATOR = _bytes("\n\n")
    # 4 KB a message: fewer characters per field than the other chats, so an entry stays a
    # fraction of a message even in Chinese (3 bytes a character).
    CAPS = Caps(title=80, excerpt=120, field=100, link=600)

    def _unit(self, text: str, **fields: Any) -> Unit[str]:
        return Unit(text, _bytes(text), **fields)

    def intro(self, summary: Summary) -> list[Unit[Any]]:
        units = [self._unit(f"**Period** {summary.period}")]
        units.append(self._unit("\n".join(f"{label}: **{count}**"
                                          for label, count in summary.totals)))
        quiet = summary.quiet_line()
        if quiet:
            units.append(self._unit(quiet))
        for source, reason in summary.broken:
            units.append(self._unit(f'<font color="warning">Broken source</font> '
                                    f"{md(source)}: {md(reason)}"))
        if summary.broken_more:
            units.append(self._unit(f'<font color="warning">and {summary.broken_more} more '
                                    "broken sources</font>: `doxwatch status`"))
        if summary.undelivered:
            units.append(self._unit('<font color="warning">Not delivered</font> (the channel '
                                    f"gave up; `{summary.retry_given_up}` tries again):"))
            units.extend(self._unit(f"- {md(line)}") for line in summary.undelivered)
        if summary.hidden:
            units.append(self._unit(f"Showing the {summary.shown} strongest of "
                                    f"{summary.offers} offers; all of them: `{summary.rest}`"))
        return units

    def heading(self, group: Group, *, continued: bool) -> Unit[Any]:
        if continued:
            count = "continued"
        elif len(group.entries) < group.total:
            count = f"{group.total}, showing {len(group.entries)}"
        else:
            count = str(group.total)
        text = f'### <font color="warning">{group.label}</font> ({count})'
        return self._unit(text, group=group.category, heading=True)

    def entry(self, view: EntryView, group: str) -> Unit[Any]:
        link = f"[link]({view.link})" if view.link else view.link_note
        lines = [
            f"**{view.number}. {md(view.heading)}**",
            f"{md(view.source)} · {view.posted} · {link} · #{view.post_id}",
            f'<font color="comment">{view.scores}</font>',
            *(f'<font color="comment">{name}:</font> {md(value)}'
              for name, value in view.details),
        ]
        if view.excerpt:
            lines.append(f"> {md(view.excerpt)}")
        return self._unit("\n".join(lines), group=group, post_id=view.post_id)

    def outro(self, summary: Summary) -> list[Unit[Any]]:
        if not summary.hidden:
            return []
        return [self._unit(f"…and {summary.hidden} more offers this period: "
                           f"`{summary.rest}`, or the e-mail / file digest")]

    def payload(self, summary: Summary, units: Sequence[Unit[Any]], index: int,
                total: int) -> dict[str, Any]:
        header = f"## {summary.title}{part_label(index, total)}"
        content = header + "".join("\n\n" + unit.body for unit in units)
        return {"msgtype": "markdown", "markdown": {"content": content}}

    def measure(self, payload: dict[str, Any]) -> int:
        return _bytes(payload["markdown"]["content"])

    def request(self, message: ChatMessage) -> tuple[str, bytes]:
        return self.url, encode(message.payload)

    def interpret(self, response: httpx.Response) -> Reply:
        read = errcode_reply(response, self.where, "WeCom")
        if isinstance(read, Reply):
            return read
        code, text = read
        if code == 0:
            return Reply.success()
        if code == FREQUENCY_LIMIT:
            return Reply(problem=f"the robot is sending too fast (errcode {code}: {text})",
                         rate_limited=True)
        if code == INVALID_WEBHOOK:
            return Reply(problem=f"WeCom does not know the robot's key (errcode {code}: "
                                 f"{text}): {self.check_url()}")
        if code == TOO_LONG:
            return Reply(problem=f"the message is too long for WeCom (errcode {code}: {text})")
        return Reply(problem=f"WeCom refused the message (errcode {code}: {text})")
