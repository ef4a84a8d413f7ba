"""Small queries that several commands share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.db.schema import Source

if TYPE_CHECKING:
    from monitor.config import SourceConfig


def get_or_create_source(session: Session, source_config: SourceConfig) -> Source:
    """The row for a configured source, created or brought in line with the configuration.

    The configuration is the truth about a source; the row exists so posts and crawl
    runs have something to point at, and so `doxwatch status` can show what was
    watched even after a source leaves the file.
    """
    source = session.scalars(select(Source).where(Source.name == source_config.name)).first()
    wanted = {
        "kind": source_config.kind,
        "urls": list(source_config.urls),
        "options": dict(source_config.options),
        "schedule": source_config.schedule,
        "enabled": source_config.enabled,
    }
    if source is None:
        source = Source(name=source_config.name, **wanted)
        session.add(source)
    else:
        for field, value in wanted.items():
            if getattr(source, field) != value:
                setattr(source, field, value)
    session.flush()
    return source


def upsert_insert(dialect_name: str, model: Any) -> Any:
    """An INSERT for ``model`` that can say ``ON CONFLICT`` (DO NOTHING / DO UPDATE) on the
    dialect in use: the one way to write a row that several processes may race to write."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect_name == "postgresql" else sqlite).insert(model)
