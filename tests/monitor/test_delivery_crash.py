"""Delivery guarantees against real receivers and a real crash.

The window, as it is: a delivery row is claimed (``sending``, committed) before it is
sent and marked sent after the receiver answered. A process killed after the receiver has
read the request and before that record leaves the row ``sending``; once its claim is older
than the lease (``monitor.outbox.SEND_LEASE``: a live sender is never overtaken) the next
run sends that channel the same digest again, with the same ``Idempotency-Key``, for the
receiver to drop; the channels after it were not reached and get the digest once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.db import open_database
from monitor.db.schema import Delivery
from monitor.outbox import SEND_LEASE
from tests.helpers import LoopbackServer, closed_port, loopback_server
from tests.monitor.cli_helpers import ingest_config, run_cli

pytestmark = pytest.mark.usefixtures("classifier")

OFFER = {"id": "ad-7", "url": "https://example.org/ad-7", "title": "出户籍 开房 轨迹",
         "text": "可cx 户籍 开房 轨迹 机主 秒出 担保交易 飞机@crash_seller 价格私聊"}


def _hooks(*urls: str) -> str:
    return "".join(f"""
[[channels]]
name = "hook{number}"
kind = "webhook"
url = "{url}"
""" for number, url in enumerate(urls, 1))


def _ingest(capsys, config: str) -> None:
    result = run_cli(capsys, "--config", config, "ingest", "--source", "elsewhere", "-",
                     stdin=json.dumps(OFFER, ensure_ascii=False) + "\n")
    assert result.code == 0, result.err


def _deliveries(db_url: str) -> dict[str, tuple[str, int]]:
    db = open_database(db_url)
    try:
        with db.session() as session:
            return {d.channel: (d.status, d.attempts) for d in session.scalars(select(Delivery))}
    finally:
        db.dispose()


def _age_claims(db_url: str, age: timedelta) -> None:
    """Time passes for the claims (``sending`` rows) as for a crashed sender's."""
    db = open_database(db_url)
    try:
        with db.session() as session:
            for delivery in session.scalars(select(Delivery).where(Delivery.status == "sending")):
                delivery.updated_at -= age
    finally:
        db.dispose()


def _posts(server: LoopbackServer, path: str) -> list:
    return [r for r in server.requests if r.method == "POST" and r.path == path]


def test_a_receiver_down_then_up_gets_the_digest_exactly_once(capsys, tmp_path: Path):
    port = closed_port()  # hook1's receiver is down; it comes up later on this port
    always = LoopbackServer()
    always.add("/hook", "ok", content_type="text/plain")
    with loopback_server(always):
        config = str(ingest_config(tmp_path, _hooks(f"http://127.0.0.1:{port}/hook",
                                                    always.url("/hook"))))
        db_url = f"sqlite:///{tmp_path / 'watch.db'}"
        _ingest(capsys, config)

        down = run_cli(capsys, "--config", config, "digest")
        assert down.code == 1 and "hook1: failed" in down.out and "hook2: sent" in down.out
        still_down = run_cli(capsys, "--config", config, "digest")
        assert still_down.code == 1 and "digest 1 → hook1: failed" in still_down.out
        assert _deliveries(db_url) == {"hook1": ("failed", 2), "hook2": ("sent", 1)}

        late = LoopbackServer()
        late.add("/hook", "ok", content_type="text/plain")
        with loopback_server(late, port=port):
            up = run_cli(capsys, "--config", config, "digest")
            again = run_cli(capsys, "--config", config, "digest")
    assert up.code == 0 and "digest 1 → hook1: sent" in up.out and "hook2" not in up.out
    assert again.code == 0 and "hook" not in again.out
    assert len(_posts(late, "/hook")) == 1 and len(_posts(always, "/hook")) == 1
    assert _deliveries(db_url) == {"hook1": ("sent", 3), "hook2": ("sent", 1)}
    # the very digest the other channel got
    assert json.loads(_posts(late, "/hook")[0].body)["id"] == 1
    assert json.loads(_posts(always, "/hook")[0].body)["id"] == 1


def test_a_run_killed_between_channels_resends_only_the_unrecorded_send(capsys, tmp_path: Path):
    receiver = LoopbackServer()
    receiver.add("/one", "ok", content_type="text/plain")
    receiver.add("/two", "ok", content_type="text/plain")
    victim: list[subprocess.Popen] = []

    def kill_on_first_delivery(request):
        # the receiver has the whole request (recorded) and has not answered yet
        if request.path == "/one" and victim:
            process = victim.pop()
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=20)
        return None

    receiver.handler = kill_on_first_delivery
    with loopback_server(receiver):
        config = str(ingest_config(tmp_path, _hooks(receiver.url("/one"),
                                                    receiver.url("/two"))))
        db_url = f"sqlite:///{tmp_path / 'watch.db'}"
        _ingest(capsys, config)

        process = subprocess.Popen(
            [sys.executable, "-c", "from monitor.cli import main; main()", "--config", config,
             "digest"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        victim.append(process)
        out, err = process.communicate(timeout=120)
        assert process.returncode == -signal.SIGKILL, out + err
        assert len(_posts(receiver, "/one")) == 1 and not _posts(receiver, "/two")
        # killed after the claim of the first send and before its record
        assert _deliveries(db_url) == {"hook1": ("sending", 1), "hook2": ("pending", 0)}

        rerun = run_cli(capsys, "--config", config, "digest")
        # the claim holds for the lease: it might be a live sender's
        assert rerun.code == 0, rerun.out + rerun.err
        assert "digest 1 → hook1: sending (another sender has it" in rerun.out
        assert "digest 1 → hook2: sent" in rerun.out and len(_posts(receiver, "/one")) == 1
        _age_claims(db_url, SEND_LEASE + timedelta(seconds=1))  # the lease runs out
        taken_over = run_cli(capsys, "--config", config, "digest")
        last = run_cli(capsys, "--config", config, "digest")
    assert taken_over.code == 0, taken_over.out + taken_over.err
    assert "digest 1 → hook1: sent" in taken_over.out and "hook2" not in taken_over.out
    assert last.code == 0 and "hook" not in last.out

    first, repeat = _posts(receiver, "/one")
    # the repeat is recognisable: same key, same digest, byte for byte
    uid = json.loads(first.body)["uid"]
    assert re.fullmatch("[0-9a-f]{32}", uid)
    assert first.headers["Idempotency-Key"] == repeat.headers["Idempotency-Key"] \
        == f"doxwatch-digest-1-{uid}-hook1"
    assert first.body == repeat.body
    [second_channel] = _posts(receiver, "/two")
    assert second_channel.headers["Idempotency-Key"] == f"doxwatch-digest-1-{uid}-hook2"
    assert json.loads(second_channel.body)["id"] == json.loads(first.body)["id"] == 1
    assert _deliveries(db_url) == {"hook1": ("sent", 2), "hook2": ("sent", 1)}
