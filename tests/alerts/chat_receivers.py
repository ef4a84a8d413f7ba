"""Loopback stand-ins for DingTalk, WeCom, Feishu and Slack, written from the services'
documentation and real replies (the sources are in each alerts/channels module), not from the
channel code: each checks a request the way its service does, recomputes the signature its own
way, enforces the size limits in the service's unit, and answers with the service's replies,
the errors included. Serve one with ``LoopbackServer.handler = robot``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers import Recorded, Route

DINGTALK_TOKEN = "6a1f0c3e9b2d4a7f8e5c1b0d2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f"
WECOM_KEY = "693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa"
FEISHU_HOOK = "5e3d587e-d78e-4a07-bd07-265f269f86fd"
SLACK_PATH = "/services/T0ABCDE12/B0FGHIJ34/q1w2e3r4t5y6u7i8o9p0a1s2"


def json_route(data: object, status: int = 200) -> Route:
    return Route(json.dumps(data, ensure_ascii=False).encode("utf-8"), status,
                 "application/json; charset=utf-8")


def utf16_length(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


@dataclass
class Robot:
    """What every stand-in shares: the requests seen, when, and faults to inject.

    ``rate_limited``: answer that many requests with the service's rate-limit reply first;
    ``failing``: that many with HTTP 503; ``reply``: answer everything with this.
    """

    accepted: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)     # raw bodies of accepted requests
    arrivals: list[float] = field(default_factory=list)   # time.monotonic() of every request
    requests: list[Recorded] = field(default_factory=list)
    rate_limited: int = 0
    failing: int = 0
    reply: Route | None = None

    def __call__(self, request: Recorded) -> Route:
        self.arrivals.append(time.monotonic())
        self.requests.append(request)
        if request.method != "POST":
            return Route(b"method not allowed", 405, "text/plain")
        if self.failing:
            self.failing -= 1
            return Route(b"<html>502 Bad Gateway</html>", 503, "text/html")
        if self.reply is not None:
            return self.reply
        return self.handle(request)

    def url(self, base: str, tail: str | None = None) -> str:
        """The webhook URL on ``base``; ``tail`` replaces the token (or Slack's path)."""
        raise NotImplementedError

    def handle(self, request: Recorded) -> Route:
        raise NotImplementedError

    def accept(self, request: Recorded, payload: dict[str, Any]) -> None:
        self.accepted.append(payload)
        self.bodies.append(request.body)

    def throttled(self) -> bool:
        if self.rate_limited:
            self.rate_limited -= 1
            return True
        return False


def _payload(request: Recorded) -> dict[str, Any] | None:
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass
class DingTalkRobot(Robot):
    """POST /robot/send?access_token=…[&timestamp=…&sign=…], markdown messages."""

    token: str = DINGTALK_TOKEN
    secret: str | None = None
    keyword: str | None = None
    limit: int = 20_000  # bytes of the body: "message too long, exceed 20000 bytes"

    def url(self, base: str, tail: str | None = None) -> str:
        return f"{base}/robot/send?access_token={tail or self.token}"

    def handle(self, request: Recorded) -> Route:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)  # decodes %2B and turns a raw "+" into a space
        if parts.path != "/robot/send":
            return Route(b"not found", 404, "text/plain")
        if query.get("access_token") != [self.token]:
            return json_route({"errcode": 300001, "errmsg": "token is not exist"})
        if self.secret is not None and not self._signed(query):
            return json_route({"errcode": 310000, "errmsg": "sign not match, more: "
                               "[https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"})
        payload = _payload(request)
        if payload is None:
            return json_route({"errcode": 40035, "errmsg": "缺少参数 json"})
        if len(request.body) > self.limit:
            return json_route({"errcode": 460101,
                               "errmsg": f"message too long, exceed {self.limit} bytes"})
        markdown = payload.get("markdown")
        if (payload.get("msgtype") != "markdown" or not isinstance(markdown, dict)
                or not isinstance(markdown.get("title"), str) or not markdown["title"]
                or not isinstance(markdown.get("text"), str) or not markdown["text"]):
            return json_route({"errcode": 40035, "errmsg": "缺少参数 markdown"})
        if self.keyword and self.keyword not in markdown["title"] + markdown["text"]:
            return json_route({"errcode": 310000, "errmsg": "keywords not in content"})
        if self.throttled():
            return json_route({"errcode": 130101,
                               "errmsg": "send too fast, exceed 20 times per minute"})
        self.accept(request, payload)
        return json_route({"errcode": 0, "errmsg": "ok"})

    def _signed(self, query: dict[str, list[str]]) -> bool:
        """The documented check: ms timestamp within an hour, base64 HMAC-SHA256 keyed with
        the secret over "timestamp\\nsecret"."""
        timestamps, signs = query.get("timestamp", []), query.get("sign", [])
        if len(timestamps) != 1 or len(signs) != 1 or not timestamps[0].isdigit():
            return False
        stamp = timestamps[0]
        if len(stamp) != 13 or abs(time.time() * 1000 - int(stamp)) > 3600 * 1000:
            return False
        assert self.secret is not None
        mac = hmac.HMAC(self.secret.encode(), (stamp + "\n" + self.secret).encode(), "sha256")
        return hmac.compare_digest(base64.standard_b64encode(mac.digest()).decode(), signs[0])


@dataclass
class WeComRobot(Robot):
    """POST /cgi-bin/webhook/send?key=…, markdown messages."""

    key: str = WECOM_KEY
    limit: int = 4096  # UTF-8 bytes of markdown.content

    def url(self, base: str, tail: str | None = None) -> str:
        return f"{base}/cgi-bin/webhook/send?key={tail or self.key}"

    def handle(self, request: Recorded) -> Route:
        parts = urlsplit(request.path)
        if parts.path != "/cgi-bin/webhook/send" or parse_qs(parts.query).get("key") != [self.key]:
            return json_route({"errcode": 93000, "errmsg": "invalid webhook url, hint: "
                               "[1755605200056773468916791], from ip: 127.0.0.1, more info at "
                               "https://open.work.weixin.qq.com/devtool/query?e=93000"})
        payload = _payload(request)
        markdown = (payload or {}).get("markdown")
        if (payload is None or payload.get("msgtype") != "markdown"
                or not isinstance(markdown, dict) or not isinstance(markdown.get("content"), str)
                or not markdown["content"]):
            return json_route({"errcode": 40008, "errmsg": "invalid message type"})
        if len(markdown["content"].encode("utf-8")) > self.limit:
            return json_route({"errcode": 40058, "errmsg": f"markdown.content exceed max length "
                               f"{self.limit}. invalid Request Parameter, hint: "
                               "[1704540159128593240839785]"})
        if self.throttled():
            return json_route({"errcode": 45009, "errmsg": "api freq out of limit, hint: "
                               "[1773643642077182456917975], from ip: 127.0.0.1"})
        self.accept(request, payload)
        return json_route({"errcode": 0, "errmsg": "ok"})


@dataclass
class FeishuBot(Robot):
    """POST /open-apis/bot/v2/hook/<id>, post messages, optionally signed."""

    hook: str = FEISHU_HOOK
    secret: str | None = None
    limit: int = 20_000  # bytes of the body ("不能超过 20 KB", read strictly)

    def url(self, base: str, tail: str | None = None) -> str:
        return f"{base}/open-apis/bot/v2/hook/{tail or self.hook}"

    def handle(self, request: Recorded) -> Route:
        if request.path != f"/open-apis/bot/v2/hook/{self.hook}":
            return json_route({"code": 19001, "data": {},
                               "msg": "param invalid: incoming webhook access token invalid"})
        if len(request.body) > self.limit:
            return json_route({"code": 9499, "msg": "Bad Request", "data": {}}, 400)
        payload = _payload(request)
        if payload is None or not self._well_formed(payload):
            return json_route({"code": 9499, "msg": "Bad Request", "data": {}}, 400)
        if self.secret is not None and not self._signed(payload):
            return json_route({"code": 19021, "data": {}, "msg": "sign match fail or timestamp "
                               "is not within one hour from current time"})
        if self.throttled():
            return json_route({"code": 11232, "data": {}, "msg": "frequency limited "
                               "psm[lark.oapi.app_platform_runtime]appID[1]"})
        self.accept(request, payload)
        return json_route({"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {},
                           "msg": "success"})

    def _signed(self, payload: dict[str, Any]) -> bool:
        """The documented check: a seconds timestamp (a string) within an hour; the sign is
        base64 of HMAC-SHA256 *keyed* with "timestamp\\nsecret" over nothing."""
        stamp, signature = payload.get("timestamp"), payload.get("sign")
        if not isinstance(stamp, str) or not stamp.isdigit() or not isinstance(signature, str):
            return False
        if abs(time.time() - int(stamp)) > 3600:
            return False
        assert self.secret is not None
        mac = hmac.HMAC(f"{stamp}\n{self.secret}".encode(), b"", hashlib.sha256)
        return hmac.compare_digest(base64.standard_b64encode(mac.digest()).decode(), signature)

    @staticmethod
    def _well_formed(payload: dict[str, Any]) -> bool:
        try:
            post = payload["content"]["post"]["zh_cn"]
            paragraphs = post["content"]
        except (KeyError, TypeError):
            return False
        if payload.get("msg_type") != "post" or not isinstance(post.get("title"), str):
            return False
        if not isinstance(paragraphs, list):
            return False
        for paragraph in paragraphs:
            if not isinstance(paragraph, list):
                return False
            for element in paragraph:
                tag = element.get("tag") if isinstance(element, dict) else None
                if tag not in ("text", "a", "at", "img") or (
                        tag in ("text", "a") and not isinstance(element.get("text"), str)):
                    return False
                if tag == "a" and not str(element.get("href", "")).startswith(("http://",
                                                                              "https://")):
                    return False
        return True


@dataclass
class SlackWebhook(Robot):
    """POST /services/T…/B…/…, Block Kit messages."""

    path: str = SLACK_PATH
    block_chars: int = 13_000   # msg_blocks_too_long (reported at about 13,200)
    retry_after: str = "1"

    def url(self, base: str, tail: str | None = None) -> str:
        return f"{base}{tail or self.path}"

    def handle(self, request: Recorded) -> Route:
        if request.path != self.path:
            return Route(b"no_service", 404, "text/html")
        payload = _payload(request)
        if payload is None:
            return Route(b"invalid_payload", 400, "text/html")
        problem = self._problem(payload)
        if problem:
            return Route(problem.encode(), 400, "text/html")
        if self.throttled():
            return Route(b"rate_limited", 429, "text/html", {"Retry-After": self.retry_after})
        self.accept(request, payload)
        return Route(b"ok", 200, "text/html")

    def _problem(self, payload: dict[str, Any]) -> str | None:
        blocks = payload.get("blocks")
        if not isinstance(blocks, list) or not blocks or len(blocks) > 50:
            return "invalid_blocks"
        total = 0
        for block in blocks:
            kind = block.get("type") if isinstance(block, dict) else None
            text = block.get("text") if kind in ("header", "section") else None
            if not isinstance(text, dict) or not isinstance(text.get("text"), str):
                return "invalid_blocks"
            size = utf16_length(text["text"])
            if kind == "header" and (text.get("type") != "plain_text" or size > 150):
                return "invalid_blocks"
            if kind == "section" and (text.get("type") not in ("mrkdwn", "plain_text")
                                      or not 1 <= size <= 3000):
                return "invalid_blocks"
            total += size
        if total > self.block_chars:
            return "msg_blocks_too_long"
        if utf16_length(str(payload.get("text", ""))) > 40_000:
            return "msg_too_long"
        return None
