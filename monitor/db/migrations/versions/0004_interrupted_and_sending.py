"""Two new states: a crawl run stopped by a signal is ``interrupted`` (neither ``ok`` nor
a crash), and a delivery being sent right now is ``sending``, so two processes that send
pending deliveries at the same moment cannot both take one. And a crawl run's ``owner``
(machine, pid, process start), so that a run its killed process left ``running`` is
recognised and marked failed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Written to match schema.py; tests/monitor/test_storage.py compares them. SQLite cannot
alter a CHECK constraint, so the tables are rebuilt there (Alembic's batch mode).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_CHECKS = {
    "crawl_runs": (("running", "ok", "partial", "failed"),
                   ("running", "ok", "partial", "failed", "interrupted")),
    "deliveries": (("pending", "sent", "failed"),
                   ("pending", "sending", "sent", "failed")),
}


def _one_of(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _replace_checks(which: int) -> None:
    for table, states in _CHECKS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_status"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_status"), _one_of(states[which]))


def upgrade() -> None:
    _replace_checks(1)
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("owner", sa.String(512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("owner")
    op.execute("UPDATE crawl_runs SET status = 'failed' WHERE status = 'interrupted'")
    op.execute("UPDATE deliveries SET status = 'pending' WHERE status = 'sending'")
    _replace_checks(0)
