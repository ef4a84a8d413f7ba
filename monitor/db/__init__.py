"""The database: SQLAlchemy 2 ORM (``schema``), Alembic migrations, sessions.

``open_database(url)`` is the one way in. It creates the engine, then brings the
schema to the revision this code expects: automatically for the embedded SQLite
(a user never has to think about it), by check only for a server database, where
`doxwatch db upgrade` moves the schema on purpose.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from monitor.db.engine import Database, DatabaseError, is_sqlite, make_engine, mask_url, parse_url
from monitor.db.migrate import check_revision, current_revision, head_revision, upgrade_connection
from monitor.db.queries import get_or_create_source

__all__ = [
    "Database",
    "DatabaseError",
    "current_revision",
    "get_or_create_source",
    "head_revision",
    "mask_url",
    "open_database",
    "upgrade_database",
]


def _first_line(error: BaseException) -> str:
    """The driver's own explanation, without SQLAlchemy's multi-line decoration."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def open_database(url: str, *, upgrade: bool | None = None) -> Database:
    """Open the database at ``url``.

    ``upgrade``: True migrates to head; None (the default) migrates SQLite and only
    checks any other database, raising DatabaseError if it is not at head; False does
    neither (for a process whose parent has just opened the same database) and only
    connects once. Connection failures become DatabaseError with one line naming the masked URL.
    """
    engine = make_engine(url)
    if upgrade is None and is_sqlite(parse_url(url)):
        upgrade = True
    try:
        with engine.begin() as connection:
            if upgrade:
                upgrade_connection(connection)
            elif upgrade is None:
                check_revision(connection, url)
    except DatabaseError:
        engine.dispose()
        raise
    except SQLAlchemyError as error:
        engine.dispose()
        raise DatabaseError(f"cannot open database {mask_url(url)}: {_first_line(error)}") from None
    return Database(url, engine)


def upgrade_database(url: str) -> str:
    """Migrate the database at ``url`` to head (`doxwatch db upgrade`); return the head revision."""
    open_database(url, upgrade=True).dispose()
    return head_revision()
