"""Digests for the alerts tests: invented offers (not seed sentences) and hostile variants."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from alerts.digest import Cluster, Digest, DigestEntry, Handle, Seller

SHANGHAI = timezone(timedelta(hours=8))
CREATED = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
SINCE = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)


def make_entry(post_id: int = 1, category: str = "doxxing", **fields: Any) -> DigestEntry:
    values: dict[str, Any] = {
        "post_id": post_id,
        "category": category,
        "labels": (category,),
        "source": "forum",
        "url": f"http://127.0.0.1:8800/forum/thread-{post_id}.html",
        "title": f"代查户籍 全国可查 {post_id}",
        "posted_at": datetime(2026, 11, 22, 21, 30, tzinfo=SHANGHAI),
        "excerpt": "户籍 机主 轨迹 都能查，一单 1200 元，1-2 天出单，QQ 10001 详聊",
        "scores": {"medical": 0.04, "doxxing": 0.93, "biometric": 0.02},
        "terms": ("查档", "户籍", "出单"),
        "entities": (("qq", "10001"), ("price", "1200元"), ("turnaround", "1-2天")),
    }
    values.update(fields)
    return DigestEntry(**values)


def sample_digest(digest_id: int | None = 42) -> Digest:
    """Three entries given out of category order, one of them carrying two labels."""
    biometric = make_entry(
        3, "biometric", title="代过人脸 活体认证", scores={"medical": 0.0, "doxxing": 0.3,
                                                     "biometric": 0.88},
        entities=(("wechat", "face_pass"),),
    )
    medical = make_entry(
        2, "medical", labels=("medical", "doxxing"), title="医院内部 病历 住院记录 可出",
        scores={"medical": 0.91, "doxxing": 0.55, "biometric": 0.01}, terms=("病历",),
        entities=(("telegram", "@med_rec"), ("price", "800元")),
    )
    doxxing = make_entry(1)
    return Digest(digest_id, CREATED, (biometric, medical, doxxing), since=SINCE)


def hostile_digest() -> Digest:
    """Titles, excerpts and URLs written by someone who wants to run code in the reader."""
    script = make_entry(
        1,
        title="<script>alert('t')</script> 查档",
        excerpt="<img src=x onerror=alert(1)> [点我](javascript:alert(1)) **粗体**\n# 假标题",
        url='http://127.0.0.1/post?a=1"onmouseover="alert(1)',
    )
    javascript = make_entry(2, title="[click](javascript:alert(2))", url="javascript:alert(2)")
    control = make_entry(3, title="line\x1b[2J\u202eone\nFAKE: header", url="data:text/html,x")
    return Digest(7, CREATED, (script, javascript, control), since=SINCE)


def empty_digest(since: datetime | None = SINCE) -> Digest:
    return Digest(8, CREATED, (), since=since)


def with_entries(digest: Digest, *entries: DigestEntry) -> Digest:
    return replace(digest, entries=entries)


EARLIER = datetime(2026, 11, 1, 10, 15, tzinfo=SHANGHAI)
REST = "doxwatch posts list --flagged -n 12"


def rich_digest() -> Digest:
    """A digest with everything: a repost cluster seen on two sources, an ad an earlier digest
    had, sellers with linked handles, totals and the previous digest's, ads over the cap and a
    broken source."""
    repost = make_entry(
        1, cluster=Cluster(id=1, posts=3, sources=(("forum", 2), ("tg-market", 1)),
                           first_seen_at=datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI)))
    known = make_entry(
        4, "medical", title="医保记录 就诊记录 精准出", labels=("medical",),
        scores={"medical": 0.97, "doxxing": 0.1, "biometric": 0.0}, terms=("医保", "就诊"),
        entities=(("wechat", "yb_check_2"), ("price", "1200元")), source="tg-market",
        url="https://t.me/s/market/4",
        cluster=Cluster(id=2, posts=1, sources=(("tg-market", 1),), first_seen_at=EARLIER,
                        known=True, earlier_posts=5))
    face = make_entry(
        5, "biometric", title="代过人脸 活体认证", labels=("biometric",),
        scores={"medical": 0.0, "doxxing": 0.2, "biometric": 0.81},
        entities=(("telegram", "@face_pass"),),
        cluster=Cluster(id=5, posts=1, sources=(("forum", 1),),
                        first_seen_at=datetime(2026, 11, 22, 12, 0, tzinfo=SHANGHAI)))
    linked = Seller(
        handles=(Handle("qq", "10001", 3, ("forum", "tg-market"), EARLIER,
                        datetime(2026, 11, 22, 20, 0, tzinfo=SHANGHAI)),
                 Handle("telegram", "@box_seller01", 1, ("tg-market",),
                        datetime(2026, 11, 22, 20, 0, tzinfo=SHANGHAI),
                        datetime(2026, 11, 22, 20, 0, tzinfo=SHANGHAI))),
        posts=3, sources=("forum", "tg-market"), first_seen_at=EARLIER,
        last_seen_at=datetime(2026, 11, 22, 20, 0, tzinfo=SHANGHAI))
    alone = Seller(
        handles=(Handle("wechat", "yb_check_2", 1, ("tg-market",), EARLIER,
                        datetime(2026, 11, 22, 11, 0, tzinfo=SHANGHAI)),),
        posts=1, sources=("tg-market",), first_seen_at=EARLIER,
        last_seen_at=datetime(2026, 11, 22, 11, 0, tzinfo=SHANGHAI))
    return Digest(
        42, CREATED, (known, repost, face), since=SINCE,
        broken_sources=(("tieba-x", "no posts in the last 3 crawls"),),
        totals={"medical": 2, "doxxing": 9, "biometric": 1},
        previous_totals={"medical": 4, "doxxing": 6, "biometric": 1},
        cluster_count=7, known_clusters=2, sellers=(linked, alone), seller_count=25,
        rest_command=REST)


def hostile_rich_digest() -> Digest:
    """Scraped text in the new places: cluster sources and seller handles."""
    evil = "<img src=x onerror=alert(1)>"
    entry = make_entry(1, cluster=Cluster(id=1, posts=2, sources=((evil, 1), ("[x](javascript:1)", 1)),
                                          first_seen_at=CREATED))
    seller = Seller(handles=(Handle("telegram", f"@{evil}", 1, (evil,), CREATED, CREATED),
                             Handle("qq", "**10001**", 1, ("forum",), CREATED, CREATED)),
                    posts=1, sources=(evil,), first_seen_at=CREATED, last_seen_at=CREATED)
    return Digest(9, CREATED, (entry,), since=SINCE, sellers=(seller,))
