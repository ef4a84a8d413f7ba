"""Immediate alerts ([alerts.immediate]) against a real webhook receiver on loopback:
sent at once and once, reposts and the hourly limit suppressed and recorded, the daily
digest untouched by them, failures retried by the outbox, two processes never alerting on
one post twice."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor import immediate
from monitor.classify import classify_pending
from monitor.config import Config, ConfigError, external_source, load_config
from monitor.db import get_or_create_source, open_database, upgrade_database
from monitor.db.schema import Delivery, DigestPost, DigestRecord, ImmediateAlert, Post
from monitor.digest import send_deliveries
from monitor.immediate import send_immediate
from monitor.ingest import upsert_posts
from monitor.modelstore import configured_classifier
from tests.helpers import loopback_server
from tests.monitor.cli_helpers import ingest_config, run_cli, write_config
from tests.monitor.test_delivery_retries import Receiver, _age

pytestmark = pytest.mark.usefixtures("classifier")

DOX = {"id": "ad-i1", "url": "https://example.org/ad-i1", "title": "出户籍 开房 轨迹",
       "text": "可cx 户籍 开房 轨迹 机主 秒出 担保交易 飞机@now_seller 价格私聊"}
# the same ad again, another price and handle: one cluster with DOX
DOX_REPOST = {"id": "ad-i1b", "url": "https://example.org/ad-i1b", "title": "出户籍 开房 轨迹",
              "text": "可cx 户籍 开房 轨迹 机主 秒出 担保交易 飞机@now_seller2 一条80"}
MEDICAL = {"id": "ad-i2", "url": "https://example.org/ad-i2", "title": "医院 病历 住院记录 可出",
           "text": "出 医院内部 病历 住院记录 体检报告 价格私聊 QQ 3355778899 当天出"}
NEWS = {"id": "news-i", "url": "https://example.org/news-i", "title": "警方提醒",
        "text": "警方提醒市民：网上有人售卖个人信息，遇到开盒威胁请及时报警，保存证据。"}
DISTINCT_DOX = [
    DOX,
    {"id": "ad-i3", "url": "https://example.org/ad-i3", "title": "查档",
     "text": "手机号查机主 身份证反查 住址 开盒 QQ 5566778811 一条50"},
    {"id": "ad-i4", "url": "https://example.org/ad-i4", "title": "社工库",
     "text": "社工库 开盒 全家户籍 快递地址 telegram @box_open_9 包月500"},
    {"id": "ad-i5", "url": "https://example.org/ad-i5", "title": "专业找人",
     "text": "专业找人 定位 婚姻记录 酒店记录 名下车辆 微信 zhaoren_777 当天出结果 不成功不收费"},
]


def _config(tmp_path: Path, url: str, *, categories: str = '["doxxing"]',
            max_per_hour: int = 10, immediate: bool = True) -> str:
    table = f"""
[alerts.immediate]
categories = {categories}
min_score = 0.9
channels = ["now"]
max_per_hour = {max_per_hour}
""" if immediate else ""
    return str(ingest_config(tmp_path, f"""
[digest]
channels = ["daily"]
max_attempts = 3
retry_backoff = "1h"
{table}
[[channels]]
name = "now"
kind = "webhook"
url = "{url}/now"

[[channels]]
name = "daily"
kind = "webhook"
url = "{url}/daily"
"""))


def _ingest(capsys, config: str, *posts: dict) -> None:
    lines = "".join(json.dumps(post, ensure_ascii=False) + "\n" for post in posts)
    result = run_cli(capsys, "--config", config, "ingest", "--source", "elsewhere", "-",
                     stdin=lines)
    assert result.code == 0, result.err


def _bodies(receiver: Receiver, path: str) -> list[dict]:
    return [json.loads(r.body) for r in receiver.posts() if r.path == path]


def _alerts(tmp_path: Path) -> list[tuple[str, str, str | None]]:
    """(post's external id, status, reason) of every immediate_alerts row, in id order."""
    with open_database(f"sqlite:///{tmp_path / 'watch.db'}") as db, db.session() as session:
        return [(external, status, reason) for external, status, reason in session.execute(
            select(Post.external_id, ImmediateAlert.status, ImmediateAlert.reason)
            .join(Post, Post.id == ImmediateAlert.post_id).order_by(ImmediateAlert.id))]


def test_an_offer_above_the_threshold_is_sent_at_once_and_once(capsys, tmp_path) -> None:
    receiver = Receiver()
    with loopback_server(receiver):
        config = _config(tmp_path, receiver.url(""))
        _ingest(capsys, config, DOX, MEDICAL, NEWS)
        first = run_cli(capsys, "--config", config, "classify")
        assert first.code == 0, first.err
        assert "immediate alerts: 1 sent, 0 suppressed" in first.out
        [alert] = _bodies(receiver, "/now")
        assert alert["immediate"] is True and alert["schema_version"] == 2
        [entry] = alert["entries"]
        assert entry["url"] == DOX["url"] and entry["category"] == "doxxing"
        assert "doxwatch immediate alert" in alert["text"]
        assert _bodies(receiver, "/daily") == []  # the digest's channel waits for the digest

        # classified again, and another process's pass: nothing is sent twice
        again = run_cli(capsys, "--config", config, "classify")
        assert "immediate alerts: 0 sent, 0 suppressed" in again.out
        assert len(_bodies(receiver, "/now")) == 1
        status = run_cli(capsys, "--config", config, "status")
        assert "Immediate alerts, last 24 h: 1 sent, 0 suppressed" in status.out
        assert "Last digest: never" in status.out

        # the daily digest holds every flagged post, the alerted one too, as the first digest
        digest = run_cli(capsys, "--config", config, "digest")
        assert digest.code == 0, digest.err
        [daily] = _bodies(receiver, "/daily")
        assert daily["immediate"] is False and daily["since"] is None
        assert daily["previous_totals"] is None
        assert {e["url"] for e in daily["entries"]} == {DOX["url"], MEDICAL["url"]}
        assert len(_bodies(receiver, "/now")) == 1  # the digest does not go to "now"


def test_reposts_and_other_categories_are_not_sent(capsys, tmp_path) -> None:
    receiver = Receiver()
    with loopback_server(receiver):
        config = _config(tmp_path, receiver.url(""))
        _ingest(capsys, config, DOX, DOX_REPOST, MEDICAL)
        result = run_cli(capsys, "--config", config, "classify")
        assert "immediate alerts: 1 sent, 1 suppressed" in result.out
        assert len(_bodies(receiver, "/now")) == 1
        assert sorted(_alerts(tmp_path)) == sorted([
            ("ad-i1", "sent", None), ("ad-i1b", "suppressed", "repost of an ad already alerted on")])

        # a repost that comes later, after the digest clustered the ad, is known
        assert run_cli(capsys, "--config", config, "digest").code == 0
        later = dict(DOX_REPOST, id="ad-i1c", url="https://example.org/ad-i1c",
                     text=DOX_REPOST["text"].replace("一条80", "一条90"))
        _ingest(capsys, config, later)
        result = run_cli(capsys, "--config", config, "classify")
        assert "immediate alerts: 0 sent, 1 suppressed" in result.out
        assert _alerts(tmp_path)[-1] == ("ad-i1c", "suppressed",
                                         "repost of an ad already in a digest")
        assert len(_bodies(receiver, "/now")) == 1


def test_the_hourly_limit_suppresses_the_rest_and_the_digest_keeps_them(capsys, tmp_path):
    receiver = Receiver()
    with loopback_server(receiver):
        config = _config(tmp_path, receiver.url(""), max_per_hour=2)
        _ingest(capsys, config, *DISTINCT_DOX)
        result = run_cli(capsys, "--config", config, "classify")
        assert "immediate alerts: 2 sent, 2 suppressed" in result.out
        statuses = [(status, reason) for _, status, reason in _alerts(tmp_path)]
        assert sorted(statuses, key=str) == sorted(
            [("sent", None)] * 2 + [("suppressed", "rate limit (2 per hour)")] * 2, key=str)
        assert len(_bodies(receiver, "/now")) == 2
        assert run_cli(capsys, "--config", config, "digest").code == 0
        [daily] = _bodies(receiver, "/daily")
        assert daily["total_posts"] == 4


def test_a_receiver_that_is_down_gets_the_alert_once_it_is_up(capsys, tmp_path) -> None:
    receiver = Receiver(status=503)
    with loopback_server(receiver):
        config = _config(tmp_path, receiver.url(""))
        _ingest(capsys, config, DOX)
        result = run_cli(capsys, "--config", config, "classify")
        assert result.code == 1
        assert "immediate alert 1 -> now: failed (HTTP 503" in result.err
        receiver.status = 200
        db_url = f"sqlite:///{tmp_path / 'watch.db'}"
        loaded = load_config(Path(config))
        with open_database(db_url) as db:
            assert send_deliveries(loaded, db) == []  # backing off
            _age(db_url, timedelta(hours=1, seconds=1))
            [outcome] = send_deliveries(loaded, db)
            assert (outcome.channel, outcome.status) == ("now", "sent")
            assert send_deliveries(loaded, db) == []
        assert len(_bodies(receiver, "/now")) == 2  # the failure and the success


def test_without_the_table_nothing_is_sent_at_once(capsys, tmp_path) -> None:
    receiver = Receiver()
    with loopback_server(receiver):
        config = _config(tmp_path, receiver.url(""), immediate=False)
        _ingest(capsys, config, DOX)
        result = run_cli(capsys, "--config", config, "classify")
        assert result.code == 0 and "immediate" not in result.out
        assert receiver.posts() == []
        assert "Immediate alerts" not in run_cli(capsys, "--config", config, "status").out


def _classified(db_url: str, tmp_path: Path, receiver_url: str, posts: list[dict], *,
                max_per_hour: int = 10) -> tuple[Config, str]:
    """A database at ``db_url`` holding ``posts``, judged; (its configuration, the model)."""
    config = load_config(write_config(tmp_path / "c.toml", f"""
[database]
url = "{db_url}"
[alerts.immediate]
channels = ["now"]
max_per_hour = {max_per_hour}
[[channels]]
name = "now"
kind = "webhook"
url = "{receiver_url}"
"""))
    upgrade_database(db_url)
    with open_database(db_url) as db:
        with db.session() as session:
            source = get_or_create_source(session, external_source("elsewhere"))
            upsert_posts(session, source, [
                {"external_id": post["id"], "url": post["url"], "title": post["title"],
                 "text": post["text"]} for post in posts])
        version = classify_pending(db, configured_classifier(config, db)).model_version
    return config, version


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_two_processes_at_once_alert_once_and_old_posts_wait_for_the_digest(
        db_url, tmp_path, monkeypatch):
    receiver = Receiver(delay=0.2)
    with loopback_server(receiver):
        config, version = _classified(db_url, tmp_path, receiver.url("/now"), DISTINCT_DOX[:2])
        with open_database(db_url) as db:
            # a day and more later, nothing is new enough to alert on
            later = datetime.now(UTC) + timedelta(hours=25)
            assert send_immediate(config, db, version, now=later).sent == 0

            # both decide before either records: the unique post id settles it
            barrier = threading.Barrier(2, timeout=30)
            decide = immediate._decide

            def decide_together(*args, **kwargs):
                found = decide(*args, **kwargs)
                barrier.wait()
                return found

            monkeypatch.setattr(immediate, "_decide", decide_together)
            reports = []
            threads = [threading.Thread(target=lambda: reports.append(
                send_immediate(config, db, version))) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sum(report.sent for report in reports) == 2
            with db.session() as session:
                assert len(session.scalars(select(ImmediateAlert)).all()) == 2
                records = session.scalars(select(DigestRecord)).all()
                assert len(records) == 2 and all(r.immediate for r in records)
                assert session.scalars(select(DigestPost)).all() == []
                sent = session.scalars(select(Delivery.status)).all()
                assert sent == ["sent", "sent"]
        assert len(receiver.posts()) == 2


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_passes_that_decided_at_once_never_send_more_than_the_hourly_limit(db_url, tmp_path):
    """Three passes (processes, or the scheduler's crawl threads) each decided, before any of
    them recorded, to send a different post, as each saw an hour with no alerts: recorded
    at once, two are sent and the third is held by the limit."""
    receiver = Receiver()
    with loopback_server(receiver):
        config, version = _classified(db_url, tmp_path, receiver.url("/now"), DISTINCT_DOX[:3],
                                      max_per_hour=2)
        assert config.immediate is not None
        with open_database(db_url) as db:
            now = datetime.now(UTC)
            with db.session() as session:
                decisions = immediate._decide(session, config.immediate, version, now)
            assert len(decisions) == 3  # distinct ads, each above the threshold
            each_alone = [replace(decision, reason=None) for decision in decisions]

            barrier = threading.Barrier(3, timeout=30)
            results: list[object] = []

            def record(decision) -> None:
                barrier.wait()
                results.append(immediate._record(db, config, version, decision, now))

            threads = [threading.Thread(target=record, args=(d,)) for d in each_alone]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert results.count("suppressed") == 1
            assert sum(isinstance(result, int) for result in results) == 2
            with db.session() as session:
                statuses = sorted(session.execute(
                    select(ImmediateAlert.status, ImmediateAlert.reason)).all(), key=str)
                assert statuses == [("sent", None), ("sent", None),
                                    ("suppressed", "rate limit (2 per hour)")]
                assert len(session.scalars(select(Delivery)).all()) == 2


@pytest.mark.parametrize(("table", "field", "message"), [
    ('channels = ["nope"]', "alerts.immediate.channels[0]", "no channel named 'nope'"),
    ('channels = []', "alerts.immediate.channels", "name at least one channel"),
    ('channels = ["now"]\ncategories = ["weather"]', "alerts.immediate.categories[0]",
     "unknown category 'weather'"),
    ('channels = ["now"]\nmin_score = 2', "alerts.immediate.min_score", "must be at most 1"),
    ('channels = ["now"]\nmax_per_hour = 0', "alerts.immediate.max_per_hour",
     "must be at least 1"),
    ('channels = ["now"]\nloud = true', "alerts.immediate.loud", "unknown key"),
])
def test_a_bad_immediate_table_names_the_field(tmp_path, table, field, message) -> None:
    path = write_config(tmp_path / "c.toml", f"""
[alerts.immediate]
{table}
[[channels]]
name = "now"
kind = "stdout"
""")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.field == field and message in raised.value.message
