"""The file and stdout channels: digests on disk and on the terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from alerts.channels.file import FileChannel
from alerts.channels.stdout import StdoutChannel
from alerts.errors import DeliveryError, NotConfigured
from alerts.render import render_html, render_markdown, render_text
from tests.alerts.samples import sample_digest


def test_file_channel_writes_every_format_into_a_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "digests"
    channel = FileChannel("files", {"path": str(folder), "formats": ["html", "txt", "md", "json"]},
                          env={})

    channel.send(sample_digest())

    names = ["digest-42.html", "digest-42.txt", "digest-42.md", "digest-42.json"]
    assert channel.last_paths == tuple(folder / name for name in names)
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)  # no temporary leftovers
    digest = sample_digest()
    assert (folder / "digest-42.html").read_text(encoding="utf-8") == render_html(digest)
    assert (folder / "digest-42.txt").read_text(encoding="utf-8") == render_text(digest)
    assert (folder / "digest-42.md").read_text(encoding="utf-8") == render_markdown(digest)
    data = json.loads((folder / "digest-42.json").read_text(encoding="utf-8"))
    assert data == digest.to_dict()


def test_file_channel_defaults_to_html_and_text_and_names_unstored_digests_by_time(
    tmp_path: Path,
) -> None:
    channel = FileChannel("files", {"path": str(tmp_path)}, env={})

    channel.send(sample_digest(None))

    assert [p.name for p in channel.last_paths] == ["digest-20261123T010000.html",
                                                    "digest-20261123T010000.txt"]


def test_file_channel_replaces_a_previous_file_of_the_same_digest(tmp_path: Path) -> None:
    (tmp_path / "digest-42.txt").write_text("stale", encoding="utf-8")
    channel = FileChannel("files", {"path": str(tmp_path), "formats": ["txt"]}, env={})

    channel.send(sample_digest())

    assert (tmp_path / "digest-42.txt").read_text(encoding="utf-8") == render_text(sample_digest())


def test_file_channel_reports_an_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    channel = FileChannel("files", {"path": str(blocker / "digests")}, env={})

    with pytest.raises(DeliveryError, match="cannot write to .*not-a-folder/digests"):
        channel.send(sample_digest())
    assert channel.last_paths == ()


def test_file_channel_dry_run_writes_nothing(tmp_path: Path) -> None:
    channel = FileChannel("files", {"path": str(tmp_path / "out")}, env={}, dry_run=True)

    channel.send(sample_digest())

    assert not (tmp_path / "out").exists()
    assert channel.last_paths == ()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({}, "path"),
        ({"path": ""}, "path"),
        ({"path": "out", "formats": ["pdf"]}, "formats"),
        ({"path": "out", "formats": []}, "formats"),
        ({"path": "out", "formats": "html"}, "formats"),
        ({"path": "out", "formats": ["txt", "txt"]}, "formats"),
        ({"path": "out", "folder": "x"}, "folder"),
    ],
)
def test_file_channel_validate_names_the_bad_option(options: dict[str, Any], field: str) -> None:
    with pytest.raises(NotConfigured) as caught:
        FileChannel.validate(options)

    assert caught.value.field == field


def test_stdout_channel_prints_the_text_rendering(capsys: pytest.CaptureFixture[str]) -> None:
    StdoutChannel("terminal", {}, env={}).send(sample_digest())

    assert capsys.readouterr().out == render_text(sample_digest())


def test_stdout_channel_writes_markdown_to_a_given_stream() -> None:
    stream = io.StringIO()

    StdoutChannel("terminal", {"format": "markdown"}, env={}, stream=stream).send(sample_digest())

    assert stream.getvalue() == render_markdown(sample_digest())


def test_stdout_channel_dry_run_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    StdoutChannel("terminal", {}, env={}, dry_run=True).send(sample_digest())

    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("options", [{"format": "html"}, {"fmt": "text"}])
def test_stdout_channel_validate_rejects_bad_options(options: dict[str, Any]) -> None:
    with pytest.raises(NotConfigured) as caught:
        StdoutChannel.validate(options)

    assert caught.value.field in options
