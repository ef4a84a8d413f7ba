"""Alembic, run from code: the migrations ship inside the package, no alembic.ini needed.

The embedded SQLite database upgrades itself on first use; a shared PostgreSQL
database is upgraded only on purpose (`doxwatch db upgrade`), because several
installations may point at it and an operator should choose when its schema moves.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from monitor.db.engine import Database, DatabaseError, mask_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """An Alembic configuration pointing at our migrations, optionally bound to ``connection``."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this version of doxwatch expects."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise DatabaseError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def revision_of(connection: Connection) -> str | None:
    """The revision the database behind ``connection`` is at; None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(db: Database) -> str | None:
    """The revision ``db`` is at; None for an empty database."""
    with db.engine.connect() as connection:
        return revision_of(connection)


def upgrade_connection(connection: Connection) -> str:
    """Upgrade the database behind ``connection`` to head, in its transaction; return head."""
    command.upgrade(alembic_config(connection), "head")
    return head_revision()


def check_revision(connection: Connection, url: str) -> None:
    """Raise DatabaseError unless the database is at the revision this code expects."""
    current, head = revision_of(connection), head_revision()
    if current != head:
        raise DatabaseError(
            f"database {mask_url(url)} is at revision {current or 'none (empty)'}, "
            f"expected {head}: run `doxwatch db upgrade`"
        )
