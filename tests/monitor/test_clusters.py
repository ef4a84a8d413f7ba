"""Reposts: near-duplicate detection, and clusters that persist across digests."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.compose_offers import compose_offer
from monitor import clusters
from monitor.cluster_text import FEATURE_CHARS, Features
from monitor.clusters import (
    THRESHOLD,
    cluster_posts,
    jaccard,
    same_ad,
    shingles,
    similarity,
    sketch,
    store_clusters,
    to_signed,
)
from monitor.db import Database, open_database
from monitor.db.schema import Post, Source

AD = "出户籍 开房记录 轨迹定位 机主三网 一单300U 担保交易 飞机@box_seller01 秒出 价格私聊"
EDITS = {
    "another price": AD.replace("300U", "350U"),
    "emoji and a pinned tag": "【置顶】🔥" + AD + " ✅✅",
    "traditional characters": AD.replace("户籍", "戶籍").replace("开房记录", "開房記錄"),
    "another handle": AD.replace("box_seller01", "box_seller02"),
    "full-width digits, more spaces": AD.replace("300U", "３００Ｕ").replace(" ", "  "),
    "a phrase dropped": AD.replace("秒出 ", ""),
    "a word added": AD + " 诚信经营",
}
OTHER_ADS = {
    "another doxxing ad": "社工库机器人上线 手机号反查 身份证反查 QQ反查 签到送积分 充值联系 @sgk_support",
    "the same services in other words": "专业查档 户籍 开房 轨迹 机主 全国可查 当天出结果 联系QQ 123456789",
    "a medical ad": "医保记录 就诊记录 住院记录 精准出 1-2天出单 每条1200元 薇 yb_check_2",
}
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("edited", EDITS.values(), ids=EDITS.keys())
def test_a_repost_with_a_small_edit_is_the_same_ad(edited: str) -> None:
    assert similarity(AD, edited) >= THRESHOLD
    assert same_ad(AD, edited)


# Another seller's ad on the same template: the opening copied, the rest its own.
SAME_TEMPLATE = "出户籍 开房记录 轨迹定位 机主三网 一单300U 担保交易 另出病历 住院记录 体检报告 薇 yb_check_2 当天出"


@pytest.mark.parametrize("other", OTHER_ADS.values(), ids=OTHER_ADS.keys())
def test_a_different_ad_is_not(other: str) -> None:
    assert similarity(AD, other) < 0.2
    assert not same_ad(AD, other)


def test_an_ad_that_only_shares_a_template_is_not_the_same_ad() -> None:
    assert 0.3 <= similarity(AD, SAME_TEMPLATE) < THRESHOLD
    assert not same_ad(AD, SAME_TEMPLATE)


def test_the_sketch_of_a_text_never_changes() -> None:
    """Sketches are stored: a change to the features or the hash constants would make every
    stored sketch stop matching new ones, so it must be deliberate (and migrate them)."""
    assert sketch(AD) == 0xC71FFF148AD15463
    assert sketch(EDITS["traditional characters"]) == sketch(AD)


def test_sketches_fit_the_signed_bigint_column() -> None:
    for value in (0, 1, 2**63 - 1, 2**63, 2**64 - 1):
        stored = to_signed(value)
        assert -(2**63) <= stored < 2**63 and stored & (2**64 - 1) == value


def test_bitmaps_measure_jaccard_closely() -> None:
    rng = random.Random(5)
    texts = [compose_offer(rng).text for _ in range(400)]
    grams = shingles([clusters.feature_text(text) for text in texts])
    bitmaps = grams.bitmaps()
    errors = []
    for i in range(0, 400, 2):
        a, b = grams.set_of(i), grams.set_of(i + 1)
        errors.append(jaccard(bitmaps[i], bitmaps[i + 1]) - len(a & b) / len(a | b))
    errors += [jaccard(bitmaps[i], bitmaps[i]) - 1.0 for i in range(0, 400, 7)]
    assert max(abs(e) for e in errors) < 0.1
    assert abs(sum(errors) / len(errors)) < 0.02


def test_a_long_post_is_compared_on_its_beginning() -> None:
    long_one = AD + " 料" * 5000
    assert clusters.feature_text(long_one) == clusters.feature_text(long_one[:FEATURE_CHARS])


# --- clustering posts in the database ------------------------------------------------------


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'watch.db'}")
    yield database
    database.dispose()


def _add(db: Database, texts: list[str], *, day: int = 0) -> list[int]:
    with db.session() as session:
        source = session.scalar(select(Source).where(Source.name == "forum"))
        if source is None:
            source = Source(name="forum", kind="generic", urls=[], options={}, schedule="")
            session.add(source)
            session.flush()
        posts = [Post(source_id=source.id, external_id=hashlib.sha1(f"{day}{n}{t}".encode()).hexdigest(),
                      text=t, text_hash="x", first_seen_at=T0 + timedelta(days=day))
                 for n, t in enumerate(texts)]
        session.add_all(posts)
        session.flush()
        return [post.id for post in posts]


def _cluster(db: Database, ids: list[int], *, store: bool = True) -> clusters.Clustering:
    with db.session() as session:
        texts = dict(session.execute(select(Post.id, Post.text).where(Post.id.in_(ids))).all())
        found = cluster_posts(session, [(post_id, texts[post_id]) for post_id in ids])
        if store:
            store_clusters(session, found)
    return found


def test_a_cluster_is_named_after_its_first_post_and_stored(db: Database) -> None:
    ids = _add(db, [AD, *OTHER_ADS.values(), *EDITS.values()])

    found = _cluster(db, ids)

    first, others, edits = ids[0], ids[1:4], ids[4:]
    assert {found.cluster_of[post_id] for post_id in edits} == {first}
    assert [found.cluster_of[post_id] for post_id in others] == others
    assert found.known == frozenset()
    with db.session() as session:
        stored = dict(session.execute(select(Post.id, Post.cluster_id)).all())
        sketches = dict(session.execute(select(Post.id, Post.simhash)).all())
    assert stored == found.cluster_of
    assert sketches[first] == to_signed(sketch(AD))


def test_a_repost_of_an_earlier_digest_s_ad_joins_its_cluster_and_is_known(db: Database) -> None:
    first_ids = _add(db, [AD, OTHER_ADS["a medical ad"]])
    _cluster(db, first_ids)
    later_ids = _add(db, [EDITS["another handle"], OTHER_ADS["another doxxing ad"]], day=7)

    found = _cluster(db, later_ids)

    assert found.cluster_of[later_ids[0]] == first_ids[0]
    assert found.cluster_of[later_ids[1]] == later_ids[1]
    assert found.known == frozenset(first_ids)


def test_earlier_posts_counts_what_earlier_digests_had(db: Database) -> None:
    first_ids = _add(db, [AD, EDITS["another price"]])
    _cluster(db, first_ids)

    with db.session() as session:
        assert clusters.earlier_posts(session, [first_ids[0], 999]) == {first_ids[0]: (2, T0)}


def test_clusters_are_never_merged_or_renumbered(db: Database) -> None:
    """Two ads stored apart stay apart even when a later post resembles both: it joins the
    oldest, and the ids that were sent stay valid."""
    a = "出户籍 开房记录 轨迹定位 机主三网 担保交易 价格私聊 飞机@box_seller01"
    b = "出户籍 开房记录 轨迹定位 机主三网 一单300U 秒出 当天出单 全国可查"
    first = _add(db, [a, b])
    _cluster(db, first)
    bridge = _add(db, ["出户籍 开房记录 轨迹定位 机主三网 担保交易 价格私聊 一单300U 秒出"], day=1)

    found = _cluster(db, bridge)

    with db.session() as session:
        stored = dict(session.execute(select(Post.id, Post.cluster_id)).all())
    assert stored[first[0]] == first[0] and stored[first[1]] == first[1]
    assert found.cluster_of[bridge[0]] in (first[0], first[1], bridge[0])


def test_a_post_clustered_before_but_new_again_is_not_its_own_candidate(db: Database) -> None:
    """A post whose digest was deleted comes back: it is clustered as new, not as known."""
    ids = _add(db, [AD])
    _cluster(db, ids)

    again = _cluster(db, ids, store=False)

    assert again.cluster_of == {ids[0]: ids[0]} and again.known == frozenset()


def test_clustering_generated_reposts_keeps_them_with_their_ad(db: Database) -> None:
    """200 generated ads and 100 reposts, each with one small edit, over two batches."""
    rng = random.Random(11)
    ads = ["\n".join(compose_offer(rng).text for _ in range(rng.choice((1, 2, 3))))
           for _ in range(200)]
    edits = [EDITS_FUNCTIONS[n % len(EDITS_FUNCTIONS)](ads[rng.randrange(200)], rng)
             for n in range(100)]
    first = _add(db, ads)
    _cluster(db, first[:150])
    second_batch = first[150:] + _add(db, [edited for _, edited in edits], day=1)
    found = _cluster(db, second_batch)

    with db.session() as session:
        cluster_of = dict(session.execute(select(Post.id, Post.cluster_id)).all())
    repost_ids = second_batch[50:]
    together = sum(cluster_of[post_id] == cluster_of[first[ads.index(original)]]
                   for post_id, (original, _) in zip(repost_ids, edits, strict=True))
    assert together >= 95  # measured: 100 of 100
    # different ads stay apart unless they really are near-duplicates of each other
    by_cluster: dict[int, list[int]] = {}
    for number, post_id in enumerate(first):
        by_cluster.setdefault(cluster_of[post_id], []).append(number)
    for members in by_cluster.values():
        for other in members[1:]:
            assert similarity(ads[members[0]], ads[other]) >= 0.3
    assert found.known  # the reposts of the first batch's ads found them


def _reprice(text: str, rng: random.Random) -> tuple[str, str]:
    import re

    return text, re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), text, count=1)


EDITS_FUNCTIONS = [
    lambda text, rng: (text, text),
    lambda text, rng: (text, "【置顶】" + text),
    lambda text, rng: (text, "🔥" + text + " ✅"),
    _reprice,
    lambda text, rng: (text, text + " 顶"),
]


# --- the helper process -----------------------------------------------------------------------


def test_a_helper_process_makes_the_same_features(monkeypatch) -> None:
    rng = random.Random(3)
    texts = [compose_offer(rng).text for _ in range(300)] * 2  # exact reposts too
    monkeypatch.setattr("monitor.cluster_text._cpus", lambda: 2)

    features = Features(texts, helper_from=100)

    assert features.helped
    assert features.result() == [clusters.feature_text(text) for text in texts]


def test_a_helper_that_fails_only_costs_time(monkeypatch) -> None:
    texts = [f"{AD} 第{n}号" for n in range(200)]
    monkeypatch.setattr("monitor.cluster_text._cpus", lambda: 2)
    monkeypatch.setattr("monitor.cluster_text.sys.executable", "/bin/false")

    features = Features(texts, helper_from=100)

    assert features.helped  # it started, and failed
    assert features.result() == [clusters.feature_text(text) for text in texts]


def test_few_texts_or_one_cpu_need_no_helper(monkeypatch) -> None:
    assert not Features([AD] * 10).helped
    monkeypatch.setattr("monitor.cluster_text._cpus", lambda: 1)
    assert not Features([f"{AD}{n}" for n in range(300)], helper_from=100).helped
