"""Labelling: the line-mode session through the real CLI, the queue's orders and filters,
and the label history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from monitor.db import open_database
from monitor.db.schema import Label, Post
from monitor.errors import UsageProblem
from monitor.labels import label_history, label_queue, record_label, undo_label
from tests.monitor.cli_helpers import run_cli, write_config

pytestmark = pytest.mark.usefixtures("classifier")

POSTS = [
    {"id": "a", "title": "出户籍", "text": "可cx 户籍 开房 轨迹 秒出 飞机@lab_seller"},
    {"id": "b", "text": "警方提醒：网上自称能查开房记录的都是违法行为，切勿轻信。"},
    {"id": "c", "text": "出医保记录 就诊记录 精准出 一条800元 薇 lab_med_88"},
    {"id": "d", "text": "代过人脸 活体 人脸解封 包过 \x1b]8;;http://evil\x07飞机@lab_face"},
    {"id": "e", "text": "周六早上八点在公园门口集合，骑行四十公里，记得带水和头盔。"},
]


@pytest.fixture
def cli(capsys, tmp_path):
    """Run doxwatch against one SQLite database holding POSTS under the source "tool"."""
    url = f"sqlite:///{tmp_path / 'watch.db'}"

    def run(*args: str, stdin: str = ""):
        return run_cli(capsys, "--db", url, *args, stdin=stdin)

    lines = "".join(json.dumps(post, ensure_ascii=False) + "\n" for post in POSTS)
    assert run("ingest", "--source", "tool", "-", stdin=lines).code == 0
    assert run("classify").code == 0
    run.url = url
    return run


def _shown(out: str) -> list[int]:
    return [int(n) for n in re.findall(r"\] post (\d+) ·", out)]


def _stored(url: str) -> list[tuple[int, str, list[str], str | None]]:
    db = open_database(url)
    with db.session() as session:
        rows = session.execute(select(Label.post_id, Label.analyst, Label.labels, Label.note)
                               .order_by(Label.id)).all()
    db.dispose()
    return [tuple(row) for row in rows]


def test_a_session_stores_exactly_what_was_typed_and_resumes(cli):
    first = cli("label", "--plain", "--analyst", "alice", stdin="1\nu\n13\nn seen twice\n0\ns\nq\n")
    assert first.code == 0, first.err
    shown = _shown(first.out)
    # post 1 saved as 1 (post 2 appears), undone (post 1 again), saved as 13; post 2 saved
    # benign with the note; post 3 skipped (post 4 appears); then quit
    one, two, three = shown[0], shown[1], shown[4]
    assert shown == [one, two, one, two, three, shown[5]] and len(set(shown)) == 4
    assert _stored(cli.url) == [(one, "alice", ["medical", "biometric"], None),
                                (two, "alice", [], "seen twice")]
    assert "saved 2 labels, skipped 1" in first.out
    assert "\x1b" not in first.out and "\x07" not in first.out  # hostile bytes never reach it

    again = cli("label", "--plain", "--analyst", "alice", stdin="a\n")
    assert again.code == 0
    resumed = _shown(again.out)
    assert one not in resumed and two not in resumed and three in resumed
    assert "3 posts to label" in again.err
    bob = cli("label", "--plain", "--analyst", "bob", stdin="q\n")
    assert "5 posts to label" in bob.err  # alice's labels do not hide posts from bob


def test_the_analyst_comes_from_the_config_file_else_the_login(cli, tmp_path, monkeypatch):
    config = write_config(tmp_path / "doxwatch.toml", '[label]\nanalyst = "carol"\n')
    result = cli("--config", str(config), "label", stdin="0\nq\n")
    assert result.code == 0 and result.err.startswith("carol: ")
    monkeypatch.setattr("getpass.getuser", lambda: "dave")
    assert cli("label", stdin="q\n").err.startswith("dave: ")
    assert {row[1] for row in _stored(cli.url)} == {"carol"}


def test_exclusive_passes_over_a_post_another_session_holds(cli):
    from monitor.label_leases import Leases

    queue = _queue(cli.url, analyst="alice")
    db = open_database(cli.url)
    held = queue[0].post_id
    assert Leases(db, "bob", timedelta(minutes=5)).claim([held]) == held
    db.dispose()
    result = cli("label", "--plain", "--exclusive", "--analyst", "alice", stdin="0\nq\n")
    assert result.code == 0, result.err
    assert held not in _shown(result.out) and _shown(result.out)[0] == queue[1].post_id
    assert "saved 1 labels, skipped 0, 1 passed over (another session had them)" in result.out
    assert [row[:3] for row in _stored(cli.url)] == [(queue[1].post_id, "alice", [])]


def test_bad_options_are_usage_errors(cli):
    assert cli("label", "--order", "loudest", stdin="q\n").code == 2
    assert cli("label", "--category", "gambling", stdin="q\n").code == 2
    assert cli("label", "--since", "last week", stdin="q\n").code == 2


def _queue(url: str, analyst: str = "eve", **options):
    from monitor.modelstore import active_classifier

    db = open_database(url)
    classifier = active_classifier(db)
    try:
        return label_queue(db, classifier.version, classifier.thresholds, analyst, **options)
    finally:
        db.dispose()


def test_queue_orders_and_filters(cli):
    uncertain = _queue(cli.url)
    margins = [entry.margin for entry in uncertain]
    assert margins == sorted(margins) and len(uncertain) == 5
    shuffled = _queue(cli.url, order="random", seed=3)
    again = _queue(cli.url, order="random", seed=3)
    assert [e.post_id for e in shuffled] == [e.post_id for e in again]
    assert sorted(e.post_id for e in shuffled) == sorted(e.post_id for e in uncertain)
    medical = _queue(cli.url, category="medical")
    assert medical and all("medical" in e.suggestion or max(e.scores, key=e.scores.get)
                           == "medical" for e in medical)
    assert _queue(cli.url, source="nope") == []
    assert len(_queue(cli.url, limit=2)) == 2

    db = open_database(cli.url)
    with db.session() as session:
        session.execute(update(Post).where(Post.external_id == "e").values(
            first_seen_at=datetime.now(UTC) + timedelta(days=1)))
    db.dispose()
    recent = _queue(cli.url, order="recent")
    since = _queue(cli.url, since=datetime.now(UTC) + timedelta(hours=1))
    assert recent[0].post_id == since[0].post_id and len(since) == 1


def test_disagree_shows_posts_analysts_or_the_model_dispute(cli):
    queue = _queue(cli.url)
    by_suggestion = {entry.post_id: entry.suggestion for entry in queue}
    agreed, disputed, against_model = sorted(by_suggestion)[:3]
    db = open_database(cli.url)
    record_label(db, agreed, "alice", by_suggestion[agreed])
    record_label(db, agreed, "bob", by_suggestion[agreed])
    record_label(db, disputed, "alice", ["medical"])
    record_label(db, disputed, "bob", ["doxxing"])
    record_label(db, against_model, "alice",
                 [] if by_suggestion[against_model] else ["biometric"])
    db.dispose()
    queue = _queue(cli.url, order="disagree")
    assert [entry.post_id for entry in queue] == [disputed, against_model]
    for_alice = _queue(cli.url, analyst="alice", order="disagree")
    assert for_alice == []  # she labelled them all already


def test_history_is_kept_and_undo_removes_only_its_own_label(cli):
    db = open_database(cli.url)
    try:
        first = record_label(db, 1, "alice", ["doxxing"], "first look")
        second = record_label(db, 1, "alice", ["doxxing", "medical"])
        third = record_label(db, 1, "bob", [])
        undo_label(db, third)
        assert label_history(db, 1) == [("alice", ("doxxing",), "first look"),
                                        ("alice", ("medical", "doxxing"), None)]
        assert first < second
        with pytest.raises(UsageProblem, match="gambling"):
            record_label(db, 1, "alice", ["gambling"])
        with pytest.raises(UsageProblem, match="no post"):
            record_label(db, 999, "alice", [])
    finally:
        db.dispose()


def test_labels_stats_counts_and_agreement(cli):
    db = open_database(cli.url)
    try:
        for post, alice, bob in ((1, ["doxxing"], ["doxxing"]), (2, [], []),
                                 (3, ["medical"], ["medical"]), (4, ["biometric"], [])):
            record_label(db, post, "alice", alice)
            record_label(db, post, "bob", bob)
        record_label(db, 5, "alice", ["medical"])
        record_label(db, 4, "alice", ["biometric", "doxxing"])  # her latest view counts
    finally:
        db.dispose()
    result = cli("labels", "stats")
    assert result.code == 0, result.err
    assert "5 labelled posts: medical 2, doxxing 2, biometric 1, benign 1" in result.out
    assert "per analyst: alice 5, bob 4" in result.out
    # doxxing: pairs (T,T) (F,F) (F,F) (T,F): kappa 0.5; medical: all agree: 1.0
    assert "labelled by more than one analyst: 4; Cohen's kappa: medical 1.00, doxxing 0.50, biometric 0.00" in result.out
    assert "post 4: alice doxxing, biometric; bob benign" in result.out
    assert result.out.count("  post ") == 1
