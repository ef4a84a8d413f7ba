"""`doxwatch train`: the shipped data plus the analysts' labels make a new model, which
takes over only if it is not worse than the active one where it counts.

What the analysts' labels contribute, per post: each analyst's latest label of it; the
label set most analysts chose wins, and a post on which they split evenly is left out
(and reported) rather than guessed. A post's label replaces a shipped example of the same
text (same normalised-text hash as ingest uses), since the analyst saw it in the market.

The new model is judged beside the active one on every shipped evaluation set (the
held-out split, the held-out real texts, the blind set). It is worse if, on any set, its
macro F1 falls or its false-positive rate rises by more than :data:`TOLERANCE`: a change
of one text in two hundred is noise a retrain may cause either way, more is a regression.
Those sets are never trained on, so a model tuned to them cannot pass this by memory.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from models.dataset import Example, evaluation_sets, load_dataset, shipped_dataset_path
from models.evaluate import evaluate
from models.predict import Classifier
from models.store import save
from models.train import Progress, model_version, train_examples
from monitor.classify import post_text
from monitor.db import Database
from monitor.db.schema import Label, Post
from monitor.ingest import text_hash
from monitor.labels import latest_label_ids
from monitor.modelstore import model_path, record_model

TOLERANCE = 0.005
ANALYST_GENRE = "analyst"


@dataclass(frozen=True)
class AnalystLabels:
    """What the analysts' labels add to the training data."""

    examples: list[Example]  # one per post they agree on, by post id
    label_ids: list[int]  # every label that went into those examples
    ties: list[int]  # posts left out: the analysts split evenly
    hashes: frozenset[str]  # the texts' hashes, to replace shipped examples of them


@dataclass(frozen=True)
class TrainingData:
    """The examples a retrain learns from, and the version they will give."""

    examples: list[Example]
    analyst: AnalystLabels
    replaced: int  # shipped examples an analyst's label replaced
    data_sha256: str

    @property
    def version(self) -> str:
        return model_version(self.data_sha256, seed=0)


@dataclass(frozen=True)
class Candidate:
    """A trained model and how it compares with the active one."""

    classifier: Classifier
    comparison: dict[str, tuple[dict, dict]]  # set -> (new figures, active figures)

    @property
    def regressions(self) -> list[str]:
        """Why it is worse than the active model; empty if it is not."""
        found = []
        for name, (new, active) in self.comparison.items():
            if new["macro_f1"] < active["macro_f1"] - TOLERANCE:
                found.append(f"{name}: macro F1 {active['macro_f1']:.3f} → {new['macro_f1']:.3f}")
            if new["false_positive_rate"] > active["false_positive_rate"] + TOLERANCE:
                found.append(f"{name}: false positives {active['false_positive_rate']:.2%} → "
                             f"{new['false_positive_rate']:.2%}")
        return found


def analyst_labels(db: Database) -> AnalystLabels:
    """The majority label of every labelled post (see the module docstring)."""
    newest = latest_label_ids()
    with db.session() as session:
        rows = session.execute(
            select(Label.id, Label.post_id, Label.labels, Post)
            .join(newest, newest.c.id == Label.id).join(Post, Post.id == Label.post_id)
            .order_by(Label.post_id, Label.id)
        ).all()
    votes: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
    posts: dict[int, Post] = {}
    for label_id, post_id, labels, post in rows:
        votes.setdefault(post_id, []).append((label_id, tuple(labels)))
        posts[post_id] = post
    examples, label_ids, ties, hashes = [], [], [], set()
    for post_id, cast in votes.items():
        ranked = Counter(labels for _, labels in cast).most_common()
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            ties.append(post_id)
            continue
        post = posts[post_id]
        examples.append(Example(text=post_text(post), labels=ranked[0][0], genre=ANALYST_GENRE,
                                origin=f"analyst:post-{post_id}"))
        label_ids += [label_id for label_id, _ in cast]
        hashes |= {post.text_hash, text_hash(post_text(post))}
    return AnalystLabels(examples, sorted(label_ids), ties, frozenset(hashes))


def training_data(db: Database) -> TrainingData:
    """The shipped examples, less those an analyst relabelled, plus the analysts' own."""
    shipped_path = shipped_dataset_path()
    labels = analyst_labels(db)
    everything = load_dataset(shipped_path)
    shipped = [example for example in everything if text_hash(example.text) not in labels.hashes]
    return TrainingData([*shipped, *labels.examples], labels, len(everything) - len(shipped),
                        _data_hash(shipped_path, labels))


def train_candidate(data: TrainingData, active: Classifier, *,
                    progress: Progress | None = None) -> Candidate:
    """Train on ``data`` and judge the result beside ``active`` on every evaluation set."""
    labels = data.analyst
    classifier = train_examples(
        data.examples, data.data_sha256, progress=progress,
        summary={"analyst_labels": len(labels.label_ids), "analyst_posts": len(labels.examples),
                 "label_ids": labels.label_ids, "ties": labels.ties,
                 "replaced_shipped": data.replaced})
    return Candidate(classifier, compare(classifier, active))


def _data_hash(shipped_path: Path, labels: AnalystLabels) -> str:
    """With no analyst labels, the hash of the shipped file itself, so the version is the
    one a fresh install trains; else that file followed by the analysts' examples."""
    digest = hashlib.sha256(shipped_path.read_bytes())
    for example in labels.examples:
        digest.update(json.dumps([example.text, example.labels], ensure_ascii=False).encode())
    return digest.hexdigest()


def compare(new: Classifier, active: Classifier) -> dict[str, tuple[dict, dict]]:
    """Each evaluation set's figures for the new model and for the active one."""
    return {name: (evaluate(new, path)["model"], evaluate(active, path)["model"])
            for name, path in evaluation_sets().items()}


def adopt(db: Database, candidate: Candidate, *, activate: bool) -> Path:
    """Save the candidate's file and record it, made active if ``activate``."""
    path = model_path(candidate.classifier.version)
    save(candidate.classifier, path)
    record_model(db, candidate.classifier, path, activate=activate)
    return path
