"""Immediate alerts: a digest may be one post sent at once (``digests.immediate``), and
each post considered for one is recorded, sent or suppressed and why
(``immediate_alerts``), so that none is alerted on twice.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Written to match schema.py; tests/monitor/test_storage.py compares them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digests") as batch:
        batch.add_column(sa.Column("immediate", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "immediate_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('sent', 'suppressed')",
                           name=op.f("ck_immediate_alerts_status")),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE",
                                name=op.f("fk_immediate_alerts_post_id_posts")),
        sa.ForeignKeyConstraint(["digest_id"], ["digests.id"], ondelete="CASCADE",
                                name=op.f("fk_immediate_alerts_digest_id_digests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_immediate_alerts")),
        sa.UniqueConstraint("post_id", name=op.f("uq_immediate_alerts_post_id")),
    )


def downgrade() -> None:
    op.drop_table("immediate_alerts")
    op.execute("DELETE FROM digests WHERE immediate")
    with op.batch_alter_table("digests") as batch:
        batch.drop_column("immediate")
