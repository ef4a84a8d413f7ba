"""A database URL that cannot be one is a usage error (exit 2) that says where it came from;
a server that does not answer is a failure (exit 1). Neither prints the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import closed_port
from tests.monitor.cli_helpers import run_cli, write_config

BAD_URLS = [
    "notaurl",
    "watch.db",
    "postgresql://watch:hunter2@host:notaport/db",
    "postgresl+psycopg://watch:hunter2@host/db",  # a typo in the kind of database
]


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "hunter2" not in err and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_db_option_exits_2_naming_the_option(capsys: pytest.CaptureFixture[str],
                                                   url: str) -> None:
    result = run_cli(capsys, "--db", url, "status")
    assert result.code == 2
    assert _one_line(result.err).startswith("Error: --db: ")


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_url_in_the_file_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path, url: str) -> None:
    config = write_config(tmp_path / "doxwatch.toml", f'[database]\nurl = "{url}"\n')
    result = run_cli(capsys, "--config", str(config), "status")
    assert result.code == 2
    line = _one_line(result.err)
    assert line.startswith(f"Error: {config}: database.url: ")
    # the value is not repeated from the file; a password there is refused on its own
    assert "notaport" not in line


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_url_in_the_environment_exits_2_naming_the_variable(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        url: str) -> None:
    monkeypatch.setenv("DOXWATCH_DATABASE_URL", url)
    config = write_config(tmp_path / "doxwatch.toml",
                          '[database]\nurl_env = "DOXWATCH_DATABASE_URL"\n')
    result = run_cli(capsys, "--config", str(config), "status")
    assert result.code == 2
    assert _one_line(result.err).startswith(
        f"Error: {config}: database.url_env: environment variable DOXWATCH_DATABASE_URL: ")


def test_an_unreachable_server_is_a_failure_not_a_usage_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql+psycopg://watch:hunter2@127.0.0.1:{closed_port()}/doxwatch"
    result = run_cli(capsys, "--db", url, "status")
    assert result.code == 1
    assert _one_line(result.err).startswith(
        "Error: cannot open database postgresql+psycopg://watch:***@127.0.0.1:")
