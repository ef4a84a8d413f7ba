"""`doxwatch train`: the analysts' labels (majority per post, ties left out, overriding the
shipped example of the same text) make a new model that changes what it says of them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models.dataset import load_dataset, shipped_dataset_path
from monitor.db import open_database
from monitor.db.schema import ModelRecord, Post, Prediction
from monitor.labels import record_label
from monitor.training import analyst_labels, training_data
from tests.monitor.cli_helpers import run_cli

pytestmark = pytest.mark.usefixtures("classifier")

# Second-hand books and stationery that name medical records: other goods, benign by the
# guideline, which the shipped model flags as medical offers.
USED_GOODS = [
    "出二手医学教材 病历书写规范 诊断学 九成新 一本30元 微信 book_med_01",
    "闲置 内科学 外科学 第九版 有笔记 两本一起45 包邮 v: shelf_a12",
    "转让病历夹 病历本 全新未拆 一包20个 15元 vx clip_88",
    "毕业清书：病理学、药理学课本，病历书写模板打印版送你，20块自提",
    "护理专业考试资料 病历分析题库 纸质版 出 25元 要的私",
    "医院同款病历袋 牛皮纸 A4 100只装 批发价 38元 店铺自取",
    "出闲置：诊断学图谱、病历书写范例，带划线，便宜出 15，校内面交",
    "全新 病历记录本 门诊用 10本装 转 20元 邮费自理 wx note_sell",
    "二手 医学影像学 教材 第八版 病例解析 出 18元 同城可送",
    "出一批临床病例讨论书 八成新 6本60 先到先得 微信 case_books",
    "病历卡 硬壳 空白 诊所用 出一箱 200张 45元 可开票 vx clinic_paper",
    "考研西综 病例分析真题 手写笔记 复印版 出 10元一份 私聊",
]


@pytest.fixture
def cli(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'watch.db'}"

    def run(*args: str, stdin: str = ""):
        return run_cli(capsys, "--db", url, *args, stdin=stdin)

    lines = "".join(json.dumps({"id": f"g{n}", "text": text}, ensure_ascii=False) + "\n"
                    for n, text in enumerate(USED_GOODS))
    assert run("ingest", "--source", "market", "-", stdin=lines).code == 0
    assert run("classify").code == 0
    run.url = url
    return run


def _predictions(url: str, version: str) -> dict[int, list[str]]:
    db = open_database(url)
    with db.session() as session:
        rows = session.execute(select(Prediction.post_id, Prediction.labels)
                               .where(Prediction.model_version == version)).all()
    db.dispose()
    return dict(rows)


def _active(url: str) -> str:
    db = open_database(url)
    with db.session() as session:
        version = session.scalar(select(ModelRecord.version).where(ModelRecord.active.is_(True)))
    db.dispose()
    return version


def test_retraining_on_one_sessions_labels_changes_the_predictions_on_those_posts(cli):
    before = _active(cli.url)
    flagged = _predictions(cli.url, before)
    assert sum(1 for labels in flagged.values() if labels) >= 6  # the model gets them wrong

    session = cli("label", "--plain", "--analyst", "alice", stdin="0\n" * len(USED_GOODS))
    assert f"saved {len(USED_GOODS)} labels" in session.out

    dry = cli("train", "--dry-run")
    assert dry.code == 0, dry.err
    assert f"{len(USED_GOODS)} posts from {len(USED_GOODS)} analyst labels" in dry.out
    assert "dry run" in dry.out and _active(cli.url) == before

    trained = cli("train")
    assert trained.code == 0, trained.out + trained.err
    for name in ("heldout", "real", "blind"):
        assert f"\n  {name} " in trained.out
    after = _active(cli.url)
    assert after != before and f"model {after} is active now" in trained.out
    assert cli("classify").code == 0
    judged = _predictions(cli.url, after)
    assert sum(1 for labels in judged.values() if labels) <= 2, judged
    assert sum(1 for post in flagged if flagged[post] != judged[post]) >= 5

    listed = cli("models", "list")
    assert f"+{len(USED_GOODS)} analyst labels" in listed.out
    again = cli("train")
    assert again.code == 0 and "nothing new to learn" in again.out


def test_the_majority_label_wins_and_ties_are_left_out(cli):
    db = open_database(cli.url)
    agreed, split, changed = 1, 2, 3
    kept = [record_label(db, agreed, analyst, labels) for analyst, labels in
            (("alice", []), ("bob", []), ("carol", ["medical"]))]
    record_label(db, split, "alice", ["medical"])
    record_label(db, split, "bob", [])
    record_label(db, changed, "alice", ["medical"])
    kept.append(record_label(db, changed, "alice", []))  # her latest view counts
    labels = analyst_labels(db)
    db.dispose()
    assert [(e.origin, e.labels) for e in labels.examples] == [
        (f"analyst:post-{agreed}", ()), (f"analyst:post-{changed}", ())]
    assert labels.ties == [split]
    assert labels.label_ids == sorted(kept)


def test_an_analysts_label_replaces_the_shipped_example_of_the_same_text(cli):
    shipped = next(e for e in load_dataset(shipped_dataset_path())  # nothing to mask in it
                   if e.labels and not any(char.isdigit() for char in e.text))
    line = json.dumps({"id": "copy", "text": shipped.text}, ensure_ascii=False) + "\n"
    assert cli("ingest", "--source", "market", "-", stdin=line).code == 0
    db = open_database(cli.url)
    with db.session() as session:
        post = session.scalar(select(Post.id).where(Post.external_id == "copy"))
    record_label(db, post, "alice", [])
    data = training_data(db)
    db.dispose()
    assert data.replaced == 1
    assert [e.labels for e in data.examples if e.text == shipped.text] == [()]
    assert data.version != _active(cli.url)
