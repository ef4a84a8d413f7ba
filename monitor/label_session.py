"""One analyst's labelling session: the queue, the current post, and what each key does.

The commands of `doxwatch label` act on a :class:`LabelSession`: the line mode reads them
from standard input, and a full-screen mode is to drive the same object, so both behave
alike.
Each save is its own transaction: quitting at any moment leaves every saved label saved
and nothing half-written.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from models import CATEGORIES
from monitor.db import Database
from monitor.label_leases import Leases
from monitor.labels import QueueEntry, label_queue, record_label, undo_label
from monitor.posts import PostDetail, show_post
from monitor.terminal import printable

KEYS = {
    "1 2 3": "save as medical, doxxing, biometric (several together: 13)",
    "0": "save as benign",
    "a": "accept the model's suggestion",
    "s": "skip this post",
    "u": "undo the last label",
    "n TEXT": "add a note to this post's label",
    "?": "help",
    "q": "quit (saved labels stay saved)",
}

GUIDELINE = """\
Label what the post OFFERS to supply (sell, look up, deliver, rent access to,
teach for money), not the words it uses. docs/labelling.md has it in full.
  1 medical    another person's health data: records, insurance, check-ups
  2 doxxing    who someone is, where, what they own: 户籍 定位 开房 流水 反查
  3 biometric  face data; getting past face, liveness, fingerprint, voice
  0 benign     news, warnings, victims, buyers, one's own records, laws
An offer needs no price or handle ("我这边能弄，私我"); a report quoting a
price is still a report."""


@dataclass
class LabelSession:
    """Where an analyst is in the queue, and the labels this session saved (for undo).

    With ``leases`` (``--exclusive``) the session only ever shows a post it holds: posts
    other sessions hold are passed over, and each post is given back once it is labelled
    or skipped, and all of them on :meth:`close`.
    """

    db: Database
    analyst: str
    queue: list[QueueEntry]
    leases: Leases | None = None
    position: int = 0
    note: str | None = None
    saved: list[tuple[int, int]] = field(default_factory=list)  # (label id, queue position)
    skipped: int = 0
    held_elsewhere: int = 0  # posts passed over because another session held them
    _renewed: float = field(default=0.0, init=False, repr=False)  # time.monotonic()

    def __post_init__(self) -> None:
        self._settle()

    @property
    def done(self) -> bool:
        return self.position >= len(self.queue)

    @property
    def left(self) -> int:
        return max(0, len(self.queue) - self.position)

    @property
    def current(self) -> QueueEntry:
        return self.queue[self.position]

    def detail(self) -> PostDetail:
        return show_post(self.db, self.current.post_id)

    def save(self, labels: Iterable[str]) -> None:
        """Store ``labels`` (with the note, if any) for the current post, then move on."""
        chosen = set(labels)
        label_id = record_label(self.db, self.current.post_id, self.analyst,
                                [c for c in CATEGORIES if c in chosen], self.note)
        self.saved.append((label_id, self.position))
        self._advance()

    def renew(self) -> None:
        """Keep holding the post on screen (called at each key). The lease is pushed back
        once a quarter of its time has gone, not at every key, so keys stay instant."""
        if self.leases is None or self.done:
            return
        if time.monotonic() - self._renewed >= self.leases.ttl.total_seconds() / 4:
            self.leases.renew(self.current.post_id)
            self._renewed = time.monotonic()

    def close(self) -> None:
        """Give back whatever this session still holds."""
        if self.leases is not None:
            self.leases.release_all()

    def accept(self) -> None:
        self.save(self.current.suggestion)

    def skip(self) -> None:
        self.skipped += 1
        self._advance()

    def undo(self) -> bool:
        """Remove the last label this session saved and show its post again."""
        if not self.saved:
            return False
        label_id, position = self.saved.pop()
        undo_label(self.db, label_id)
        self.position = position
        self.note = None
        self._settle()
        return True

    def _advance(self) -> None:
        finished = self.current.post_id
        self.position += 1
        self.note = None
        self._settle(release=finished)

    def _settle(self, release: int | None = None) -> None:
        """With leases, move to the first post from here on that this session can hold
        (giving back ``release`` in the same step)."""
        if self.leases is None:
            return
        if self.done:
            if release is not None:
                self.leases.release(release)
            return
        rest = (entry.post_id for entry in islice(self.queue, self.position, None))
        held = self.leases.claim(rest, release=release)
        self._renewed = time.monotonic()
        start = self.position
        if held is None:
            self.position = len(self.queue)
        else:
            while self.queue[self.position].post_id != held:
                self.position += 1
        self.held_elsewhere += self.position - start


def open_session(db: Database, version: str, thresholds: Mapping[str, float], analyst: str,
                 leases: Leases | None = None, **queue_options: Any) -> LabelSession:
    """The analyst's queue (``monitor.labels.label_queue`` options) as a session.

    The queue is the bulk of what a labelling process holds and lives until it ends, so it
    is frozen out of the garbage collector: a full collection no longer walks it, which at
    100,000 posts was a 300 ms pause on a key press.
    """
    queue = label_queue(db, version, thresholds, analyst, **queue_options)
    gc.freeze()
    return LabelSession(db, analyst, queue, leases)


def run_line_mode(session: LabelSession, read: Callable[[], str | None],
                  write: Callable[[str], None]) -> None:
    """One line out per post, one command in per line, until the queue ends, ``q`` or EOF."""
    shown = None
    while not session.done:
        if shown != session.position:
            write(describe(session))
            shown = session.position
        command = read()
        if command is None or command.strip() == "q":
            break
        session.renew()
        try:
            message = _apply(session, command.strip())
        except ValueError as error:
            message = str(error)
        if message:
            write(message)
    write(summary(session))


def summary(session: LabelSession) -> str:
    """What the session did, shown when it ends."""
    held = (f", {session.held_elsewhere} passed over (another session had them)"
            if session.held_elsewhere else "")
    return (f"saved {len(session.saved)} labels, skipped {session.skipped}{held}, "
            f"{session.left} left in the queue")


def _apply(session: LabelSession, command: str) -> str | None:
    """Do what one typed line says; returns a message to show, if any."""
    if command in ("", "?"):
        return "keys: " + "; ".join(f"{key} {what}" for key, what in KEYS.items()) + "\n" \
            + GUIDELINE
    if command == "0":
        session.save(())
    elif command == "a":
        session.accept()
    elif command == "s":
        session.skip()
    elif command == "u":
        return None if session.undo() else "nothing to undo"
    elif command.startswith("n ") or command == "n":
        session.note = command[2:].strip() or None
        return f"note: {session.note}" if session.note else "note cleared"
    elif set(command) <= {"1", "2", "3"}:
        session.save({CATEGORIES[int(digit) - 1] for digit in command})
    else:
        raise ValueError(f"unknown command {command!r}; ? for help")
    return None


def describe(session: LabelSession) -> str:
    """The current post on one line: counter, id, source, time, title, model, text."""
    entry, post = session.current, session.detail()
    suggestion = ", ".join(entry.suggestion) or "benign"
    scores = " ".join(f"{c} {entry.scores.get(c, 0.0):.2f}" for c in CATEGORIES)
    when = (post.posted_at or post.first_seen)[:16].replace("T", " ")
    text = " ".join(post.text.split())
    parts = [f"[{session.position + 1}/{len(session.queue)}] post {post.id}", post.source, when]
    if post.title:
        parts.append(" ".join(post.title.split()))
    parts += [f"model: {suggestion} ({scores})", text[:300] + ("…" if len(text) > 300 else "")]
    if entry.terms:
        parts.append("terms: " + ", ".join(entry.terms[:6]))
    if post.url:
        parts.append(post.url)
    return printable(" · ".join(parts))
