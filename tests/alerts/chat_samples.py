"""Digests for the chat channel tests: a big one (10,000 flagged posts, some of them at every
field's limit) and one written by someone who wants to post links and mentions to the chat."""

from __future__ import annotations

from alerts.digest import Digest, DigestEntry
from models import CATEGORIES
from tests.alerts.samples import CREATED, SINCE, make_entry

EVIL = "evil.example"


def big_entry(post_id: int) -> DigestEntry:
    """Mostly ordinary posts; every 97th carries a huge title, excerpt, URL and entity list."""
    category = CATEGORIES[post_id % len(CATEGORIES)]
    scores = {name: 0.05 for name in CATEGORIES}
    scores[category] = 0.5 + (post_id * 7919 % 500) / 1000  # varied, deterministic
    fields: dict[str, object] = {"scores": scores, "labels": (category,)}
    if post_id % 97 == 0:
        fields.update(
            title="代查户籍开房记录全国可查" * 30,
            excerpt="病历 住院记录 可出 " * 60,
            url=f"http://127.0.0.1:8800/forum/thread-{post_id}.html?q=" + "查" * 300,
            terms=tuple(f"术语{j}" for j in range(80)),
            entities=(("qq", str(10000 + post_id)), ("wechat", "seller_" + "x" * 300),
                      ("price", "1200元"), ("service", "查档" * 200), ("bank", "6222" * 50)),
        )
    elif post_id % 11 == 0:
        fields.update(title=None)  # the excerpt stands in for the title
    return make_entry(post_id, category, **fields)


def big_digest(count: int = 10_000) -> Digest:
    return Digest(99, CREATED, tuple(big_entry(i) for i in range(1, count + 1)), since=SINCE)


def strongest(digest: Digest, count: int) -> set[int]:
    """The post ids of the ``count`` entries with the highest score in their own category."""
    order = sorted(range(digest.count),
                   key=lambda i: (-digest.entries[i].scores[digest.entries[i].category], i))
    return {digest.entries[i].post_id for i in order[:count]}


# Each piece fits the smallest field caps (WeCom: 80-character titles, 100-character fields),
# so what is tested is the escaping, not the clipping.
HOSTILE_TITLE = "<!channel> <@U024BE7LH> @all [点我](http://evil.example/a) **粗体** `code`"
HOSTILE_EXCERPT = ('![x](http://evil.example/p.png) <font color="warning">假</font> '
                   "联系 https://evil.example/phish *bold* ~strike~ &lt;b&gt;")
HOSTILE_HANDLE = '<at user_id="all">所有人</at> <http://evil.example|Click>'
HOSTILE_URL = "http://127.0.0.1:8800/t?a=1)[evil](http://evil.example"


def hostile_chat_digest() -> Digest:
    injected = make_entry(1, title=HOSTILE_TITLE, excerpt=HOSTILE_EXCERPT, url=HOSTILE_URL,
                          entities=(("telegram", HOSTILE_HANDLE), ("qq", "<@U999> 10001")))
    scripted = make_entry(2, title="普通标题", url="javascript:alert(1)")
    sourced = make_entry(3, source="<!here>[src](http://evil.example)",
                         terms=("**查档**", '<font color="info">户籍</font>'))
    return Digest(7, CREATED, (injected, scripted, sourced), since=SINCE)
