"""The full-screen labelling session in a real terminal: tmux runs `doxwatch label` in an
80×24 pane, the test types keys (send-keys) and reads the screen (capture-pane)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.db import open_database
from monitor.db.schema import Prediction
from tests.monitor.test_label import POSTS, _stored

pytestmark = [
    pytest.mark.usefixtures("classifier"),
    pytest.mark.skipif(shutil.which("tmux") is None and os.environ.get("CI") != "true",
                       reason="tmux is not installed"),
]

DOXWATCH = str(Path(sys.executable).with_name("doxwatch"))
READY = "1-3 pick"  # the key line at the foot of the screen


class Pane:
    """One tmux pane on a private tmux server, running one command."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"doxwatch-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
        # the shell stays after doxwatch exits, so its last screen can still be read
        script = f"env {exports} {shlex.join(command)}; echo EXITED $?; sleep 600"
        self._tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", script)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, check=True)
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self._tmux("send-keys", "-t", "t", key)
            time.sleep(0.15)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)

    def wait_for(self, pattern: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never appeared; the screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def seeded(tmp_path: Path) -> str:
    """An SQLite database holding POSTS, seeded by `doxwatch ingest` and classified."""
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    lines = "".join(json.dumps(post, ensure_ascii=False) + "\n" for post in POSTS)
    for args, stdin in ((["ingest", "--source", "tool", "-"], lines), (["classify"], "")):
        done = subprocess.run([DOXWATCH, "--db", url, *args], input=stdin, text=True,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return url


@pytest.fixture
def open_pane() -> Iterator:
    panes: list[Pane] = []

    def start(url: str, *args: str) -> Pane:
        env = {key: os.environ[key] for key in ("DOXWATCH_HOME", "DOXWATCH_MODELS_DIR", "PATH")}
        pane = Pane([DOXWATCH, "--db", url, "label", *args], {**env, "TERM": "xterm-256color"})
        panes.append(pane)
        return pane

    yield start
    for pane in panes:
        pane.close()


def _post_on_screen(screen: str) -> int:
    found = re.search(r"^post (\d+) · tool", screen, re.MULTILINE)
    assert found, f"no post on the screen:\n{screen}"
    return int(found.group(1))


def test_label_undo_note_skip_quit_and_resume_in_a_real_terminal(seeded, open_pane):
    pane = open_pane(seeded, "--analyst", "alice")
    screen = pane.wait_for(READY)
    assert " alice · uncertain · 1/5 " in screen
    assert "model: medical" in screen and "entities: " in screen
    assert max(len(line) for line in screen.splitlines()) <= 80
    first = _post_on_screen(screen)

    pane.keys("1", "3")  # toggled, nothing saved yet
    assert "Enter saves: medical, biometric" in pane.wait_for("Enter saves: medical, biom")
    assert _stored(seeded) == []
    pane.keys("Enter")
    second = _post_on_screen(pane.wait_for(r"· 2/5 "))
    assert second != first
    pane.keys("u")  # undo: the first post again, its label gone
    assert _post_on_screen(pane.wait_for("last label undone")) == first
    assert _stored(seeded) == []
    pane.keys("1", "Enter")
    assert _post_on_screen(pane.wait_for(r"· 2/5 ")) == second

    pane.keys("n")
    pane.wait_for("note>")
    pane.type("seen twice")
    pane.keys("Enter")
    assert "note: seen twice" in pane.wait_for("note: seen twice")
    pane.keys("0")
    third = _post_on_screen(pane.wait_for(r"· 3/5 "))
    pane.keys("?")
    assert "Label what the post OFFERS" in pane.wait_for("OFFERS")
    pane.keys("?", "s")
    fourth = _post_on_screen(pane.wait_for(r"· 4/5 "))
    pane.keys("q")
    pane.wait_for("saved 2 labels, skipped 1")
    pane.wait_for("EXITED 0")
    assert len({first, second, third, fourth}) == 4
    assert _stored(seeded) == [(first, "alice", ["medical"], None),
                               (second, "alice", [], "seen twice")]

    # resume: the labelled posts are gone from alice's queue, the skipped one is back
    again = open_pane(seeded, "--analyst", "alice")
    screen = again.wait_for(READY)
    assert " 1/3 " in screen
    shown = _post_on_screen(screen)
    assert shown not in (first, second)
    again.keys("a")
    again.wait_for(r"· 2/3 ")
    again.keys("q")
    again.wait_for("EXITED 0")
    db = open_database(seeded)
    with db.session() as session:
        suggestion = session.scalar(select(Prediction.labels).where(Prediction.post_id == shown))
    db.dispose()
    assert _stored(seeded)[-1] == (shown, "alice", suggestion, None)


def test_hostile_bytes_in_a_post_are_shown_as_text_not_obeyed(seeded, open_pane):
    """Post d holds an OSC 8 hyperlink escape. Were its ESC and BEL bytes passed through,
    tmux would obey them and show no "]8;;"; stripped, the rest is plain visible text."""
    pane = open_pane(seeded, "--analyst", "carol", "--order", "recent")
    screen = pane.wait_for(READY)
    for _ in range(5):
        if "lab_face" in screen:
            break
        pane.keys("s")
        screen = pane.wait_for(READY)
    assert "]8;;http://evil飞机@lab_face" in screen
