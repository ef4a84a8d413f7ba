"""Analysts' labels: recording them with their history, and the queue of posts to label.

Every label is a new row (analyst, categories, note, time); nothing is overwritten, so the
history of a post's labels is kept and the latest row per (post, analyst) is that analyst's
current view. Undo removes the row the session itself just wrote, nothing older.

The queue is built once per session from the active model's stored predictions, as a list
of post ids in order (cheap even for 100,000 posts); each post's details are read only
when it is shown, so the next post appears at once.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, delete, func, select

from models import CATEGORIES
from monitor.db import Database
from monitor.db.schema import Label, Post, Prediction, Source
from monitor.errors import UsageProblem

ORDERS = ("uncertain", "recent", "random", "disagree")


@dataclass(frozen=True)
class QueueEntry:
    """A post waiting for a label, with what the model said of it."""

    post_id: int
    scores: dict[str, float]
    suggestion: tuple[str, ...]  # the model's labels; () = benign
    terms: tuple[str, ...]
    margin: float  # distance of the nearest score to its category's threshold


def record_label(db: Database, post_id: int, analyst: str, labels: Sequence[str],
                 note: str | None = None) -> int:
    """Store one label; returns its id (for undo). UsageProblem for an unknown category or
    post, so a typo never becomes a label."""
    unknown = set(labels) - set(CATEGORIES)
    if unknown:
        raise UsageProblem(f"unknown categories {', '.join(sorted(unknown))}; "
                           f"expected some of {', '.join(CATEGORIES)}")
    ordered = [category for category in CATEGORIES if category in labels]
    with db.session() as session:
        if session.get(Post, post_id) is None:
            raise UsageProblem(f"no post with id {post_id}")
        label = Label(post_id=post_id, analyst=analyst, labels=ordered,
                      note=note or None, created_at=datetime.now(UTC))
        session.add(label)
        session.flush()
        return label.id


def undo_label(db: Database, label_id: int) -> None:
    """Remove a label this session wrote; earlier labels of the post stay as they were."""
    with db.session() as session:
        session.execute(delete(Label).where(Label.id == label_id))


def label_history(db: Database, post_id: int) -> list[tuple[str, tuple[str, ...], str | None]]:
    """(analyst, labels, note) of every label of a post, oldest first."""
    with db.session() as session:
        rows = session.execute(
            select(Label.analyst, Label.labels, Label.note).where(Label.post_id == post_id)
            .order_by(Label.created_at, Label.id)
        ).all()
        return [(analyst, tuple(labels), note) for analyst, labels, note in rows]


def label_queue(db: Database, version: str, thresholds: Mapping[str, float], analyst: str, *,
                order: str = "uncertain", source: str | None = None,
                since: datetime | None = None, category: str | None = None,
                limit: int | None = None, seed: int | None = None) -> list[QueueEntry]:
    """The posts ``analyst`` has not labelled, judged by model ``version``, in ``order``.

    ``uncertain``: closest to a decision threshold first. ``recent``: newest first.
    ``random``: shuffled (``seed`` for a repeatable order). ``disagree``: only posts whose
    latest labels by different analysts differ, or differ from the model's, most labelled
    first. ``category`` keeps posts the model flags for it or scores highest for it.
    """
    if order not in ORDERS:
        raise UsageProblem(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
    if category is not None and category not in CATEGORIES:
        raise UsageProblem(f"unknown category {category!r}; expected one of "
                           f"{', '.join(CATEGORIES)}")
    with db.session() as session:
        labelled_by_me = select(Label.post_id).where(Label.analyst == analyst)
        query = (
            select(Post.id, Post.first_seen_at, Prediction.scores, Prediction.labels,
                   Prediction.terms)
            .join(Prediction, and_(Prediction.post_id == Post.id,
                                   Prediction.model_version == version))
            .where(Post.id.not_in(labelled_by_me))
        )
        if source is not None:
            query = query.join(Source, Source.id == Post.source_id).where(Source.name == source)
        if since is not None:
            query = query.where(Post.first_seen_at >= since)
        rows = session.execute(query).all()
        disputed = _latest(session) if order == "disagree" else {}
    entries = [
        (first_seen, QueueEntry(
            post_id=post_id,
            scores=dict(scores),
            suggestion=tuple(labels or ()),
            terms=tuple(term for term, _ in terms or ()),
            margin=min(abs(scores[c] - thresholds[c]) for c in CATEGORIES),
        ))
        for post_id, first_seen, scores, labels, terms in rows
    ]
    if category is not None:
        entries = [(seen, e) for seen, e in entries if category in e.suggestion
                   or max(CATEGORIES, key=e.scores.__getitem__) == category]
    if order == "disagree":
        entries = [(seen, e) for seen, e in entries if _disagrees(disputed.get(e.post_id), e)]
        entries.sort(key=lambda pair: (-len(disputed[pair[1].post_id]), pair[1].post_id))
    elif order == "uncertain":
        entries.sort(key=lambda pair: (pair[1].margin, pair[1].post_id))
    elif order == "recent":
        entries.sort(key=lambda pair: (pair[0], pair[1].post_id), reverse=True)
    else:
        random.Random(seed).shuffle(entries)
    chosen = [entry for _, entry in entries]
    return chosen[:limit] if limit is not None else chosen


def latest_label_ids():
    """A subquery of the id of each analyst's latest label of each post (column ``id``):
    what every view of "the labels now" starts from, since history is kept."""
    return (select(func.max(Label.id).label("id"))
            .group_by(Label.post_id, Label.analyst).subquery())


def _latest(session) -> dict[int, dict[str, tuple[str, ...]]]:
    """Per post, each analyst's latest labels: ``{post_id: {analyst: labels}}``."""
    newest = latest_label_ids()
    rows = session.execute(
        select(Label.post_id, Label.analyst, Label.labels).join(newest, newest.c.id == Label.id)
    ).all()
    latest: dict[int, dict[str, tuple[str, ...]]] = {}
    for post_id, analyst, labels in rows:
        latest.setdefault(post_id, {})[analyst] = tuple(labels)
    return latest


def _disagrees(views: Mapping[str, tuple[str, ...]] | None, entry: QueueEntry) -> bool:
    """Analysts' latest labels differ from each other, or from the model's."""
    if not views:
        return False
    return len({*views.values(), entry.suggestion}) > 1


@dataclass(frozen=True)
class LabelStats:
    """What `doxwatch labels stats` shows: counts, agreement, and where analysts differ."""

    posts: int  # posts with at least one label
    per_category: dict[str, int]  # posts whose labels (any analyst's latest) include it
    benign: int
    per_analyst: dict[str, int]  # posts each analyst labelled
    shared: int  # posts more than one analyst labelled
    kappa: dict[str, float | None]  # Cohen's kappa per category over pairs of analysts
    disagreements: list[tuple[int, dict[str, tuple[str, ...]]]]


def label_stats(db: Database) -> LabelStats:
    """Counts per category and analyst from each analyst's latest label of each post, and,
    for posts several analysts labelled, Cohen's kappa per category over every pair of
    analysts of a post (None when one side never varies) and the list of disagreements."""
    from itertools import combinations

    from sklearn.metrics import cohen_kappa_score

    with db.session() as session:
        latest = _latest(session)
    per_category = {c: sum(1 for views in latest.values()
                           if any(c in labels for labels in views.values()))
                    for c in CATEGORIES}
    per_analyst: dict[str, int] = {}
    for views in latest.values():
        for analyst in views:
            per_analyst[analyst] = per_analyst.get(analyst, 0) + 1
    shared = {post: views for post, views in latest.items() if len(views) > 1}
    pairs = [(a, b) for views in shared.values()
             for (_, a), (_, b) in combinations(sorted(views.items()), 2)]
    kappa: dict[str, float | None] = {}
    for category in CATEGORIES:
        left = [category in a for a, _ in pairs]
        right = [category in b for _, b in pairs]
        varied = len(set(left) | set(right)) > 1
        kappa[category] = round(float(cohen_kappa_score(left, right)), 4) if varied else None
    return LabelStats(
        posts=len(latest),
        per_category=per_category,
        benign=sum(1 for views in latest.values() if not any(views.values())),
        per_analyst=dict(sorted(per_analyst.items())),
        shared=len(shared),
        kappa=kappa,
        disagreements=sorted((post, views) for post, views in shared.items()
                             if len(set(views.values())) > 1),
    )
