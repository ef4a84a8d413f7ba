"""One scheduler per database.

``run_forever`` holds a lock for as long as it runs (a PostgreSQL advisory lock; for
SQLite, an flock on ``<database file>.scheduler-lock``), released by the system if the
process dies, and a second ``doxwatch run`` on the same database refuses to start, naming
the first. ``doxwatch schedule`` asks who holds it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from monitor.db import Database
from monitor.db.engine import is_sqlite, parse_url, sqlite_file
from monitor.errors import DoxwatchError

log = logging.getLogger("doxwatch.scheduler")

LOCK_SUFFIX = ".scheduler-lock"
PG_LOCK_KEY = int.from_bytes(b"doxwrun\x00", "big")  # pg_try_advisory_lock(bigint)


class SchedulerBusy(DoxwatchError):
    """Another ``doxwatch run`` already schedules the jobs of this database."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        super().__init__(
            f"another `doxwatch run` already schedules the jobs of this database ({holder}); "
            "one scheduler per database: stop that one first")



@contextmanager
def scheduler_lock(db: Database) -> Iterator[None]:
    """Hold the database's scheduler lock for the block; SchedulerBusy if another process
    holds it. The system releases it when the holder dies (even by SIGKILL)."""
    url = parse_url(db.url)
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is None:  # in memory: no other process can see this database
            yield
            return
        with _file_lock(_lock_file(path)):
            yield
    elif url.get_backend_name() == "postgresql":
        with _advisory_lock(db):
            yield
    else:
        log.warning("%s: no scheduler lock for this database; run one scheduler only",
                    url.get_backend_name())
        yield


def scheduler_holder(db: Database) -> str | None:
    """Who runs the scheduler of this database now ("pid 12 on host since ..."), or None."""
    url = parse_url(db.url)
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is None or not _lock_file(path).exists():
            return None
        try:
            with _file_lock(_lock_file(path), record=False):
                return None
        except SchedulerBusy as busy:
            return busy.holder
    if url.get_backend_name() == "postgresql":
        try:
            with _advisory_lock(db, record=False):
                return None
        except SchedulerBusy as busy:
            return busy.holder
    return None


def _lock_file(database: Path) -> Path:
    return database.with_name(database.name + LOCK_SUFFIX)


def _me() -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()} since {started}"


@contextmanager
def _file_lock(path: Path, *, record: bool = True) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not a POSIX system: nothing to lock with
        log.warning("no file locking here: run one scheduler per database only")
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
            raise SchedulerBusy(holder or "a process on this machine") from None
        if record:
            os.ftruncate(fd, 0)
            os.pwrite(fd, _me().encode("utf-8"), 0)
        try:
            yield
        finally:
            if record:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _advisory_lock(db: Database, *, record: bool = True) -> Iterator[None]:
    """A session-level advisory lock on a connection of its own, held while the block runs;
    that connection is closed for good afterwards, which releases the lock."""
    connection = db.engine.connect()
    try:
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                 {"key": PG_LOCK_KEY}).scalar()
        if not got:
            holder = _pg_holder(connection)
            connection.rollback()
            raise SchedulerBusy(holder)
        if record:  # shows in pg_stat_activity, and in the message of a second run
            connection.execute(text("SELECT set_config('application_name', :me, false)"),
                               {"me": f"doxwatch run, {_me()}"[:63]})
        connection.commit()  # the lock is the session's: no transaction stays open
        yield
    finally:
        with suppress(SQLAlchemyError):
            connection.invalidate()  # the session ends: lock released, nothing pooled
        connection.close()


def _pg_holder(connection: Any) -> str:
    row = connection.execute(text(
        "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid::bigint = :high AND l.objid::bigint = :low "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
        {"high": PG_LOCK_KEY >> 32, "low": PG_LOCK_KEY & 0xFFFF_FFFF}).first()
    if row is None:
        return "a session of this PostgreSQL database"
    name, address, since = row
    if name and name.startswith("doxwatch run, "):
        return name.removeprefix("doxwatch run, ")
    where = f"from {address}" if address else "over a local socket"
    return f"a PostgreSQL session {where} since {since:%Y-%m-%d %H:%M:%S}"

