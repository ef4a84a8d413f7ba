"""Leases on posts for `doxwatch label --exclusive`: one row per post a session holds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Written to match schema.py (``LabelLease``); tests/monitor/test_storage.py compares them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "label_leases",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("analyst", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"],
                                name=op.f("fk_label_leases_post_id_posts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_label_leases")),
    )


def downgrade() -> None:
    op.drop_table("label_leases")
