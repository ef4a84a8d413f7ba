"""The full-screen face of `doxwatch label`: one post at a time, one key per label.

It drives the same :class:`LabelSession` as the line mode, so the two store the same
labels for the same keys. Built with prompt_toolkit, which draws in any terminal of 80×24
or more, over SSH included. Everything it shows from a post passes :func:`printable`
first (scraped text is hostile), and prompt_toolkit's fragments are plain text, so a post
cannot inject markup either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from prompt_toolkit.application import Application
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.filters import Condition
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import (
    BufferControl,
    ConditionalContainer,
    FormattedTextControl,
    HSplit,
    Layout,
    ScrollbarMargin,
    Window,
)
from prompt_toolkit.styles import Style
from prompt_toolkit.utils import get_cwidth

from models import CATEGORIES
from monitor.label_session import GUIDELINE, KEYS, LabelSession, summary
from monitor.terminal import printable

Fragments = list[tuple[str, str]]

STYLE = Style.from_dict({
    "header": "reverse",
    "meta": "#888888",
    "title": "bold",
    "term": "bold underline #ffaf00",
    "flagged": "bold #ff5f5f",
    "chosen": "reverse bold",
    "keys": "#888888",
    "message": "bold #5fafff",
})

SCREEN_KEYS = {
    "1 2 3": "toggle medical, doxxing, biometric",
    "Enter": "save the selection (nothing selected: benign)",
    **{key: what for key, what in KEYS.items() if key not in ("1 2 3", "n TEXT")},
    "n": "note for this post's label (Enter keeps it, Esc drops it)",
    "↑ ↓ PgUp PgDn": "scroll a long post",
}


class LabelScreen:
    """The screen's state beyond the session: the keys toggled, the note being typed,
    the last message, whether help is open, and how far a long post is scrolled."""

    def __init__(self, session: LabelSession, heading: str) -> None:
        self.session = session
        self.heading = heading
        self.selection: set[str] = set()
        self.message = ""
        self.help_shown = False
        self.scroll = 0
        self.note_input = Buffer(multiline=False)
        self.noting = False
        self._detail_for: tuple[int, object] | None = None  # (post id, its PostDetail)
        self.app = Application(layout=self._layout(), key_bindings=self._keys(),
                               style=STYLE, full_screen=True, mouse_support=False)

    def run(self) -> None:
        self.app.run()

    # --- what is shown ------------------------------------------------------------------

    def _detail(self):
        """The current post's details, read once per post: a redraw costs no query."""
        post_id = self.session.current.post_id
        if self._detail_for is None or self._detail_for[0] != post_id:
            self._detail_for = (post_id, self.session.detail())
        return self._detail_for[1]

    def _header(self) -> Fragments:
        session = self.session
        total = len(session.queue)
        counter = "done" if session.done else f"{session.position + 1}/{total}"
        done = session.position / total if total else 1.0
        bar = "█" * round(done * 10) + "░" * (10 - round(done * 10))
        line = (f" {self.heading} · {counter} {bar} {done:.0%} · saved {len(session.saved)}"
                f" · skipped {session.skipped}")
        return [("class:header", printable(line).ljust(self._width()))]

    def _meta(self) -> Fragments:
        if self.session.done:
            return []
        post = self._detail()
        when = (post.posted_at or post.first_seen)[:16].replace("T", " ")
        parts = [f"post {post.id}", post.source, when]
        if post.author:
            parts.append(post.author)
        if post.url:
            parts.append(post.url)
        width = self._width()
        line: Fragments = [("class:meta", fit(printable(" · ".join(parts)), width))]
        if post.title:
            line += [("", "\n"),
                     ("class:title", fit(printable(" ".join(post.title.split())), width))]
        return line

    def _body(self) -> Fragments:
        width = self._width() - 1  # the scrollbar's column
        if self.help_shown:
            text = "\n".join(f"{key:>13}  {what}" for key, what in SCREEN_KEYS.items())
            return _join(_wrap([("", text + "\n\n" + GUIDELINE)], width))
        if self.session.done:
            return [("class:message", "The queue is finished: " + summary(self.session)
                     + ".\nu undoes the last label, q quits.")]
        post = self._detail()
        lines = _wrap(highlight(printable(post.text, keep_newlines=True),
                                self.session.current.terms), width)
        self.scroll = min(self.scroll, len(lines) - 1)
        return _join(lines)

    def _model(self) -> Fragments:
        if self.session.done:
            return []
        entry, post = self.session.current, self._detail()
        line: Fragments = [("", "model: ")]
        for category in CATEGORIES:
            style = "class:flagged" if category in entry.suggestion else ""
            line.append((style, f"{category} {entry.scores.get(category, 0.0):.2f}  "))
        line.append(("", "→ " + (", ".join(entry.suggestion) or "benign")))
        width = self._width()
        words = [term for term in entry.terms if not term.startswith("<")]
        terms = "terms: " + (", ".join(words[:8]) or "none")
        entities = "entities: " + (" · ".join(f"{kind} {value}" for kind, value in post.entities)
                                   or "none")
        line.append(("class:meta", "\n" + fit(printable(terms), width)))
        line.append(("", "\n" + fit(printable(entities), width)))
        return line

    def _selection(self) -> Fragments:
        line: Fragments = []
        for number, category in enumerate(CATEGORIES, start=1):
            chosen = category in self.selection
            line += [("class:chosen" if chosen else "", f"[{number}] {category}"), ("", "  ")]
        choice = [c for c in CATEGORIES if c in self.selection]
        line.append(("", "Enter saves: " + (", ".join(choice) or "benign")))
        if self.session.note:
            line.append(("class:meta", "  note: " + printable(self.session.note)))
        return line

    def _footer(self) -> Fragments:
        if self.message:
            return [("class:message", printable(self.message))]
        return [("class:keys", "1-3 pick  Enter save  0 benign  a accept  s skip  "
                               "u undo  n note  ? help  q quit")]

    def _width(self) -> int:
        return self.app.output.get_size().columns

    def _layout(self) -> Layout:
        noting = Condition(lambda: self.noting)
        body = Window(FormattedTextControl(self._body, focusable=True), wrap_lines=False,
                      get_vertical_scroll=lambda _window: self.scroll,
                      right_margins=[ScrollbarMargin(display_arrows=False)])
        self._body_window = body
        return Layout(HSplit([
            Window(FormattedTextControl(self._header), height=1),
            Window(FormattedTextControl(self._meta), height=2),
            body,
            Window(char="─", height=1),
            Window(FormattedTextControl(self._model), height=3),
            Window(FormattedTextControl(self._selection), height=1, wrap_lines=True),
            ConditionalContainer(
                Window(BufferControl(self.note_input), height=1,
                       get_line_prefix=lambda *_: "note> "), filter=noting),
            Window(FormattedTextControl(self._footer), height=1),
        ]), focused_element=body)

    # --- what each key does ---------------------------------------------------------------

    def _keys(self) -> KeyBindings:
        keys = KeyBindings()
        browsing = Condition(lambda: not self.noting)
        labelling = Condition(lambda: not self.noting and not self.session.done)

        def act(*names: str, when=labelling):
            def register(handler):
                for name in names:
                    keys.add(name, filter=when)(self._acting(handler))
                return handler
            return register

        for number, category in enumerate(CATEGORIES, start=1):
            act(str(number))(lambda _event, c=category: self._toggle(c))
        act("enter")(lambda _event: self._save(self.selection))
        act("0")(lambda _event: self._save(()))
        act("a")(lambda _event: self._save(self.session.current.suggestion))
        act("s")(lambda _event: self._skip())
        act("n")(lambda _event: self._start_note())
        act("u", when=browsing)(lambda _event: self._undo())
        act("?", when=browsing)(lambda _event: self._toggle_help())
        act("up", when=browsing)(lambda _event: self._scroll(-1))
        act("down", when=browsing)(lambda _event: self._scroll(1))
        act("pageup", when=browsing)(lambda _event: self._scroll(-10))
        act("pagedown", when=browsing)(lambda _event: self._scroll(10))

        @keys.add("q", filter=browsing)
        @keys.add("c-c")
        def _quit(event: KeyPressEvent) -> None:
            event.app.exit()

        @keys.add("enter", filter=Condition(lambda: self.noting))
        def _keep_note(_event: KeyPressEvent) -> None:
            self.session.note = self.note_input.text.strip() or None
            self.message = f"note: {self.session.note}" if self.session.note else "note cleared"
            self._end_note()

        @keys.add("escape", filter=Condition(lambda: self.noting), eager=True)
        def _drop_note(_event: KeyPressEvent) -> None:
            self.message = "note not changed"
            self._end_note()

        return keys

    def _acting(self, handler):
        """Every action: clear the last message, keep the lease, report a failure."""
        def run(event: KeyPressEvent) -> None:
            self.message = ""
            try:
                self.session.renew()
                handler(event)
            except Exception as error:  # shown, not fatal: saved labels are safe
                self.message = f"error: {error}"
        return run

    def _toggle(self, category: str) -> None:
        self.selection ^= {category}

    def _save(self, labels: Iterable[str]) -> None:
        self.session.save(labels)
        self._next_post()

    def _skip(self) -> None:
        self.session.skip()
        self._next_post()

    def _undo(self) -> None:
        if self.session.undo():
            self.message = "last label undone"
            self._next_post()
        else:
            self.message = "nothing to undo"

    def _next_post(self) -> None:
        self.selection = set()
        self.scroll = 0
        self.help_shown = False

    def _toggle_help(self) -> None:
        self.help_shown = not self.help_shown
        self.scroll = 0

    def _scroll(self, lines: int) -> None:
        self.scroll = max(0, self.scroll + lines)

    def _start_note(self) -> None:
        self.noting = True
        self.note_input.text = self.session.note or ""
        self.app.layout.focus(self.note_input)

    def _end_note(self) -> None:
        self.noting = False
        self.note_input.reset()
        self.app.layout.focus(self._body_window)


def highlight(text: str, terms: Sequence[str]) -> Fragments:
    """``text`` cut into fragments, the model's terms marked (longest first, any case)."""
    wanted = sorted({term for term in terms if term.strip()}, key=len, reverse=True)
    if not wanted:
        return [("", text)]
    pattern = re.compile("|".join(re.escape(term) for term in wanted), re.IGNORECASE)
    fragments: Fragments = []
    last = 0
    for match in pattern.finditer(text):
        fragments += [("", text[last:match.start()]), ("class:term", match.group())]
        last = match.end()
    fragments.append(("", text[last:]))
    return [fragment for fragment in fragments if fragment[1]]


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns (CJK counts two), with … where it was cut."""
    if get_cwidth(text) <= width:
        return text
    used, kept = 1, []
    for char in text:
        used += get_cwidth(char)
        if used > width:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _wrap(fragments: Fragments, width: int) -> list[Fragments]:
    """Fragments broken into screen lines of at most ``width`` columns (CJK counts two),
    so scrolling moves by the lines the analyst sees."""
    lines: list[Fragments] = [[]]
    used = 0
    for style, text in fragments:
        for char in text:
            if char == "\n":
                lines.append([])
                used = 0
                continue
            size = get_cwidth(char)
            if used + size > max(width, 10):
                lines.append([])
                used = 0
            line = lines[-1]
            if line and line[-1][0] == style:
                line[-1] = (style, line[-1][1] + char)
            else:
                line.append((style, char))
            used += size
    return lines


def _join(lines: list[Fragments]) -> Fragments:
    joined: Fragments = []
    for number, line in enumerate(lines):
        if number:
            joined.append(("", "\n"))
        joined += line
    return joined
