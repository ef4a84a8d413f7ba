"""The outbox's retries, giving up, and claims, against real HTTP receivers on loopback.

A failed delivery is due again after ``retry_backoff``, doubling; after ``max_attempts``
failures it gives up: ``doxwatch status`` lists it, the next digest says so once, and
``doxwatch digest --retry-given-up`` revives it. Two senders at once never send a row twice.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from alerts.digest import Digest
from monitor.config import ChannelConfig, load_config
from monitor.db import open_database
from monitor.db.schema import Delivery, DigestRecord
from monitor.digest import send_deliveries
from monitor.outbox import RetryPolicy, safe_error
from monitor.scheduler import DELIVERIES_JOB, build_scheduler
from tests.helpers import LoopbackServer, Recorded, Route, loopback_server
from tests.monitor.cli_helpers import ingest_config, run_cli, write_config

pytestmark = pytest.mark.usefixtures("classifier")

OFFER = {"id": "ad-r1", "url": "https://example.org/ad-r1", "title": "出户籍 开房 轨迹",
         "text": "可cx 户籍 开房 轨迹 机主 秒出 担保交易 飞机@retry_seller 价格私聊"}
OTHERS = [
    {"id": "ad-r2", "url": "https://example.org/ad-r2", "title": "医院 病历 住院记录 可出",
     "text": "出 医院内部 病历 住院记录 体检报告 价格私聊 QQ 3355778899 当天出"},
    {"id": "ad-r3", "url": "https://example.org/ad-r3", "title": "代过人脸 实名 活体",
     "text": "专业代过人脸 实名认证 活体检测 解封 微信 face_pass_88 秒过 不成功不收费"},
]


class Receiver(LoopbackServer):
    """A webhook receiver that answers ``status`` (changeable) to every POST."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        super().__init__()
        self.status, self.delay = status, delay
        self.handler = self._answer

    def _answer(self, request: Recorded) -> Route:
        time.sleep(self.delay)  # a slow receiver widens any race between senders
        return Route(b"ok" if self.status < 400 else b"down", self.status, "text/plain")

    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]


def _ingest(capsys, config: str, post: dict) -> None:
    result = run_cli(capsys, "--config", config, "ingest", "--source", "elsewhere", "-",
                     stdin=json.dumps(post, ensure_ascii=False) + "\n")
    assert result.code == 0, result.err


def _age(db_url: str, age: timedelta) -> None:
    """Time passes for every unsent delivery's last attempt."""
    db = open_database(db_url)
    try:
        with db.session() as session:
            for delivery in session.scalars(select(Delivery).where(Delivery.status != "sent")):
                delivery.updated_at -= age
    finally:
        db.dispose()


def _rows(db_url: str) -> list[tuple[int, str, str, int]]:
    db = open_database(db_url)
    try:
        with db.session() as session:
            return [(d.digest_id, d.channel, d.status, d.attempts) for d in
                    session.scalars(select(Delivery).order_by(Delivery.digest_id, Delivery.id))]
    finally:
        db.dispose()


def _hook(url: str, *, max_attempts: int = 2, backoff: str = "1h",
          extra: str = "") -> str:
    return f"""
[digest]
max_attempts = {max_attempts}
retry_backoff = "{backoff}"
{extra}
[[channels]]
name = "hook"
kind = "webhook"
url = "{url}"
"""


def test_backoff_giving_up_reporting_once_and_reviving(capsys, tmp_path: Path) -> None:
    receiver = Receiver(status=503)
    with loopback_server(receiver):
        config = str(ingest_config(tmp_path, _hook(receiver.url("/hook"))))
        db_url = f"sqlite:///{tmp_path / 'watch.db'}"
        loaded = load_config(Path(config))
        _ingest(capsys, config, OFFER)

        first = run_cli(capsys, "--config", config, "digest")
        assert first.code == 1 and "digest 1 → hook: failed (HTTP 503" in first.out
        with open_database(db_url) as db:
            # the scheduler's job waits for the backoff (1 h after the first failure) …
            assert send_deliveries(loaded, db) == []
            assert len(receiver.posts()) == 1
            # … and sends once it has elapsed: the second failure, max_attempts = 2, gives up
            _age(db_url, timedelta(hours=1, seconds=1))
            [outcome] = send_deliveries(loaded, db)
            assert (outcome.status, len(receiver.posts())) == ("failed", 2)
            _age(db_url, timedelta(days=30))
            assert send_deliveries(loaded, db) == []  # never again by itself
            _age(db_url, -timedelta(days=30))  # back to when it gave up, after digest 1
        by_hand = run_cli(capsys, "--config", config, "digest")
        assert by_hand.code == 0 and len(receiver.posts()) == 2
        assert "digest 1 → hook: given up (gave up after 2 attempts; --retry-given-up" \
            in by_hand.out

        status = run_cli(capsys, "--config", config, "status")
        assert status.code == 0, status.err
        assert "Not delivered (doxwatch digest --retry-given-up tries again" in status.out
        assert "digest 1 of " in status.out
        assert "→ hook: gave up after 2 attempts; last error: HTTP 503 from http://127.0.0.1" \
            in status.out

        # the channel works again; the next digest says what it did not get, once
        receiver.status = 200
        _ingest(capsys, config, OTHERS[0])
        second = run_cli(capsys, "--config", config, "digest")
        assert second.code == 0 and "digest 2 → hook: sent" in second.out
        assert "digest 1 → hook: given up" in second.out  # not retried unless asked
        assert [json.loads(r.body)["id"] for r in receiver.posts()] == [1, 1, 2]
        report = json.loads(receiver.posts()[-1].body)
        assert report["id"] == 2
        [undelivered] = report["undelivered"]
        assert (undelivered["digest_id"], undelivered["channel"], undelivered["attempts"]) \
            == (1, "hook", 2)
        assert undelivered["error"].startswith("HTTP 503 from http://127.0.0.1")
        assert undelivered["digest_created_at"].endswith("+08:00")  # the team's timezone
        assert "NOT DELIVERED" in report["text"] and "→ hook: gave up after 2" in report["text"]

        _ingest(capsys, config, OTHERS[1])
        third = run_cli(capsys, "--config", config, "digest")
        assert third.code == 0
        assert json.loads(receiver.posts()[-1].body)["undelivered"] == []  # reported once

        revived = run_cli(capsys, "--config", config, "digest", "--retry-given-up")
        assert revived.code == 0 and "digest 1 → hook: sent" in revived.out
        after = run_cli(capsys, "--config", config, "status")
    assert "Not delivered" not in after.out
    attempts = [r for r in receiver.posts() if json.loads(r.body)["id"] == 1]
    assert len(attempts) == 3
    # a retry is the same digest under the same key, for the receiver to recognise
    assert len({r.headers["Idempotency-Key"] for r in attempts}) == 1
    assert len({r.body for r in attempts}) == 1
    assert _rows(db_url) == [(1, "hook", "sent", 3), (2, "hook", "sent", 1),
                             (3, "hook", "sent", 1)]


def test_the_backoff_doubles_with_each_attempt() -> None:
    policy = RetryPolicy(max_attempts=8, backoff=300)
    last = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    assert [policy.due_at(last, n) - last for n in (1, 2, 3, 4)] == [
        timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=40)]


def test_the_scheduler_s_job_delivers_a_failed_digest_by_itself(capsys, tmp_path: Path) -> None:
    """A channel down at nine gets its digest later without anyone running anything."""
    receiver = Receiver(status=503)
    with loopback_server(receiver):
        config = str(ingest_config(tmp_path, _hook(receiver.url("/hook"), backoff="1s")))
        db_url = f"sqlite:///{tmp_path / 'watch.db'}"
        _ingest(capsys, config, OFFER)
        assert run_cli(capsys, "--config", config, "digest").code == 1
        receiver.status = 200
        time.sleep(1.1)  # the backoff elapses

        db = open_database(db_url)
        scheduler = build_scheduler(load_config(Path(config)), db)
        scheduler.modify_job(DELIVERIES_JOB, next_run_time=datetime.now(UTC))  # its turn
        thread = threading.Thread(target=scheduler.start, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while len(receiver.posts()) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            while not scheduler.running and time.monotonic() < deadline:
                time.sleep(0.01)
            scheduler.shutdown(wait=True)
            thread.join(timeout=10)
            db.dispose()
    assert len(receiver.posts()) == 2
    assert _rows(db_url) == [(1, "hook", "sent", 2)]


CHANNELS = 6
DIGESTS = 3


def test_two_senders_at_once_send_each_delivery_exactly_once(tmp_path: Path, db_url: str
                                                              ) -> None:
    """``doxwatch digest`` by hand while the scheduler's job sends: each row is claimed by
    one of them only (SQLite and PostgreSQL)."""
    receiver = Receiver(delay=0.05)
    with loopback_server(receiver):
        hooks = "".join(f"""
[[channels]]
name = "hook{n}"
kind = "webhook"
url = "{receiver.url(f'/hook{n}')}"
""" for n in range(CHANNELS))
        config = load_config(write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "{db_url}"
{hooks}"""))
        db = open_database(db_url, upgrade=True)
        created = datetime.now(UTC)
        with db.session() as session:
            for _ in range(DIGESTS):
                record = DigestRecord(created_at=created, since=None, entry_count=0, text="",
                                      payload={})
                session.add(record)
                session.flush()
                record.payload = Digest(id=record.id, created_at=created, entries=(),
                                        uid=f"{record.id:032x}").to_dict()
                for channel in config.digest_channels():
                    session.add(Delivery(digest_id=record.id, channel=channel.name,
                                         status="pending", attempts=0, created_at=created,
                                         updated_at=created))
        db.dispose()

        start = threading.Barrier(2, timeout=30)
        outcomes: list[list] = [[], []]
        errors: list[BaseException] = []

        def sender(index: int, retry: str) -> None:
            try:
                # as another process would: its own connections (migrated above)
                own = open_database(db_url, upgrade=False)
                try:
                    start.wait()
                    outcomes[index] = send_deliveries(config, own, retry=retry)
                finally:
                    own.dispose()
            except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
                errors.append(error)

        threads = [threading.Thread(target=sender, args=(0, "backoff")),  # the scheduler
                   threading.Thread(target=sender, args=(1, "now"))]       # a person
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    if errors:
        raise errors[0]

    keys = [r.headers["Idempotency-Key"] for r in receiver.posts()]
    assert len(keys) == len(set(keys)) == CHANNELS * DIGESTS
    sent = [(o.digest_id, o.channel) for run in outcomes for o in run if o.status == "sent"]
    assert len(sent) == len(set(sent)) == CHANNELS * DIGESTS
    assert all(o.status in ("sent", "sending") for run in outcomes for o in run)
    assert {(status, attempts) for _, _, status, attempts in _rows(db_url)} == {("sent", 1)}


def test_the_rest_command_lists_exactly_the_period_s_posts(capsys, tmp_path: Path) -> None:
    """Over the cap, the digest names a ``posts list --since … --until …`` command: run, it
    lists the period's posts and not one that came after."""
    receiver = Receiver()
    with loopback_server(receiver):
        config = str(ingest_config(tmp_path, _hook(receiver.url("/hook"),
                                                   extra="max_entries = 1")))
        _ingest(capsys, config, OFFER)
        assert run_cli(capsys, "--config", config, "digest").code == 0  # the period starts
        for post in OTHERS:
            _ingest(capsys, config, post)
        sent = run_cli(capsys, "--config", config, "digest")
        assert sent.code == 0
        # the digest's total, not the entries shown
        assert "digest 2: 2 offers" in sent.out
        _ingest(capsys, config, {**OFFER, "id": "ad-late", "title": "出户籍 查档 后来的",
                                 "text": OFFER["text"] + " 后来的"})
    body = json.loads(receiver.posts()[-1].body)
    command = body["rest_command"]
    assert command.startswith("doxwatch posts list --flagged --since 20")
    assert "+08:00 --until 20" in command and command.endswith(" -n 2")
    args = shlex.split(command)[1:]
    listed = run_cli(capsys, "--config", config, *args)
    assert listed.code == 0, listed.err
    assert "病历" in listed.out and "代过人脸" in listed.out
    assert "后来的" not in listed.out and "出户籍 开房" not in listed.out


def test_posts_list_since_reads_naive_times_in_the_digest_timezone(capsys, tmp_path: Path
                                                                   ) -> None:
    config = str(ingest_config(tmp_path, ""))
    _ingest(capsys, config, OFFER)
    now_shanghai = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    # one minute ago in Shanghai, written without an offset: the post is newer
    before = (now_shanghai - timedelta(minutes=1)).isoformat(sep=" ", timespec="minutes")
    after = (now_shanghai + timedelta(minutes=2)).isoformat(sep=" ", timespec="minutes")
    cli = ("--config", config, "posts", "list")
    assert "出户籍" in run_cli(capsys, *cli, "--since", before).out
    assert "出户籍" not in run_cli(capsys, *cli, "--since", after).out
    assert "出户籍" in run_cli(capsys, *cli, "--since", "2h").out
    assert "出户籍" not in run_cli(capsys, *cli, "--until", before).out
    wrong = run_cli(capsys, *cli, "--since", "last week")
    assert wrong.code == 2 and "--since: not a date or time like 2026-12-01" in wrong.err


def test_an_error_is_stored_without_the_channel_s_secrets() -> None:
    channel = ChannelConfig("ding", "dingtalk", {"url_env": "DING_URL", "secret_env": "DING_S"})
    env = {"DING_URL": "https://oapi.dingtalk.com/robot/send?access_token=tok3n1234567",
           "DING_S": "SECsupersecret"}
    error = ("ConnectError: failed for https://oapi.dingtalk.com/robot/send?access_token="
             "tok3n1234567 signed with SECsupersecret; also https://other.example/hook/"
             "T0123456789?key=abcdef")

    safe = safe_error(error, channel, env)

    assert "tok3n1234567" not in safe and "SECsupersecret" not in safe
    assert "T0123456789" not in safe and "abcdef" not in safe
    assert safe.startswith("ConnectError: failed for ")
