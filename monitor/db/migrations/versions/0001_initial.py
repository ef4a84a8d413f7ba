"""The initial schema: sources, posts, predictions, entities, labels, models, crawl runs,
digests, digest membership and deliveries (see monitor/db/schema.py for why each exists).

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written to match schema.py exactly (tests/monitor/test_storage.py compares them on
SQLite and PostgreSQL). It uses plain SQLAlchemy types, not the application's, so it
stays valid whatever later code does: ``UTCDateTime`` is ``DateTime(timezone=True)``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _post_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["post_id"], ["posts.id"], name=op.f(f"fk_{table}_post_id_posts"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "sources",
        _id(),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("schedule", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "models",
        _id(),
        sa.Column("version", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("training_summary", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("version", name=op.f("uq_models_version")),
    )
    op.create_table(
        "digests",
        _id(),
        _timestamp("created_at"),
        _timestamp("since", nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
    )
    op.create_table(
        "crawl_runs",
        _id(),
        sa.Column("source_id", sa.Integer(), nullable=False),
        _timestamp("started_at"),
        _timestamp("finished_at", nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("new_posts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'partial', 'failed')",
            name=op.f("ck_crawl_runs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"],
            name=op.f("fk_crawl_runs_source_id_sources"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    op.create_index(
        op.f("ix_crawl_runs_source_id_started_at"), "crawl_runs", ["source_id", "started_at"]
    )
    op.create_table(
        "deliveries",
        _id(),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("sent_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["digests.id"],
            name=op.f("fk_deliveries_digest_id_digests"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("digest_id", "channel", name=op.f("uq_deliveries_digest_id_channel")),
    )
    op.create_table(
        "posts",
        _id(),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=256), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        _timestamp("posted_at", nullable=True),
        _timestamp("fetched_at"),
        _timestamp("first_seen_at"),
        _timestamp("updated_at"),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("simhash", sa.BigInteger(), nullable=True),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"],
            name=op.f("fk_posts_source_id_sources"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_posts_source_id_external_id")
        ),
    )
    op.create_index(op.f("ix_posts_first_seen_at"), "posts", ["first_seen_at"])
    op.create_index(op.f("ix_posts_text_hash"), "posts", ["text_hash"])
    op.create_table(
        "digest_posts",
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["digests.id"],
            name=op.f("fk_digest_posts_digest_id_digests"), ondelete="CASCADE",
        ),
        _post_fk("digest_posts"),
        sa.PrimaryKeyConstraint("digest_id", "post_id", name=op.f("pk_digest_posts")),
        sa.UniqueConstraint("post_id", name=op.f("uq_digest_posts_post_id")),
    )
    op.create_table(
        "entities",
        _id(),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        _post_fk("entities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entities")),
        sa.UniqueConstraint(
            "post_id", "kind", "value", name=op.f("uq_entities_post_id_kind_value")
        ),
    )
    op.create_index(op.f("ix_entities_kind_value"), "entities", ["kind", "value"])
    op.create_table(
        "labels",
        _id(),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("analyst", sa.String(length=128), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _post_fk("labels"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
    )
    op.create_index(op.f("ix_labels_post_id"), "labels", ["post_id"])
    op.create_table(
        "predictions",
        _id(),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("is_offer", sa.Boolean(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _post_fk("predictions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictions")),
        sa.UniqueConstraint(
            "post_id", "model_version", name=op.f("uq_predictions_post_id_model_version")
        ),
    )


def downgrade() -> None:
    for table in (
        "predictions", "labels", "entities", "digest_posts", "posts",
        "deliveries", "crawl_runs", "digests", "models", "sources",
    ):
        op.drop_table(table)
