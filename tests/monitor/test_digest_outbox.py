"""The digest outbox: a digest is stored whole when it is built, and a retry sends exactly
what was stored, whatever happened to its posts since (re-crawled, re-judged, deleted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.db import open_database
from monitor.db.schema import Delivery, DigestRecord, Post
from tests.helpers import LoopbackServer, closed_port, loopback_server
from tests.monitor.cli_helpers import ingest_config, run_cli

pytestmark = pytest.mark.usefixtures("classifier")

OFFER = {"id": "ad-1", "url": "https://example.org/ad-1", "title": "出户籍 开房 轨迹",
         "text": "可cx 户籍 开房 轨迹 机主 秒出 担保交易 飞机@retry_seller 价格私聊"}
REWRITTEN = {**OFFER, "title": "周末骑行",
             "text": "周六早上八点在公园门口集合，骑行四十公里，记得带水和头盔。"}


def _config(tmp_path: Path, hook_port: int) -> str:
    return str(ingest_config(tmp_path, f"""
[[channels]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"
"""))


def _ingest(capsys, config: str, db_url: str, post: dict) -> None:
    result = run_cli(capsys, "--config", config, "--db", db_url, "ingest", "--source",
                     "elsewhere", "-", stdin=json.dumps(post, ensure_ascii=False) + "\n")
    assert result.code == 0, result.err


def test_a_retry_sends_the_stored_digest_after_its_post_changed(capsys, tmp_path, db_url):
    hook_port = closed_port()
    config = _config(tmp_path, hook_port)
    cli = ("--config", config, "--db", db_url)
    assert run_cli(capsys, *cli, "db", "upgrade").code == 0
    _ingest(capsys, config, db_url, OFFER)

    failed = run_cli(capsys, *cli, "digest")  # the receiver is down
    assert failed.code == 1
    assert "1 offer" in failed.out and "1 offers" not in failed.out and "hook: failed" in failed.out

    # The post is re-crawled with new words and re-judged benign before the retry.
    _ingest(capsys, config, db_url, REWRITTEN)
    judged = run_cli(capsys, *cli, "classify")
    assert judged.code == 0 and "classified 1 post " in judged.out and "0 offers" in judged.out

    receiver = LoopbackServer()
    receiver.add("/hook", "ok", content_type="text/plain")
    with loopback_server(receiver, port=hook_port):
        retried = run_cli(capsys, *cli, "digest")
        again = run_cli(capsys, *cli, "digest")
    assert retried.code == 0, retried.out + retried.err
    assert "digest 1 → hook: sent" in retried.out and "nothing new" in retried.out
    assert again.code == 0 and "nothing new" in again.out and "hook" not in again.out

    posts = [r for r in receiver.requests if r.method == "POST"]
    assert len(posts) == 1  # sent once, and only once
    body = json.loads(posts[0].body)
    [entry] = body["entries"]
    # what was built and stored, not the post as it reads now
    assert entry["title"] == OFFER["title"] and "retry_seller" in entry["excerpt"]
    assert "骑行" not in posts[0].body.decode("utf-8")

    db = open_database(db_url)
    with db.session() as session:
        record = session.scalar(select(DigestRecord))
        assert {k: v for k, v in body.items() if k != "text"} == _in_shanghai(record.payload)
        assert session.scalar(select(Post)).title == REWRITTEN["title"]
        assert session.scalar(select(Delivery)).status == "sent"
    db.dispose()


def _in_shanghai(payload: dict) -> dict:
    """The stored payload (UTC) as the channel renders it, in the configured timezone."""
    from alerts.digest import Digest
    from monitor.digest import in_timezone

    return in_timezone(Digest.from_dict(payload), "Asia/Shanghai").to_dict()


def test_a_damaged_stored_digest_fails_its_delivery_and_not_every_digest(capsys, tmp_path):
    """A payload nobody can read is recorded as that delivery's error; new digests still go."""
    hook_port = closed_port()
    config = _config(tmp_path, hook_port)
    db_url = f"sqlite:///{tmp_path / 'watch.db'}"
    _ingest(capsys, config, db_url, OFFER)
    assert run_cli(capsys, "--config", config, "digest").code == 1
    db = open_database(db_url)
    with db.session() as session:
        session.scalar(select(DigestRecord)).payload = {"entries": "not a list"}
    db.dispose()
    _ingest(capsys, config, db_url, {**OFFER, "id": "ad-2", "text": OFFER["text"] + " 二号"})

    receiver = LoopbackServer()
    receiver.add("/hook", "ok", content_type="text/plain")
    with loopback_server(receiver, port=hook_port):
        result = run_cli(capsys, "--config", config, "digest")
    assert result.code == 1
    assert "digest 1 → hook: failed (stored digest 1 cannot be read:" in result.out
    assert "digest 2 → hook: sent" in result.out
    assert len([r for r in receiver.requests if r.method == "POST"]) == 1


def test_two_installations_first_digests_have_different_keys(capsys, tmp_path):
    """Ids restart at 1 in every database: a receiver that drops repeated Idempotency-Keys
    must still take a second installation's first digest (issue 12, item 3)."""
    receiver = LoopbackServer()
    receiver.add("/hook", "ok", content_type="text/plain")
    with loopback_server(receiver) as server:
        port = server.port
        for name in ("one", "two"):
            home = tmp_path / name
            home.mkdir()
            config = _config(home, port)
            db_url = f"sqlite:///{home / 'watch.db'}"
            _ingest(capsys, config, db_url, OFFER)
            assert run_cli(capsys, "--config", config, "--db", db_url, "digest").code == 0
    keys = [r.headers["Idempotency-Key"] for r in receiver.requests if r.method == "POST"]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert all(key.startswith("doxwatch-digest-1-") for key in keys)


def test_a_digest_stored_before_uids_keeps_its_old_key() -> None:
    """A retry of a digest stored by an older doxwatch is still recognisable."""
    from alerts.digest import Digest

    old = Digest.from_dict({"id": 7, "created_at": "2026-12-01T01:00:00+00:00", "entries": []})
    assert old.uid is None and old.key == "7"
    new = Digest.from_dict({**old.to_dict(), "uid": "ab" * 16})
    assert new.key == "7-" + "ab" * 16 and Digest.from_dict(new.to_dict()) == new
