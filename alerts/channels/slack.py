"""Slack incoming webhook: the digest as Block Kit messages, section blocks in mrkdwn.

What Slack documents, and where it was found (search tool, corpora docs/pages/issues):

- Rate limits (https://api.slack.com/docs/rate-limits): posting messages, incoming webhooks
  included, 1 per second per channel, short bursts tolerated; over the limit the answer is
  HTTP 429 with ``Retry-After`` (seconds). Hence ``min_interval`` 1 s, and the wait honours
  ``Retry-After``.
- Text objects (https://docs.slack.dev/reference/block-kit/composition-objects/text-object):
  a mrkdwn text is at most 3000 characters; ``verbatim: true`` stops Slack from turning URLs,
  channel names and mentions in plain text into links (we set it on every text object).
- At most 50 blocks in a message (docs.slack.dev/reference/block-kit/blocks, as cited by the
  docs.rs crate slack-messaging 0.7.3); a message's text is truncated after 40,000 characters
  (https://api.slack.com/changelog/2018-04-truncating-really-long-messages). Undocumented but
  reported: ``msg_blocks_too_long`` once the blocks hold about 13,200 characters in all
  (slackapi/bolt-js#2509). We keep a message at 49 content blocks (plus the header) and 12,000
  characters of block text, counted in UTF-16 code units (an emoji counts twice): the safe side.
- Escaping (https://api.slack.com/reference/surfaces/formatting, "Escaping text"): ``&``,
  ``<`` and ``>`` are control characters and must be sent as ``&amp;``, ``&lt;``, ``&gt;``; that
  alone stops ``<!channel>``, ``<@U…>`` and ``<url|text>`` links in scraped text. Slack has no
  backslash escape (backslashes are literal), so ``*``, ``~`` and the backquote in scraped text
  are replaced by their fullwidth forms; ``_`` is kept (it only emphasises at word boundaries,
  and handles like ``med_rec`` must stay copyable).
- Errors of incoming webhooks
  (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks):
  400 ``invalid_payload`` / ``user_not_found``, 403 ``action_prohibited``, 404
  ``channel_not_found``, 410 ``channel_is_archived``, 500 ``rollup_error``; a removed or
  regenerated webhook answers 404 ``no_service`` (or 403 ``invalid_token``, ``no_team``,
  ``team_disabled``: gueils/whales#38, routeforms.com/tools/slack-webhook-error-decoder).
  Success is HTTP 200 with the body ``ok``.

Slack webhook URLs hold their secret in the path (``/services/T…/B…/…``): give it with
``url_env`` and it never appears in the file, in errors or in logs.
"""

from __future__ import annotations

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
    neutralize,
    part_label,
    quote_reply,
    retry_after,
)

TEXT_LIMIT = 3000      # characters of a mrkdwn text object
BLOCK_LIMIT = 50       # blocks in a message
MESSAGE_CHARS = 12_000  # characters of block text per message (msg_blocks_too_long ~13,200)
HEADER_LIMIT = 150     # characters of a header block's plain text

_EMPHASIS = {char: chr(ord(char) + 0xFEE0) for char in "*~`"}
_UNKNOWN_WEBHOOK = ("no_service", "invalid_token", "no_team", "team_disabled", "no_service_id")
_CHANNEL_GONE = ("channel_not_found", "channel_is_archived")


def escape(text: str) -> str:
    """Slack's three control characters as entities (``&`` first), emphasis made inert."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralize(text, _EMPHASIS)


def length(text: str) -> int:
    """Characters as Slack (JavaScript) counts them: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


class SlackChannel(ChatChannel):
    kind = "slack"
    OPTIONS = chat_options(min_interval=1.0, rate_limit_wait=30, signed=False)
    LIMIT = MESSAGE_CHARS
    UNIT = "characters"
    UNIT_LIMIT = TEXT_LIMIT
    SEPARATOR = 0
    MAX_UNITS = BLOCK_LIMIT - 1  # the header block

    def _unit(self, text: str, **fields: Any) -> Unit[Any]:
        return Unit(section(text), length(text), **fields)

    def intro(self, summary: Summary) -> list[Unit[Any]]:
        totals = "\n".join(f"• {escape(label)}: *{count}*" for label, count in summary.totals)
        units = [self._unit(f"*Period* {escape(summary.period)}\n{totals}")]
        quiet = summary.quiet_line()
        if quiet:
            units.append(self._unit(escape(quiet)))
        for source, reason in summary.broken:
            units.append(self._unit(f":warning: *Broken source* {escape(source)}: "
                                    f"{escape(reason)}"))
        if summary.broken_more:
            units.append(self._unit(f":warning: and {summary.broken_more} more broken "
                                    "sources: `doxwatch status`"))
        if summary.undelivered:
            units.append(self._unit(f":warning: *Not delivered* (the channel gave up; "
                                    f"`{summary.retry_given_up}` tries again):"))
            units.extend(self._unit(f"• {escape(line)}") for line in summary.undelivered)
        if summary.hidden:
            units.append(self._unit(f"Showing the {summary.shown} strongest of "
                                    f"{summary.offers} offers; all of them: "
                                    f"`{escape(summary.rest)}`"))
        return units

    def heading(self, group: Group, *, continued: bool) -> Unit[Any]:
        if continued:
            count = "continued"
        elif len(group.entries) < group.total:
            count = f"{group.total}, showing {len(group.entries)}"
        else:
            count = str(group.total)
        return self._unit(f"*{escape(group.label)}* ({count})", group=group.category,
                          heading=True)

    def entry(self, view: EntryView, group: str) -> Unit[Any]:
        link = f"<{view.link.replace('&', '&amp;')}|link>" if view.link else view.link_note
        lines = [
            f"*{view.number}. {escape(view.heading)}*",
            f"{escape(view.source)} · {escape(view.posted)} · {link} · #{view.post_id}",
            view.scores,
            *(f"_{name}:_ {escape(value)}" for name, value in view.details),
        ]
        if view.excerpt:
            lines.append(f"&gt; {escape(view.excerpt)}")
        return self._unit("\n".join(lines), group=group, post_id=view.post_id)

    def outro(self, summary: Summary) -> list[Unit[Any]]:
        if not summary.hidden:
            return []
        return [self._unit(f"…and {summary.hidden} more offers this period: "
                           f"`{escape(summary.rest)}`, or the e-mail / file digest")]

    def payload(self, summary: Summary, units: Sequence[Unit[Any]], index: int,
                total: int) -> dict[str, Any]:
        title = f"{summary.title}{part_label(index, total)}"[:HEADER_LIMIT]
        header = {"type": "header", "text": {"type": "plain_text", "text": title,
                                             "emoji": False}}
        # ``text`` is the notification's fallback; the blocks are what the channel shows.
        return {"text": escape(title), "blocks": [header, *(unit.body for unit in units)]}

    def measure(self, payload: dict[str, Any]) -> int:
        return sum(length(block["text"]["text"]) for block in payload["blocks"])

    def request(self, message: ChatMessage) -> tuple[str, bytes]:
        return self.url, encode(message.payload)

    def interpret(self, response: httpx.Response) -> Reply:
        status, body = response.status_code, quote_reply(response.text, 100)
        if response.is_success:
            return Reply.success()
        if status == 429:
            return Reply(problem=f"rate limited by Slack (HTTP 429 {body})", rate_limited=True,
                         retry_after=retry_after(response))
        if status >= 500:
            return Reply(problem=f"HTTP {status} {body} from {self.where}", transient=True)
        detail = f"HTTP {status} {body}"
        if any(code in body for code in _UNKNOWN_WEBHOOK):
            return Reply(problem=f"Slack does not know this webhook ({detail}; it was removed "
                                 f"or regenerated?): {self.check_url()}")
        if any(code in body for code in _CHANNEL_GONE):
            return Reply(problem=f"the webhook's channel is gone ({detail}): make a new "
                                 f"webhook and {self.check_url()}")
        if "action_prohibited" in body:
            return Reply(problem=f"the workspace does not let this webhook post ({detail})")
        return Reply(problem=f"Slack refused the message ({detail})")
