"""What a digest says, built by ``run_digest`` from stored posts: the period and its totals
beside the previous digest's, reposts collapsed and marked known across digests, sellers
with their linked handles, severity order and the cap, the empty period, and old stored
digests the outbox still sends.

Posts are stored with their judgement directly (the classifier is not what is tested here).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from alerts.digest import SCHEMA_VERSION, Digest
from alerts.render import render_text
from models.predict import Judgement
from monitor.config import ChannelConfig, Config, DigestConfig
from monitor.db import Database, open_database
from monitor.db.schema import Delivery, DigestPost, DigestRecord, Entity, Post, Prediction, Source
from monitor.digest import in_timezone, preview_digest, run_digest

VERSION = "test-v1"
T0 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
AD = "出户籍 开房记录 轨迹定位 机主三网 一单300U 担保交易 飞机@box_seller01 秒出 价格私聊"
MEDICAL = "医保记录 就诊记录 住院记录 精准出 1-2天出单 每条1200元 薇 yb_check_2"
FACE = "代过人脸 活体认证 真人视频 秒过 不过退款 私聊"
BOT = "社工库机器人上线 手机号反查 身份证反查 QQ反查 签到送积分 充值联系 @sgk_support"
# another seller's ad on AD's template: the opening copied, the rest its own (Jaccard 0.35)
SAME_TEMPLATE = "出户籍 开房记录 轨迹定位 机主三网 一单300U 担保交易 另出病历 住院记录 体检报告 薇 yb_check_2 当天出"
DOXXING = {"medical": 0.05, "doxxing": 0.93, "biometric": 0.02}
MEDICAL_SCORES = {"medical": 0.91, "doxxing": 0.3, "biometric": 0.0}
FACE_SCORES = {"medical": 0.0, "doxxing": 0.2, "biometric": 0.88}


@dataclass
class Seeder:
    db: Database
    count: int = 0

    def post(self, text: str, *, source: str = "forum", day: float = 0,
             scores: dict[str, float] | None = None, contacts: Sequence[tuple[str, str]] = (),
             title: str | None = None, judged: bool = True) -> int:
        """Store a flagged post first seen ``day`` days after T0, with its contacts."""
        self.count += 1
        scores = scores or DOXXING
        with self.db.session() as session:
            row = session.scalar(select(Source).where(Source.name == source))
            if row is None:
                row = Source(name=source, kind="generic", urls=[], options={}, schedule="")
                session.add(row)
                session.flush()
            seen = T0 + timedelta(days=day)
            post = Post(source_id=row.id, external_id=f"p{self.count}", title=title, text=text,
                        url=f"https://{source}.invalid/{self.count}", first_seen_at=seen,
                        fetched_at=seen, updated_at=seen, posted_at=seen - timedelta(hours=1),
                        text_hash=hashlib.sha256(text.encode()).hexdigest())
            session.add(post)
            session.flush()
            if judged:
                session.add(Prediction(post_id=post.id, model_version=VERSION, scores=scores,
                                       labels=[c for c, s in scores.items() if s >= 0.5],
                                       is_offer=True, terms=[["户籍", 1.2], ["开房", 0.8]]))
            for kind, value in contacts:
                session.add(Entity(post_id=post.id, kind=kind, value=value))
            return post.id


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'watch.db'}")
    yield database
    database.dispose()


def _config(**digest: object) -> Config:
    return Config(path=None, database_url="", digest=DigestConfig(**digest))  # type: ignore[arg-type]


def _digest(db: Database, day: float, config: Config | None = None) -> Digest | None:
    return run_digest(config or _config(), db, VERSION, env={},
                      now=T0 + timedelta(days=day)).digest


def _stored(db: Database, digest_id: int) -> Digest:
    """The digest as the outbox sends it: read back from the stored payload."""
    with db.session() as session:
        return Digest.from_dict(session.get_one(DigestRecord, digest_id).payload)


# --- reposts --------------------------------------------------------------------------------


def test_reposts_with_small_edits_are_one_entry_saying_how_often_and_where(db_url: str) -> None:
    db = open_database(db_url, upgrade=True)
    seed = Seeder(db)
    first = seed.post(AD, source="forum", day=0.1)
    seed.post(AD.replace("300U", "350U"), source="tg-market", day=0.2)
    seed.post("【置顶】🔥" + AD + " ✅", source="forum", day=0.3)
    seed.post(BOT, source="forum", day=0.4)
    seed.post(MEDICAL, source="tg-market", day=0.5, scores=MEDICAL_SCORES)

    built = _digest(db, 1)

    assert built is not None
    digest = _stored(db, built.id)
    assert (digest.total_posts, digest.cluster_count, digest.count) == (5, 3, 3)
    [repost] = [e for e in digest.entries if e.cluster and e.cluster.posts > 1]
    assert repost.cluster.id == first and repost.cluster.posts == 3
    assert repost.cluster.sources == (("forum", 2), ("tg-market", 1))
    assert not repost.cluster.known and repost.cluster.first_seen_at == T0 + timedelta(days=0.1)
    assert "3 posts in this period: forum 2, tg-market 1" in render_text(digest)
    with db.session() as session:
        rows = session.execute(select(Post.id, Post.cluster_id, Post.simhash)
                               .order_by(Post.id)).all()
        assert session.scalar(select(func.count()).select_from(DigestPost)) == 5
    assert [cluster for _, cluster, _ in rows] == [first, first, first, rows[3][0], rows[4][0]]
    assert all(sketch is not None for *_, sketch in rows)
    db.dispose()


def test_a_repost_in_a_later_digest_is_marked_known_with_its_first_sighting(db: Database) -> None:
    seed = Seeder(db)
    first = seed.post(AD, day=0.1)
    seed.post(AD.replace("300U", "320U"), day=0.5)
    _digest(db, 1)
    seed.post(AD.replace("box_seller01", "box_seller02"), source="tg-market", day=7.2)
    seed.post(BOT, day=7.3)

    built = _digest(db, 8)

    digest = _stored(db, built.id)
    known = {e.cluster.id: e.cluster for e in digest.entries}
    assert known[first].known and known[first].earlier_posts == 2
    assert known[first].first_seen_at == T0 + timedelta(days=0.1)
    assert not known[max(known)].known
    assert digest.known_clusters == 1 and digest.cluster_count == 2
    text = render_text(in_timezone(digest, "Asia/Shanghai"))
    assert "KNOWN: seen before, first on 2026-11-01 (2 earlier posts)" in text
    assert text.count("[NEW]") == 1


def test_different_ads_are_not_collapsed(db: Database) -> None:
    seed = Seeder(db)
    for number, text in enumerate((AD, BOT, MEDICAL, FACE, SAME_TEMPLATE)):
        seed.post(text, day=0.1 * (number + 1))

    digest = _digest(db, 1)

    assert digest.cluster_count == digest.total_posts == 5
    assert all(e.cluster.posts == 1 for e in digest.entries)


# --- sellers --------------------------------------------------------------------------------


def test_sellers_have_counts_sources_first_and_last_seen_and_linked_handles(db: Database) -> None:
    seed = Seeder(db)
    # an earlier digest saw the WeChat handle already
    seed.post(MEDICAL, day=-20, scores=MEDICAL_SCORES, contacts=[("wechat", "yb_check_2")])
    _digest(db, -19)
    # this period: QQ and Telegram together; Telegram and WeChat together; a lone handle
    seed.post(AD, source="forum", day=0.1, contacts=[("qq", "10001"), ("telegram", "@box_seller01")])
    seed.post(MEDICAL, source="tg-market", day=0.6, scores=MEDICAL_SCORES,
              contacts=[("telegram", "@box_seller01"), ("wechat", "yb_check_2")])
    seed.post(FACE, source="tieba", day=0.4, scores=FACE_SCORES, contacts=[("qq", "777777")])
    seed.post(BOT, source="forum", day=0.2)  # no contact

    digest = _stored(db, _digest(db, 1).id)

    assert digest.seller_count == 2
    linked, alone = digest.sellers
    handles = {(h.kind, h.value): h for h in linked.handles}
    assert set(handles) == {("qq", "10001"), ("telegram", "@box_seller01"), ("wechat", "yb_check_2")}
    assert linked.posts == 2 and linked.sources == ("forum", "tg-market")
    telegram = handles[("telegram", "@box_seller01")]
    assert telegram.posts == 2 and telegram.sources == ("forum", "tg-market")
    assert telegram.first_seen_at == T0 + timedelta(days=0.1)
    assert telegram.last_seen_at == T0 + timedelta(days=0.6)
    wechat = handles[("wechat", "yb_check_2")]
    assert wechat.posts == 1  # in this period
    assert wechat.first_seen_at == T0 - timedelta(days=20)  # first seen before it
    assert linked.first_seen_at == T0 - timedelta(days=20)
    assert linked.last_seen_at == T0 + timedelta(days=0.6)
    assert linked.handles[0].value == "@box_seller01"  # most posts first
    assert [(h.kind, h.value, h.posts, h.sources) for h in alone.handles] == [
        ("qq", "777777", 1, ("tieba",))]


def test_the_sellers_kept_are_those_with_most_posts(db: Database) -> None:
    seed = Seeder(db)
    for number in range(5):
        seed.post(f"{BOT} 第{number}批", day=0.1, contacts=[("qq", "555555")])
    seed.post(AD, day=0.2, contacts=[("qq", "111111")])
    seed.post(MEDICAL, day=0.3, scores=MEDICAL_SCORES, contacts=[("qq", "222222")])

    digest = _digest(db, 1, _config(max_entries=2))

    assert digest.seller_count == 3
    assert [s.handles[0].value for s in digest.sellers] == ["555555", "222222"]  # then latest


# --- totals, change, order, cap --------------------------------------------------------------


def test_totals_per_category_and_the_change_since_the_previous_digest(db: Database) -> None:
    seed = Seeder(db)
    seed.post(AD, day=0.1)
    seed.post(BOT, day=0.2)
    seed.post(MEDICAL, day=0.3, scores=MEDICAL_SCORES)
    first = _stored(db, _digest(db, 1).id)
    seed.post(AD.replace("300U", "333U"), day=1.1)
    seed.post(FACE, day=1.2, scores=FACE_SCORES)
    seed.post(FACE + " 加急", day=1.3, scores=FACE_SCORES)

    second = _stored(db, _digest(db, 2).id)

    assert first.totals == {"medical": 1, "doxxing": 2, "biometric": 0}
    assert first.previous_totals is None and first.change is None
    assert second.totals == {"medical": 0, "doxxing": 1, "biometric": 2}
    assert second.previous_totals == first.totals
    assert second.change == {"medical": -1, "doxxing": -1, "biometric": 2}
    assert second.since == T0 + timedelta(days=1)
    text = render_text(second)
    assert "Doxxing lookups / 开盒查档: 1 (−1)" in text and "人脸数据: 2 (+2)" in text


def test_the_change_is_also_reckoned_from_a_digest_stored_before_totals_existed(
    db: Database,
) -> None:
    with db.session() as session:
        session.add(DigestRecord(created_at=T0, entry_count=3, text="",
                                 payload={"counts": {"doxxing": 3}, "entries": []}))
    Seeder(db).post(AD, day=0.5)

    digest = _digest(db, 1)

    assert digest.previous_totals == {"medical": 0, "doxxing": 3, "biometric": 0}
    assert digest.change == {"medical": 0, "doxxing": -2, "biometric": 0}


def test_entries_are_ordered_by_category_then_score_and_capped_all_counted(db: Database) -> None:
    seed = Seeder(db)
    face = seed.post(FACE, day=0.1, scores=FACE_SCORES)
    weak = seed.post(BOT, day=0.2, scores={"medical": 0.0, "doxxing": 0.61, "biometric": 0.0})
    strong = seed.post(AD, day=0.3, scores={"medical": 0.0, "doxxing": 0.99, "biometric": 0.0})
    medical = seed.post(MEDICAL, day=0.4, scores={"medical": 0.7, "doxxing": 0.95, "biometric": 0})
    seed.post(AD.replace("300U", "301U"), day=0.5, scores={"medical": 0, "doxxing": 0.5, "biometric": 0})

    built = _digest(db, 1, _config(max_entries=3))

    digest = _stored(db, built.id)
    # the MEDICAL post's highest-scoring label is doxxing, so that is its category; the
    # repriced AD is a repost of the strongest; the biometric ad is the one over the cap
    assert [e.post_id for e in digest.entries] == [strong, medical, weak]
    assert [e.category for e in digest.entries] == ["doxxing"] * 3
    assert digest.total_posts == 5 and digest.cluster_count == 4 and digest.hidden == 1
    assert digest.rest_command == \
        "doxwatch posts list --flagged --until 2026-11-02T09:00:00+08:00 -n 5"
    with db.session() as session:
        held = set(session.scalars(select(DigestPost.post_id).where(
            DigestPost.digest_id == built.id)))
        record = session.get_one(DigestRecord, built.id)
        assert record.entry_count == 5 and "1 more is not shown" in record.text
    assert face in held and len(held) == 5  # not shown, still in the digest: never sent twice
    assert _digest(db, 2) is None  # nothing waits for the next digest


def test_the_rest_command_lists_the_period_s_posts(db: Database) -> None:
    seed = Seeder(db)
    seed.post(AD, day=0.1)
    _digest(db, 1)
    for number, text in enumerate((BOT, MEDICAL, FACE)):
        seed.post(text, day=1.1 + number / 10)

    digest = _digest(db, 2, _config(max_entries=1))

    # exactly the period: first seen after the previous digest, until this one
    command = ("doxwatch posts list --flagged --since 2026-11-02T09:00:00+08:00 "
               "--until 2026-11-03T09:00:00+08:00 -n 3")
    assert digest.rest_command == command
    assert f"Showing the 1 most severe ad; 2 more are not shown. All of them: {command}" \
        in render_text(digest)


def test_categories_come_in_order_medical_doxxing_biometric(db: Database) -> None:
    seed = Seeder(db)
    face = seed.post(FACE, day=0.1, scores=FACE_SCORES)
    dox = seed.post(AD, day=0.2)
    medical = seed.post(MEDICAL, day=0.3, scores=MEDICAL_SCORES)

    digest = _digest(db, 1)

    assert [e.post_id for e in digest.entries] == [medical, dox, face]


# --- the empty period -------------------------------------------------------------------------


def test_an_empty_period_is_one_line_when_sent_and_nothing_otherwise(db: Database) -> None:
    Seeder(db).post(AD, day=0.1)
    _digest(db, 1)

    assert _digest(db, 2) is None  # send_empty = false: nothing stored, nothing sent
    empty = _digest(db, 3, _config(send_empty=True))

    assert empty is not None and empty.total_posts == 0
    with db.session() as session:
        text = session.get_one(DigestRecord, empty.id).text
    assert text == "doxwatch digest: no new offers since 2026-11-02 09:00+08:00.\n"


# --- the outbox and the preview -----------------------------------------------------------------


def test_a_digest_stored_in_the_old_shape_is_still_delivered(db: Database, tmp_path: Path) -> None:
    old_payload = {
        "id": 1, "created_at": T0.isoformat(), "since": None, "count": 1,
        "counts": {"doxxing": 1},
        "entries": [{"post_id": 1, "category": "doxxing", "labels": ["doxxing"],
                     "source": "forum", "url": "https://forum.invalid/1", "title": "出户籍",
                     "posted_at": None, "excerpt": AD, "scores": DOXXING,
                     "terms": ["户籍"], "entities": [{"kind": "qq", "value": "10001"}]}],
    }
    with db.session() as session:
        record = DigestRecord(created_at=T0, entry_count=1, text="old", payload=old_payload)
        session.add(record)
        session.flush()
        session.add(Delivery(digest_id=record.id, channel="folder", status="failed",
                             attempts=1, created_at=T0, updated_at=T0))
    folder = tmp_path / "out"
    config = Config(path=None, database_url="", channels=(
        ChannelConfig("folder", "file", {"path": str(folder), "formats": ["json", "txt"]}),))

    report = run_digest(config, db, VERSION, env={}, now=T0 + timedelta(days=1))

    assert [(d.digest_id, d.status) for d in report.deliveries] == [(1, "sent")]
    sent = json.loads((folder / "digest-1.json").read_text(encoding="utf-8"))
    assert sent["schema_version"] == SCHEMA_VERSION and sent["entries"][0]["cluster"] is None
    assert sent["total_posts"] == 1 and sent["previous_totals"] is None
    assert "10001" in (folder / "digest-1.txt").read_text(encoding="utf-8")


class _Judge:
    """A stand-in classifier: every post is a doxxing offer."""

    version = VERSION

    def predict_one(self, text: str) -> Judgement:
        return Judgement(("doxxing",), dict(DOXXING), True, (("户籍", 1.0),))


def test_the_preview_collapses_reposts_and_writes_nothing(db: Database) -> None:
    seed = Seeder(db)
    seed.post(AD, day=0.1, judged=False)
    seed.post(AD.replace("300U", "310U"), source="tg-market", day=0.2, judged=False)
    seed.post(BOT, day=0.3)

    preview = preview_digest(_config(), db, _Judge(), now=T0 + timedelta(days=1))  # type: ignore[arg-type]

    assert preview.total_posts == 3 and preview.cluster_count == 2
    assert preview.created_at.utcoffset() == timedelta(hours=8)
    repost = next(e for e in preview.entries if e.cluster.posts == 2)
    assert repost.cluster.first_seen_at.utcoffset() == timedelta(hours=8)
    assert ("telegram", "@box_seller01") in repost.entities  # extracted in memory
    with db.session() as session:
        assert session.scalar(select(func.count()).where(Post.simhash.is_not(None))) == 0
        assert session.scalar(select(func.count()).select_from(DigestRecord)) == 0


def test_times_are_shown_in_the_team_s_timezone(db: Database) -> None:
    seed = Seeder(db)
    seed.post(AD, day=0.1, contacts=[("qq", "10001")])

    digest = in_timezone(_stored(db, _digest(db, 1).id), "Asia/Shanghai")

    assert digest.entries[0].cluster.first_seen_at.isoformat() == "2026-11-01T11:24:00+08:00"
    assert digest.sellers[0].last_seen_at.isoformat() == "2026-11-01T11:24:00+08:00"
    assert digest.sellers[0].handles[0].first_seen_at.utcoffset() == timedelta(hours=8)
