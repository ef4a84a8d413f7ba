"""The DingTalk, WeCom, Feishu and Slack channels against loopback stand-ins of the services
(``chat_receivers``): what arrives, signatures checked the documented way, the services' error
replies, rate limits, pacing, 10,000 posts split under each limit, hostile text, and webhook
tokens kept out of errors, descriptions and logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import httpx
import pytest

from alerts.channels import CHANNELS, build_channel, dingtalk, feishu, validate_channel
from alerts.channels.slack import SlackChannel
from alerts.channels.wecom import WeComChannel
from alerts.chat import Caps, ChatChannel
from alerts.digest import Digest
from alerts.errors import DeliveryError, NotConfigured
from tests.alerts.chat_receivers import (
    DingTalkRobot,
    FeishuBot,
    Robot,
    SlackWebhook,
    WeComRobot,
    json_route,
    utf16_length,
)
from tests.alerts.chat_samples import (
    EVIL,
    HOSTILE_URL,
    big_digest,
    hostile_chat_digest,
    strongest,
)
from tests.alerts.samples import CREATED, SINCE, empty_digest, make_entry, sample_digest
from tests.helpers import LoopbackServer, Route, _make_handler, closed_port

FAST = {"min_interval": 0, "backoff": 0, "rate_limit_wait": 0}
SECRET = "SEC4f1e7a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1"


def _dingtalk_text(payload: dict[str, Any]) -> str:
    return payload["markdown"]["title"] + "\n" + payload["markdown"]["text"]


def _feishu_text(payload: dict[str, Any]) -> str:
    post = payload["content"]["post"]["zh_cn"]
    lines = ["".join(e.get("text", "") for e in paragraph) for paragraph in post["content"]]
    return post["title"] + "\n" + "\n".join(lines)


def _slack_text(payload: dict[str, Any]) -> str:
    return "\n".join(block["text"]["text"] for block in payload["blocks"])


def _markdown_links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)]*)\)", text)


@dataclass(frozen=True)
class Service:
    kind: str
    name: str
    robot: Callable[..., Robot]
    limit: int                                   # per message, in the service's unit
    size: Callable[[Robot, int], int]            # measured here, not by the channel
    text: Callable[[dict[str, Any]], str]        # what a reader sees
    links: Callable[[dict[str, Any]], list[str]]  # link targets
    wrong: str                                   # a URL tail with a wrong token

    def url(self, server: LoopbackServer, robot: Robot, tail: str | None = None) -> str:
        return robot.url(server.base, tail)


SERVICES = [
    Service("dingtalk", "ding", DingTalkRobot, 20_000,
            lambda robot, i: len(robot.bodies[i]), _dingtalk_text,
            lambda p: _markdown_links(_dingtalk_text(p)), "0123456789abcdefwrong0123456789"),
    Service("wecom", "wecom", WeComRobot, 4096,
            lambda robot, i: len(robot.accepted[i]["markdown"]["content"].encode("utf-8")),
            lambda p: p["markdown"]["content"],
            lambda p: _markdown_links(p["markdown"]["content"]),
            "00000000-wrong-4bc4-97a0-0ec2sifa5aaa"),
    Service("feishu", "feishu", FeishuBot, 20_000,
            lambda robot, i: len(robot.bodies[i]), _feishu_text,
            lambda p: [e["href"] for par in p["content"]["post"]["zh_cn"]["content"]
                       for e in par if e["tag"] == "a"],
            "00000000-wrong-4a07-bd07-265f269f86fd"),
    Service("slack", "slack", SlackWebhook, 12_000,
            lambda robot, i: sum(utf16_length(b["text"]["text"])
                                 for b in robot.accepted[i]["blocks"]),
            _slack_text,
            lambda p: re.findall(r"<([^>|]*)\|link>", _slack_text(p)),
            "/services/T0ABCDE12/B0FGHIJ34/wrongwrongwrong12345678"),
]
BY_KIND = {service.kind: service for service in SERVICES}
SIGNED = [BY_KIND["dingtalk"], BY_KIND["feishu"]]


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """The loopback server of ``tests.helpers``, polled more often: these tests start ~100
    of them and the shared one takes half a second to shut down."""
    server = LoopbackServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def ids(services: list[Service]) -> list[str]:
    return [service.kind for service in services]


def serve(server: LoopbackServer, service: Service, **robot_options: Any) -> Robot:
    robot = service.robot(**robot_options)
    server.handler = robot
    return robot


def make(service: Service, url: str, *, env: dict[str, str] | None = None,
         **options: Any) -> ChatChannel:
    channel = build_channel(service.kind, service.name, {"url": url, **FAST, **options},
                            env=env or {})
    assert isinstance(channel, ChatChannel)
    return channel


def posted_ids(text: str) -> list[int]:
    return [int(found) for found in re.findall(r"#(\d+)\b", text)]


# --- what arrives --------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_the_digest_arrives_in_one_compact_message(http_server: LoopbackServer,
                                                   service: Service) -> None:
    robot = serve(http_server, service)
    make(service, service.url(http_server, robot)).send(sample_digest())

    (payload,) = robot.accepted
    text = service.text(payload)
    for fragment in (
        "doxwatch digest 42: 3 new offers",
        "from 2026-11-22 09:00+08:00 to 2026-11-23 09:00+08:00",
        "Medical records / 医疗数据", "Doxxing lookups / 开盒查档", "人脸数据",
        "医院内部 病历 住院记录 可出", "代查户籍 全国可查 1", "代过人脸 活体认证",
        "forum · 2026-11-22 21:30+08:00", "doxxing 93% · medical 4% · biometric 2%",
        "medical 91%", "查档, 户籍, 出单", "QQ 10001", "Telegram @med_rec",
        "WeChat face_pass", "1200元", "1-2天", "户籍 机主 轨迹 都能查",
    ):
        assert fragment in text, fragment
    assert posted_ids(text) == [2, 1, 3]  # by category: medical, doxxing, biometric
    assert service.links(payload) == [f"http://127.0.0.1:8800/forum/thread-{i}.html"
                                      for i in (2, 1, 3)]
    headers = robot.requests[0].headers
    assert headers["Idempotency-Key"] == f"doxwatch-digest-42-{service.name}-1of1"
    assert headers["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_an_empty_digest_says_so(http_server: LoopbackServer, service: Service) -> None:
    robot = serve(http_server, service)
    make(service, service.url(http_server, robot)).send(empty_digest())

    (payload,) = robot.accepted
    text = service.text(payload)
    assert "doxwatch digest 8: No new offers" in text
    assert ("No new offers from 2026-11-22 09:00+08:00 to 2026-11-23 09:00+08:00." in text)
    assert posted_ids(text) == []


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_an_immediate_alert_is_titled_as_one(http_server: LoopbackServer,
                                             service: Service) -> None:
    robot = serve(http_server, service)
    make(service, service.url(http_server, robot)).send(
        replace(sample_digest(), immediate=True))

    (payload,) = robot.accepted
    assert "doxwatch immediate alert 42: 3 new offers" in service.text(payload)


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_dry_run_posts_nothing_and_describes_without_the_token(
    http_server: LoopbackServer, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    robot = serve(http_server, service)
    url = service.url(http_server, robot)
    channel = build_channel(service.kind, service.name, {"url": url}, env={}, dry_run=True)
    caplog.set_level(logging.INFO)

    channel.send(sample_digest())

    assert robot.requests == []
    assert f"would send 1 {service.kind} message (largest" in caplog.text
    assert "***" in caplog.text
    assert url not in caplog.text


# --- signatures ----------------------------------------------------------------------------


def test_the_dingtalk_signature_matches_a_published_test_vector() -> None:
    # From the docs.rs crate dingding 0.1.1, src/signature.rs (already URL-encoded there).
    vector = "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"
    assert quote_plus(dingtalk.sign("secret", 1700000000000)) == vector
    assert dingtalk.signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc",
                               "secret", 1700000000000) == (
        f"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000"
        f"&sign={vector}")


def test_the_feishu_signature_is_keyed_with_timestamp_and_secret_over_nothing() -> None:
    expected = base64.b64encode(
        hmac.new(b"1599360473\nmysecret", b"", hashlib.sha256).digest()).decode()
    dingtalk_style = base64.b64encode(
        hmac.new(b"mysecret", b"1599360473\nmysecret", hashlib.sha256).digest()).decode()

    assert feishu.sign("mysecret", 1599360473) == expected
    assert expected != dingtalk_style


@pytest.mark.parametrize("service", SIGNED, ids=ids(SIGNED))
def test_signed_messages_pass_the_services_own_check(http_server: LoopbackServer,
                                                     service: Service) -> None:
    robot = serve(http_server, service, secret=SECRET)
    channel = make(service, service.url(http_server, robot), env={"BOT_SECRET": SECRET},
                   secret_env="BOT_SECRET")

    channel.send(sample_digest())

    assert len(robot.accepted) == 1
    request = robot.requests[0]
    if service.kind == "dingtalk":
        query = urlsplit(request.path).query
        assert re.fullmatch(r"access_token=\w+&timestamp=\d{13}&sign=[A-Za-z0-9%]+", query)
        stamp = int(parse_qs(query)["timestamp"][0]) / 1000
    else:
        body = json.loads(request.body)
        assert re.fullmatch(r"\d{10}", body["timestamp"]) and len(body["sign"]) == 44
        stamp = int(body["timestamp"])
    assert abs(stamp - time.time()) < 60


@pytest.mark.parametrize("service", SIGNED, ids=ids(SIGNED))
def test_a_wrong_secret_fails_and_says_which_setting_to_fix(http_server: LoopbackServer,
                                                           service: Service) -> None:
    robot = serve(http_server, service, secret=SECRET)
    channel = make(service, service.url(http_server, robot), env={"BOT_SECRET": "SECwrong"},
                   secret_env="BOT_SECRET")

    with pytest.raises(DeliveryError) as caught:
        channel.send(sample_digest())

    message = str(caught.value)
    if service.kind == "dingtalk":
        assert message.startswith(
            "dingtalk channel 'ding': the robot refused the signature (errcode 310000: sign not "
            "match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]): check "
            "secret_env BOT_SECRET")
    else:
        assert message.startswith(
            "feishu channel 'feishu': the bot refused the signature (code 19021: sign match "
            "fail or timestamp is not within one hour from current time): check secret_env "
            "BOT_SECRET")
    assert "this host's clock" in message
    assert "SECwrong" not in message and SECRET not in message
    assert len(robot.requests) == 1  # a refusal is not retried
    assert robot.accepted == []


@pytest.mark.parametrize("service", SIGNED, ids=ids(SIGNED))
def test_an_unsigned_message_to_a_signing_bot_asks_for_secret_env(
    http_server: LoopbackServer, service: Service
) -> None:
    robot = serve(http_server, service, secret=SECRET)

    with pytest.raises(DeliveryError, match="set secret_env"):
        make(service, service.url(http_server, robot)).send(sample_digest())


@pytest.mark.parametrize("service", SIGNED, ids=ids(SIGNED))
def test_a_stale_clock_fails_the_signature(http_server: LoopbackServer,
                                           service: Service) -> None:
    robot = serve(http_server, service, secret=SECRET)
    channel = make(service, service.url(http_server, robot), env={"BOT_SECRET": SECRET},
                   secret_env="BOT_SECRET")
    channel.clock = lambda: time.time() - 2 * 3600  # the signature is right, the time is not

    with pytest.raises(DeliveryError, match="refused the signature"):
        channel.send(sample_digest())


# --- the URL and its token -----------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_a_wrong_token_names_the_setting_and_never_shows_the_token(
    http_server: LoopbackServer, service: Service
) -> None:
    robot = serve(http_server, service)
    url = service.url(http_server, robot, service.wrong)
    channel = build_channel(service.kind, service.name, {"url_env": "HOOK_URL", **FAST},
                            env={"HOOK_URL": url})

    with pytest.raises(DeliveryError) as caught:
        channel.send(sample_digest())

    message = str(caught.value)
    expected = {
        "dingtalk": "DingTalk does not know the robot's access_token (errcode 300001: token is "
                    "not exist): check url_env HOOK_URL",
        "wecom": "WeCom does not know the robot's key (errcode 93000: invalid webhook url, hint:",
        "feishu": "Feishu does not know this webhook (code 19001: param invalid: incoming "
                  "webhook access token invalid): check url_env HOOK_URL",
        "slack": "Slack does not know this webhook (HTTP 404 no_service; it was removed or "
                 "regenerated?): check url_env HOOK_URL",
    }[service.kind]
    assert message.startswith(f"{service.kind} channel {service.name!r}: {expected}")
    assert "check url_env HOOK_URL" in message
    assert service.wrong.strip("/").split("/")[-1] not in message
    assert len(robot.requests) == 1


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_the_url_can_come_from_the_environment(http_server: LoopbackServer,
                                               service: Service) -> None:
    robot = serve(http_server, service)
    channel = build_channel(service.kind, service.name, {"url_env": "HOOK_URL", **FAST},
                            env={"HOOK_URL": service.url(http_server, robot)})

    channel.send(sample_digest())

    assert len(robot.accepted) == 1


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_url_settings_are_checked_at_construction(service: Service) -> None:
    def refused(options: dict[str, Any], env: dict[str, str]) -> NotConfigured:
        with pytest.raises(NotConfigured) as caught:
            build_channel(service.kind, service.name, options, env=env)
        return caught.value

    assert refused({"url_env": "HOOK_URL"}, {}).field == "url_env"
    not_a_url = refused({"url_env": "HOOK_URL"}, {"HOOK_URL": "hooks.example/T0KEN-12345678"})
    assert not_a_url.field == "url_env" and "T0KEN" not in str(not_a_url)
    assert refused({}, {}).field == "url"
    both = refused({"url": "https://hooks.example/x", "url_env": "HOOK_URL"},
                   {"HOOK_URL": "https://hooks.example/y"})
    assert both.field == "url_env"
    bad_scheme = refused({"url": "ftp://hooks.example/T0KEN-12345678"}, {})
    assert bad_scheme.field == "url" and "T0KEN" not in str(bad_scheme)


@pytest.mark.parametrize(("kind", "options", "field"), [
    ("wecom", {"secret_env": "X"}, "secret_env"),   # WeCom does not sign
    ("slack", {"secret_env": "X"}, "secret_env"),
    ("dingtalk", {"secret": "inline"}, "secret"),    # secrets never live in the file
    ("feishu", {"secret_env": "not a name"}, "secret_env"),
    ("dingtalk", {"min_interval": -1}, "min_interval"),
    ("wecom", {"retries": 1.5}, "retries"),
    ("feishu", {"max_entries": 0}, "max_entries"),
    ("slack", {"timeout": 0}, "timeout"),
    ("slack", {"max_wait": True}, "max_wait"),
])
def test_validate_names_the_bad_option(kind: str, options: dict[str, Any], field: str) -> None:
    with pytest.raises(NotConfigured) as caught:
        validate_channel(kind, {"url": "https://hooks.example/x", **options})

    assert caught.value.field == field


def test_the_four_kinds_are_registered() -> None:
    for service in SERVICES:
        assert CHANNELS[service.kind].kind == service.kind
        validate_channel(service.kind, {"url_env": "HOOK_URL"})


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_tokens_stay_out_of_httpx_logs(http_server: LoopbackServer, service: Service,
                                       caplog: pytest.LogCaptureFixture) -> None:
    robot = serve(http_server, service)
    url = service.url(http_server, robot)
    token = re.split(r"[=/]", url)[-1]
    caplog.set_level(logging.DEBUG)

    make(service, url).send(sample_digest())

    assert len(robot.accepted) == 1
    assert "HTTP Request: POST" in caplog.text  # httpx did log the request …
    assert token not in caplog.text             # … with the token masked
    assert "***" in caplog.text


# --- failures, retries and rate limits -----------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_a_rate_limit_reply_is_waited_out_then_the_message_sent_once(
    http_server: LoopbackServer, service: Service
) -> None:
    robot = serve(http_server, service, rate_limited=1)
    # Slack says how long in Retry-After (1 s): it wins over rate_limit_wait.
    wait = 1.0 if service.kind == "slack" else 0.3
    channel = make(service, service.url(http_server, robot),
                   rate_limit_wait=5 if service.kind == "slack" else wait)

    channel.send(sample_digest())

    assert len(robot.requests) == 2 and len(robot.accepted) == 1
    gap = robot.arrivals[1] - robot.arrivals[0]
    assert wait - 0.05 <= gap < wait + 2


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_a_lasting_rate_limit_fails_after_the_retries(http_server: LoopbackServer,
                                                      service: Service) -> None:
    immediately = {"retry_after": "0"} if service.kind == "slack" else {}
    robot = serve(http_server, service, rate_limited=100, **immediately)
    channel = make(service, service.url(http_server, robot), retries=2, rate_limit_wait=0.01)

    with pytest.raises(DeliveryError, match=r"still limited after 3 attempts .*retried later"):
        channel.send(sample_digest())
    assert len(robot.requests) == 3


@pytest.mark.timeout(10)  # without max_wait, this would wait an hour
@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_a_rate_limit_longer_than_max_wait_fails_at_once(http_server: LoopbackServer,
                                                         service: Service) -> None:
    robot = serve(http_server, service, rate_limited=1)
    if isinstance(robot, SlackWebhook):
        robot.retry_after = "3600"
    channel = make(service, service.url(http_server, robot), rate_limit_wait=3600, max_wait=60)

    started = time.monotonic()
    with pytest.raises(DeliveryError, match="next wait 3600 s"):
        channel.send(sample_digest())
    assert time.monotonic() - started < 5
    assert len(robot.requests) == 1


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_server_errors_are_retried_with_backoff(http_server: LoopbackServer,
                                                service: Service) -> None:
    robot = serve(http_server, service, failing=2)
    channel = make(service, service.url(http_server, robot), retries=3, backoff=0.1)

    channel.send(sample_digest())

    assert len(robot.requests) == 3 and len(robot.accepted) == 1
    first, second, third = robot.arrivals
    assert second - first >= 0.09 and third - second >= 0.19  # 0.1 s, then doubled


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_server_errors_beyond_the_retries_fail(http_server: LoopbackServer,
                                               service: Service) -> None:
    robot = serve(http_server, service, failing=10)

    with pytest.raises(DeliveryError, match="HTTP 503"):
        make(service, service.url(http_server, robot), retries=1).send(sample_digest())
    assert len(robot.requests) == 2


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_a_closed_port_fails_quickly_after_the_retries(service: Service) -> None:
    robot = service.robot()
    url = robot.url(f"http://127.0.0.1:{closed_port()}")
    token = re.split(r"[=/]", url)[-1]
    channel = make(service, url, retries=2, backoff=0.1, timeout=2)

    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        channel.send(sample_digest())

    assert 0.29 <= time.monotonic() - started < 2  # 0.1 s, then 0.2 s between the attempts
    message = str(caught.value)
    assert re.match(rf"^{service.kind} channel '{service.name}': cannot reach http://127\.0\.0"
                    r"\.1:\d+/\S*\*\*\*: ConnectError: .* \(after 3 attempts\)$", message)
    assert token not in message


@pytest.mark.parametrize(("kind", "reply", "robot_options", "expected"), [
    ("dingtalk", None, {"keyword": "安全告警"},
     "the message lacks the robot's custom keyword (errcode 310000: keywords not in content): "
     "add the keyword doxwatch"),
    ("dingtalk", json_route({"errcode": 310000, "errmsg": "ip 203.0.113.5 not in whitelist"}),
     {}, "this host's IP address is not in the robot's whitelist (errcode 310000"),
    ("dingtalk", json_route({"errcode": 310000, "errmsg": "description:机器人发送签名不匹配;"
                             "solution:请确认签名和生成签名的时间戳必须都放在调用的网址中"}), {},
     "the robot wants signed messages (加签) (errcode 310000: description:机器人发送签名不匹配"),
    ("dingtalk", Route(b"<html>gateway</html>", 200, "text/html"), {},
     "unexpected reply from http://127.0.0.1:"),
    ("wecom", json_route({"errcode": 40008, "errmsg": "invalid message type"}), {},
     "WeCom refused the message (errcode 40008: invalid message type)"),
    ("feishu", json_route({"code": 19022, "msg": "Ip Not Allowed", "data": {}}), {},
     "this host's IP address is not in the bot's whitelist (code 19022: Ip Not Allowed)"),
    ("feishu", json_route({"code": 19024, "msg": "Key Words Not Found"}), {},
     "the message lacks the bot's custom keyword (code 19024: Key Words Not Found)"),
    ("feishu", json_route({"code": 9499, "msg": "too many request", "data": {}}, 400), {},
     "the bot is sending too fast (code 9499: too many request); still limited"),
    ("slack", Route(b"channel_is_archived", 410, "text/html"), {},
     "the webhook's channel is gone (HTTP 410 channel_is_archived): make a new webhook and "
     "check url"),
    ("slack", Route(b"action_prohibited", 403, "text/html"), {},
     "the workspace does not let this webhook post (HTTP 403 action_prohibited)"),
    ("slack", Route(b"invalid_token", 403, "text/html"), {},
     "Slack does not know this webhook (HTTP 403 invalid_token"),
])
def test_error_replies_are_explained(http_server: LoopbackServer, kind: str,
                                     reply: Route | None, robot_options: dict[str, Any],
                                     expected: str) -> None:
    service = BY_KIND[kind]
    robot = serve(http_server, service, **robot_options)
    robot.reply = reply

    with pytest.raises(DeliveryError) as caught:
        make(service, service.url(http_server, robot), retries=1).send(sample_digest())

    assert str(caught.value).startswith(f"{kind} channel {service.name!r}: {expected}")


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_a_message_over_the_services_limit_is_refused_and_reported(
    http_server: LoopbackServer, service: Service
) -> None:
    # A stand-in stricter than the real service: the channel's message is over *its* limit.
    limits = {"dingtalk": {"limit": 1000}, "wecom": {"limit": 500}, "feishu": {"limit": 1000},
              "slack": {"block_chars": 300}}
    robot = serve(http_server, service, **limits[service.kind])

    with pytest.raises(DeliveryError) as caught:
        make(service, service.url(http_server, robot)).send(sample_digest())

    expected = {
        "dingtalk": "the message is too long for DingTalk (errcode 460101: message too long, "
                    "exceed 1000 bytes)",
        "wecom": "the message is too long for WeCom (errcode 40058: markdown.content exceed "
                 "max length 500.",
        "feishu": "Feishu could not take the message (code 9499: Bad Request: malformed or "
                  "over 20 KB)",
        "slack": "Slack refused the message (HTTP 400 msg_blocks_too_long)",
    }[service.kind]
    assert str(caught.value).startswith(f"{service.kind} channel {service.name!r}: {expected}")
    assert len(robot.requests) == 1


# --- splitting, capping and pacing ---------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_ten_thousand_posts_split_into_numbered_parts_within_the_limit(
    http_server: LoopbackServer, service: Service
) -> None:
    digest = big_digest(10_000)
    robot = serve(http_server, service)

    make(service, service.url(http_server, robot), max_entries=10_000).send(digest)

    total = len(robot.accepted)
    assert total > 1 and len(robot.requests) == total  # nothing refused
    seen: list[int] = []
    for index, payload in enumerate(robot.accepted):
        assert service.size(robot, index) <= service.limit
        text = service.text(payload)
        assert f"doxwatch digest 99: 10000 new offers ({index + 1}/{total})" in text
        seen += posted_ids(text)
        if service.kind == "slack":
            assert len(payload["blocks"]) <= 50
            assert all(utf16_length(b["text"]["text"]) <= 3000 for b in payload["blocks"])
    assert sorted(seen) == list(range(1, 10_001))  # every post, once
    links = [link for payload in robot.accepted for link in service.links(payload)]
    long_urls = 10_000 // 97  # their URLs are too long to spend bytes on
    assert len(links) == 10_000 - long_urls
    assert all(link.startswith("http://127.0.0.1:8800/forum/thread-") for link in links)


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_ten_thousand_posts_are_capped_with_the_totals_and_where_to_see_the_rest(
    http_server: LoopbackServer, service: Service
) -> None:
    digest = big_digest(10_000)
    robot = serve(http_server, service)

    make(service, service.url(http_server, robot)).send(digest)  # max_entries: 30

    text = "\n".join(service.text(payload) for payload in robot.accepted)
    assert set(posted_ids(text)) == strongest(digest, 30) and len(posted_ids(text)) == 30
    for label, count in (("Medical records / 医疗数据", 3333),
                         ("Doxxing lookups / 开盒查档", 3334), ("人脸数据", 3333)):
        assert re.search(rf"{re.escape(label)}: \**{count}\**", text), label
    assert "Showing the 30 strongest of 10000 offers" in text
    assert "…and 9970 more offers this period: " in text
    assert "doxwatch posts list --flagged -n 10000" in text
    assert len(robot.accepted) <= (7 if service.kind == "wecom" else 2)


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_parts_are_paced_by_min_interval(http_server: LoopbackServer,
                                         service: Service) -> None:
    robot = serve(http_server, service)
    channel = make(service, service.url(http_server, robot), min_interval=0.15,
                   max_entries=10_000)
    for count in (10, 20, 40, 80, 160):
        digest = big_digest(count)
        if len(channel.prepare(digest)) >= 3:
            break

    channel.send(digest)

    assert len(robot.accepted) >= 3
    gaps = [b - a for a, b in zip(robot.arrivals, robot.arrivals[1:], strict=False)]
    assert min(gaps) >= 0.14


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_a_later_part_that_fails_says_the_earlier_ones_went_out(
    http_server: LoopbackServer, service: Service
) -> None:
    robot = serve(http_server, service)
    channel = make(service, service.url(http_server, robot), max_entries=10_000, retries=0)
    digest = big_digest(300)
    parts = len(channel.prepare(digest))
    original = robot.handle

    def fail_the_second(request: Any) -> Route:
        if len(robot.requests) == 2:
            return Route(b"down", 503, "text/plain")
        return original(request)

    robot.handle = fail_the_second  # type: ignore[method-assign]

    with pytest.raises(DeliveryError) as caught:
        channel.send(digest)

    assert str(caught.value).endswith(
        f"from {channel.where} [message 2 of {parts}; message 1 was delivered and "
        "will be sent again when the digest is retried]")
    assert len(robot.accepted) == 1


def test_a_smaller_limit_shrinks_entries_and_still_shows_every_one(
    http_server: LoopbackServer,
) -> None:
    class TinyWeCom(WeComChannel):
        LIMIT = 700

    robot = serve(http_server, BY_KIND["wecom"], limit=700)
    digest = big_digest(200)  # two of them are huge
    channel = TinyWeCom("tiny", {"url": robot.url(http_server.base), **FAST,
                                 "max_entries": 200}, env={})

    channel.send(digest)

    contents = [payload["markdown"]["content"] for payload in robot.accepted]
    assert all(len(content.encode()) <= 700 for content in contents)
    assert sorted(i for content in contents for i in posted_ids(content)) == list(range(1, 201))
    text = "\n".join(contents)
    assert "too long to show here" not in text  # shortened, not dropped
    for huge in (97, 194):
        assert re.search(rf"\*\*\d+\. 代查户籍开房记录[^\n]*…\*\*\n[^\n]*#{huge}\n", text)


def test_slack_keeps_to_fifty_blocks_when_entries_are_short(http_server: LoopbackServer) -> None:
    service = BY_KIND["slack"]
    robot = serve(http_server, service)
    entries = tuple(make_entry(i, title=f"t{i}", excerpt="", terms=(), entities=())
                    for i in range(1, 301))

    make(service, robot.url(http_server.base), max_entries=300).send(
        Digest(5, CREATED, entries, since=SINCE))

    assert len(robot.requests) == len(robot.accepted) >= 7
    assert max(len(payload["blocks"]) for payload in robot.accepted) == 50


def test_slack_sections_stay_under_3000_characters_whatever_the_caps(
    http_server: LoopbackServer,
) -> None:
    class WideSlack(SlackChannel):
        CAPS = Caps(title=4000, excerpt=4000, field=4000, link=4000)

    robot = serve(http_server, BY_KIND["slack"])
    WideSlack("wide", {"url": robot.url(http_server.base), **FAST, "max_entries": 200},
              env={}).send(big_digest(200))

    sections = [b["text"]["text"] for p in robot.accepted for b in p["blocks"]]
    assert max(utf16_length(text) for text in sections) <= 3000
    assert sorted(i for text in sections for i in posted_ids(text)) == list(range(1, 201))


# --- hostile text --------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=ids(SERVICES))
def test_scraped_text_cannot_inject_links_mentions_or_markup(
    http_server: LoopbackServer, service: Service
) -> None:
    robot = serve(http_server, service)

    make(service, service.url(http_server, robot)).send(hostile_chat_digest())

    (payload,) = robot.accepted
    text = service.text(payload)
    body = json.dumps(payload, ensure_ascii=False)
    # The only links are the entries' own http(s) URLs, encoded so they cannot end early.
    assert service.links(payload) == [
        "http://127.0.0.1:8800/t?a=1%29%5Bevil%5D%28http://evil.example",
        "http://127.0.0.1:8800/forum/thread-3.html",
    ]
    assert HOSTILE_URL not in body and "javascript:" not in body
    # Links quoted in posts are defanged: no client turns them into links.
    shown = text
    for link in service.links(payload):
        shown = shown.replace(link, "")
    assert f"http://{EVIL}" not in shown and f"https://{EVIL}" not in shown
    assert f"hxxps://{EVIL}/phish" in shown and f"hxxp://{EVIL}" in shown
    assert "<at" not in body and '"tag":"at"' not in body.replace(" ", "")
    if service.kind in ("dingtalk", "wecom"):
        for injected in ("[点我](", "![x](", "**粗体**", '<font color="warning">假',
                         '<font color="info">', "<@U", "<!channel>", "<http", "`code`"):
            assert injected not in text, injected
        assert "［点我］" in text and "＜font" in text and "＊＊粗体＊＊" in text
    if service.kind == "dingtalk":
        assert '"at"' not in body  # no @-mention list: nobody is pinged
    if service.kind == "feishu":
        elements = [e for par in payload["content"]["post"]["zh_cn"]["content"] for e in par]
        assert {e["tag"] for e in elements} == {"text", "a"}
        assert "＜!channel>" in text and "＜at user_id" in text  # "<" fullwidth regardless
    if service.kind == "slack":
        assert re.findall(r"<[^>]*>", text) == [
            "<http://127.0.0.1:8800/t?a=1%29%5Bevil%5D%28http://evil.example|link>",
            "<http://127.0.0.1:8800/forum/thread-3.html|link>",
        ]
        assert "&lt;!channel&gt;" in text and "&lt;@U024BE7LH&gt;" in text
        assert "&lt;!here&gt;" in text and "&lt;at user_id" in text
        assert "&amp;lt;b&amp;gt;" in text  # an entity in a post stays literal text
        assert "*bold*" not in text and "＊bold＊" in text
        sections = [b["text"] for b in payload["blocks"] if b["type"] == "section"]
        assert all(t["verbatim"] is True for t in sections)


def test_a_redirect_is_not_followed(http_server: LoopbackServer) -> None:
    service = BY_KIND["slack"]
    robot = serve(http_server, service)
    robot.reply = Route(b"", 302, "text/plain", {"Location": "http://127.0.0.1:1/elsewhere"})

    with pytest.raises(DeliveryError, match="HTTP 302"):
        make(service, service.url(http_server, robot)).send(sample_digest())
    assert len(robot.requests) == 1


def test_the_shared_client_is_used_and_left_open(http_server: LoopbackServer) -> None:
    service = BY_KIND["wecom"]
    robot = serve(http_server, service)
    with httpx.Client(headers={"X-Shared": "yes"}, timeout=httpx.Timeout(60)) as client:
        channel = build_channel("wecom", "wecom", {"url": robot.url(http_server.base), **FAST},
                                env={}, client=client)
        channel.send(sample_digest())
        assert not client.is_closed
    assert robot.requests[0].headers["X-Shared"] == "yes"


def test_the_period_totals_and_rest_command_of_a_digest_that_has_them_are_shown(
    http_server: LoopbackServer,
) -> None:
    names = {f.name for f in fields(Digest)}
    if not {"totals", "cluster_count", "rest_command"} <= names:
        pytest.skip("this Digest does not count the period's posts beyond its entries")
    base = sample_digest()
    digest = Digest(base.id, base.created_at, base.entries, base.since,
                    totals={"medical": 40, "doxxing": 25, "biometric": 7}, cluster_count=50,
                    rest_command="doxwatch posts list --flagged --since 2026-11-22")
    robot = serve(http_server, BY_KIND["dingtalk"])

    make(BY_KIND["dingtalk"], robot.url(http_server.base)).send(digest)

    text = _dingtalk_text(robot.accepted[0])
    assert "Medical records / 医疗数据: **40**" in text and "人脸数据: **7**" in text
    assert "Showing the 3 strongest of 50 offers" in text
    assert ("…and 47 more offers this period: `doxwatch posts list --flagged --since "
            "2026-11-22`") in text


def test_digest_fields_the_channels_do_not_know_are_ignored(http_server: LoopbackServer) -> None:
    """A Digest that grew fields (clusters, sellers, …) still sends: only the public API
    the channels read matters."""
    from dataclasses import dataclass as _dataclass

    @_dataclass(frozen=True)
    class GrownDigest(Digest):
        clusters: tuple[str, ...] = ("a",)

    base = sample_digest()
    grown = GrownDigest(base.id, base.created_at, base.entries, base.since)
    robot = serve(http_server, BY_KIND["feishu"])

    make(BY_KIND["feishu"], robot.url(http_server.base)).send(grown)

    assert len(robot.accepted) == 1
