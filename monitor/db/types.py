"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no time-zone-aware timestamp: a naive value goes in and comes out, and
comparing it with an aware ``datetime`` raises ``TypeError``. ``UTCDateTime``
stores UTC on every dialect and always returns an aware UTC ``datetime``, so the
rest of the code never has to ask which database it is talking to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Now, aware, in UTC: the only clock the database sees."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and returned aware on every dialect."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite stores the text form; keep it naive there so every row has one format
        # and string comparison orders correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)
