"""One analyst's labelling session: the queue, the current post, and what each key does.

The commands of `doxwatch label` act on a :class:`LabelSession`: the line mode reads them
from standard input, and a full-screen mode is to drive the same object, so both behave
alike.
Each save is its own transaction: quitting at any moment leaves every saved label saved
and nothing half-written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from models import CATEGORIES
from monitor.db import Database
from monitor.labels import QueueEntry, record_label, undo_label
from monitor.posts import PostDetail, show_post

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
Label what the post OFFERS to supply (sell, look up, deliver, rent access to, teach for
money), not the words it uses (docs/labelling.md is the full guideline):
  1 medical    another person's health data: records, insurance, check-ups, births
  2 doxxing    who someone is, where they are, what they have: 户籍 定位 开房 流水 反查
  3 biometric  face data; getting past face, liveness, fingerprint or voice checks
  0 benign     news, warnings, victims, buyers, one's own records, laws, other goods
An offer needs no price or handle ("我这边能弄，私我"); a report quoting a price is
still a report."""


@dataclass
class LabelSession:
    """Where an analyst is in the queue, and the labels this session saved (for undo)."""

    db: Database
    analyst: str
    queue: list[QueueEntry]
    position: int = 0
    note: str | None = None
    saved: list[tuple[int, int]] = field(default_factory=list)  # (label id, queue position)
    skipped: int = 0

    @property
    def done(self) -> bool:
        return self.position >= len(self.queue)

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
        return True

    def _advance(self) -> None:
        self.position += 1
        self.note = None


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
        try:
            message = _apply(session, command.strip())
        except ValueError as error:
            message = str(error)
        if message:
            write(message)
    write(f"saved {len(session.saved)} labels, skipped {session.skipped}, "
          f"{max(0, len(session.queue) - session.position)} left in the queue")


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
    return _CONTROL.sub("", " · ".join(parts))


# Scraped text is hostile: ESC and other control characters must not reach the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
