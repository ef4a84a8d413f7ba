"""What every command shares: the global options, the loaded configuration, the database."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console

from monitor.config import Config, load_config
from monitor.db import Database, open_database


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

    def reset(self, *, config_path: Path | None, db_url: str | None, debug: bool) -> None:
        """Fresh state for each invocation (tests call ``main`` many times in one process)."""
        self.config_path, self.db_url, self.debug = config_path, db_url, debug
        self._config = None

    def config(self) -> Config:
        if self._config is None:
            config = load_config(self.config_path)
            if self.db_url:
                config = replace(config, database_url=self.db_url)
            self._config = config
        return self._config

    def database(self) -> Database:
        return open_database(self.config().database_url)
