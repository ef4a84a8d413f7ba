"""Incremental crawling and source health: what a crawl remembers for the next one
(``source_marks``), what a kind of source adds to a post (``posts.meta``), and the pages
and failures of each crawl run, and the threads it found unchanged.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Written to match schema.py; tests/monitor/test_storage.py compares them. Rows that exist
already get the defaults: no extra data, no pages, no errors.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_marks",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"],
                                name=op.f("fk_source_marks_source_id_sources"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("source_id", "key", name=op.f("pk_source_marks")),
    )
    op.add_column("posts", sa.Column("meta", sa.JSON(), nullable=False,
                                     server_default=sa.text("'{}'")))
    for column in ("pages", "errors", "unchanged"):
        op.add_column("crawl_runs", sa.Column(column, sa.Integer(), nullable=False,
                                              server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("unchanged")
        batch.drop_column("errors")
        batch.drop_column("pages")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("meta")
    op.drop_table("source_marks")
