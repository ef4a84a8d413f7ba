"""The docs keep up with the code: every command has help text and a README entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from monitor.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: typer.Typer, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    command = typer.main.get_command(group)
    for name, sub in command.commands.items():
        full = f"{prefix}{name}"
        if hasattr(sub, "commands"):
            found.extend((f"{full} {n}", c) for n, c in sub.commands.items())
        else:
            found.append((full, sub))
    return found


COMMANDS = _commands(app)


def test_the_issue_commands_all_exist():
    names = {name for name, _ in COMMANDS}
    assert {"init", "demo", "crawl", "ingest", "classify", "digest", "run", "posts list",
            "posts show", "status", "db upgrade", "models list", "models activate"} <= names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_has_help_and_a_readme_entry(name, command):
    assert (command.help or "").strip(), f"{name} has no help text"
    assert re.search(rf"`doxwatch {re.escape(name)}\b", README), f"{name} is not in the README"


def test_readme_starts_with_the_two_commands():
    head = README[: README.index("## Watching real sources")]
    assert "doxwatch demo" in head
    assert "python -m pytest" in head


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    command = re.search(r"```sh\n(python3 -m venv .venv && .*pytest)\n```", README).group(1)
    assert command in ci
