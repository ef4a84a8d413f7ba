"""Running the real ``doxwatch`` entry point in-process, as a user's shell would."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.cli import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str, stdin: str = "") -> CliResult:
    """Call ``main`` with ``args`` and return its exit status and what it printed."""
    capsys.readouterr()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.stdin = saved
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def forum_pages(posts: dict[str, tuple[str, str]]) -> dict[str, str]:
    """A one-page forum: path -> HTML, with the selectors of the issue's example config."""
    links = "".join(f'<a class="thread" href="{path}">{title}</a>'
                    for path, (title, _) in posts.items())
    pages = {"/forum/": f"<html><body>{links}</body></html>"}
    for path, (title, text) in posts.items():
        pages[path] = (f'<html><head><meta charset="utf-8"></head><body><h1>{title}</h1>'
                       f'<div class="post">{text}</div></body></html>')
    return pages


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def ingest_config(tmp_path: Path, channels: str) -> Path:
    """A configuration for posts brought in with ``doxwatch ingest``: an SQLite file, one
    source that is never crawled, and the given channel tables."""
    return write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "sqlite:///{tmp_path / 'watch.db'}"

[[sources]]
name = "elsewhere"
kind = "feed"
urls = ["http://127.0.0.1:9/feed.xml"]
{channels}""")
