"""Connecting to the database: one engine per process, sessions that commit or roll back.

SQLite is the embedded default and several processes use it at once (the scheduler,
a crawl child, a `doxwatch digest` run by hand), so every SQLite connection is
set up for that: WAL journal (readers never block the writer), foreign keys on
(SQLite leaves them off), and a 30-second busy timeout instead of failing at once
with "database is locked".
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import DoxwatchError, UsageProblem

SQLITE_BUSY_TIMEOUT_MS = 30_000
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


class DatabaseError(DoxwatchError):
    """The database cannot be used: bad URL, server unreachable, schema out of date."""


class DatabaseURLError(DatabaseError, UsageProblem):
    """A value that cannot name a database. It is the user's to fix (exit 2), unlike a server
    that does not answer; ``reason`` says what is wrong without the value, so a caller that
    knows where the value came from (``--db``, a config field) can say that instead."""

    def __init__(self, problem: str, url: str) -> None:
        self.reason = f"{problem} ({URL_EXAMPLES})"
        super().__init__(f"{problem}: {mask_url(url)} ({URL_EXAMPLES})")


URL_EXAMPLES = "e.g. sqlite:///watch.db, postgresql+psycopg://host/db"


def mask_url(url: str | URL) -> str:
    """``url`` with its password replaced by ``***``, fit for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return _PASSWORD_IN_URL.sub(r"\1***@", url)


def parse_url(url: str) -> URL:
    """The parsed URL, or a DatabaseURLError that says what is wrong with it.

    Checked whole here, before any engine is made: SQLAlchemy reports a port that is not a
    number as a bare ValueError, and an unknown ``scheme+driver`` only when the engine is
    created, as a plugin error; both read like a crash rather than a typo in the user's value.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseURLError("not a database URL", url) from None
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise DatabaseURLError(f"unknown kind of database {parsed.drivername!r}", url) from None
    return parsed


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: URL) -> Path | None:
    """The file behind an SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings (see the module docstring for why)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _create_private(path: Path) -> None:
    """Create the SQLite file (and its directory) readable by its owner only: it holds
    what was scraped and who labelled it. SQLite gives its -wal and -shm files the
    database file's permissions."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(
            f"cannot create the directory of {path}: {error.strerror or error}"
        ) from None
    try:
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as error:
        raise DatabaseError(f"cannot create {path}: {error.strerror or error}") from None


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for an SQLite file, its directory is created first."""
    parsed = parse_url(url)
    if is_sqlite(parsed):
        path = sqlite_file(parsed)
        if path is not None:
            _create_private(path)
    try:
        engine = create_engine(parsed, pool_pre_ping=not is_sqlite(parsed))
    except ModuleNotFoundError as error:  # a known database whose driver is not installed
        raise DatabaseError(
            f"cannot use database {mask_url(parsed)}: {error} "
            "(for PostgreSQL install doxwatch[postgres])"
        ) from None
    if is_sqlite(parsed):
        event.listen(engine, "connect", _configure_sqlite)
    return engine


class Database:
    """An open database: its URL, its engine, and sessions bound to it."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        # Objects stay readable after commit: commands build reports from rows they
        # just wrote without a second round trip per attribute.
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (before exit, or before forking a child)."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"Database({mask_url(self.url)!r})"
