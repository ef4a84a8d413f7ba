"""What every command shares: the global options, the loaded configuration, the database."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.console import Console

from monitor.config import Config, load_config
from monitor.db import Database, open_database
from monitor.db.engine import DatabaseURLError, parse_url
from monitor.errors import UsageProblem

if TYPE_CHECKING:  # the model stack loads only for commands that judge
    from models.predict import Classifier


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
    log_handler: logging.Handler | None = None  # set by ``main``: see ``stderr_log``
    _config: Config | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)

    def reset(self, *, config_path: Path | None, db_url: str | None, debug: bool) -> None:
        """Fresh state for each invocation (tests call ``main`` many times in one process)."""
        self.config_path, self.db_url, self.debug = config_path, db_url, debug
        if self._database is not None:
            self._database.dispose()
        self._config = self._database = None

    def config(self) -> Config:
        """The loaded configuration, ``--db`` in place of its database. ``--db`` is checked
        here, as the file's URL is when it is read, so a typo in it is a usage error (exit 2)
        that names the option, never a failure to connect."""
        if self._config is None:
            config = load_config(self.config_path)
            if self.db_url:
                try:
                    parse_url(self.db_url)
                except DatabaseURLError as error:
                    raise UsageProblem(f"--db: {error}") from None
                config = replace(config, database_url=self.db_url)
            self._config = config
        return self._config

    def checked_config(self) -> Config:
        """The configuration of a command that sends digests or reports on them (``run``,
        ``digest``, ``status``): every channel is built once first, so a secret missing
        from the environment stops the command now, not the digest hours later."""
        from monitor.digest import check_channels

        config = self.config()
        check_channels(config)
        return config

    def database(self) -> Database:
        """One database per invocation: opening it checks (or upgrades) the schema."""
        if self._database is None:
            self._database = open_database(self.config().database_url)
        return self._database

    def log_verbosely(self) -> None:
        """For the long-running ``run``: what each job did, with times (DEBUG with --debug)."""
        level = logging.DEBUG if self.debug else logging.INFO
        logging.getLogger().setLevel(level)
        if self.log_handler is not None:
            self.log_handler.setLevel(level)
            self.log_handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def classifier(self) -> Classifier:
        """The active model with the configuration's threshold offset applied."""
        from monitor.modelstore import configured_classifier

        return configured_classifier(self.config(), self.database())


@contextmanager
def stderr_log() -> Iterator[logging.Handler]:
    """Log records of WARNING and above as lines on stderr, for one invocation.

    How the library says what it did on its own (a model that would not load, replaced)
    without a return value threaded through every caller. ``run`` turns the same handler
    up to INFO. Removed afterwards: tests call ``main`` many times in one process.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def counted(number: int, noun: str) -> str:
    """``1 offer``, ``2 offers``: a count with its noun in the right number."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def open_input(name: str) -> TextIO:
    """A command's input: standard input for ``-``, else the named UTF-8 file.

    Bytes that are not UTF-8 are kept as surrogates (``surrogateescape``) rather than
    raising in the middle of the file: the line that holds them is reported as a bad line
    with its number (``monitor.ingest.undecodable``) and every other line still counts.
    """
    if name == "-":
        buffer = getattr(sys.stdin, "buffer", None)  # None: a text stream given by a caller
        return sys.stdin if buffer is None else io.TextIOWrapper(
            buffer, encoding="utf-8", errors="surrogateescape")
    try:
        # read lazily by the command
        return open(name, encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
    except OSError as error:
        raise UsageProblem(f"cannot read {name}: {error.strerror}") from error
