"""What every command shares: the global options, the loaded configuration, the database."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from rich.console import Console

from monitor.config import Config, load_config
from monitor.db import Database, open_database
from monitor.errors import UsageProblem


def out_console() -> Console:
    """A console for results; plain text when piped, so scripts can read it."""
    return Console(highlight=False, soft_wrap=True)


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class State:
    config_path: Path | None = None
    db_url: str | None = None
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)

    def reset(self, *, config_path: Path | None, db_url: str | None, debug: bool) -> None:
        """Fresh state for each invocation (tests call ``main`` many times in one process)."""
        self.config_path, self.db_url, self.debug = config_path, db_url, debug
        if self._database is not None:
            self._database.dispose()
        self._config = self._database = None

    def config(self) -> Config:
        if self._config is None:
            config = load_config(self.config_path)
            if self.db_url:
                config = replace(config, database_url=self.db_url)
            self._config = config
        return self._config

    def database(self) -> Database:
        """One database per invocation: opening it checks (or upgrades) the schema."""
        if self._database is None:
            self._database = open_database(self.config().database_url)
        return self._database


def open_input(name: str) -> TextIO:
    """A command's input: standard input for ``-``, else the named UTF-8 file."""
    if name == "-":
        return sys.stdin
    try:
        return open(name, encoding="utf-8")  # noqa: SIM115 - read lazily by the command
    except OSError as error:
        raise UsageProblem(f"cannot read {name}: {error.strerror}") from error
