"""A file channel's folder is found where the configuration's author put it: a relative path
is relative to the config file (as the SQLite file's is), not to the current directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from tests.monitor.cli_helpers import run_cli, write_config


def _file_channel_config(directory: Path, path: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return write_config(directory / "doxwatch.toml", f"""
[database]
url = "sqlite:///watch.db"

[digest]
send_empty = true

[[channels]]
name = "folder"
kind = "file"
path = "{path}"
formats = ["txt"]
""")


def test_the_digest_file_lands_beside_the_config_whatever_the_current_directory(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        classifier: object) -> None:
    config = _file_channel_config(tmp_path / "conf", "digests")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    result = run_cli(capsys, "--config", str(config), "digest")

    assert result.code == 0, result.err
    assert len(list((tmp_path / "conf" / "digests").glob("digest-*.txt"))) == 1
    assert (tmp_path / "conf" / "watch.db").is_file()  # where the SQLite file is, too
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(("written", "expected"), [
    ("digests", "{base}/digests"),
    ("../shared/digests", "{base}/../shared/digests"),
    ("/var/lib/doxwatch/digests", "/var/lib/doxwatch/digests"),
    ("~/digests", "{home}/digests"),
])
def test_a_file_channel_path_is_resolved_like_the_sqlite_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, expected: str) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    config = load_config(_file_channel_config(tmp_path / "conf", written), env={})
    base = (tmp_path / "conf").resolve()
    assert config.channel("folder").options["path"] == expected.format(base=base, home=home)
    assert config.database_url == f"sqlite:///{base / 'watch.db'}"
