"""Graph crawl: drive_checkpoints (delta links, rounds, last sync) and drive_items (the crawler's item index).

Revision ID: 0004_crawl
Revises: 0003_invoices
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_crawl"
down_revision: str | Sequence[str] | None = "0003_invoices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = 255


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the crawl tables."""
    op.create_table(
        "drive_checkpoints",
        sa.Column("drive_id", sa.String(255), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("delta_link", sa.Text(), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("round_started_at", _timestamp(), nullable=True),
        sa.Column("last_sync_at", _timestamp(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error_type", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("drive_id", name="pk_drive_checkpoints"),
    )
    op.create_table(
        "drive_items",
        sa.Column("drive_id", sa.String(255), nullable=False),
        sa.Column("item_id", sa.String(255), nullable=False),
        sa.Column("document_id", sa.String(_ID), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.String(255), nullable=True),
        sa.Column("is_folder", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(255), nullable=True),
        sa.Column("ctag", sa.String(255), nullable=True),
        sa.Column("quick_xor_hash", sa.String(64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("mime_type", sa.String(255), nullable=True),
        sa.Column("web_url", sa.Text(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=True),
        sa.Column("modified_at", _timestamp(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seen_round", sa.Integer(), nullable=False),
        sa.Column("processed_ctag", sa.String(255), nullable=True),
        sa.Column("processed_hash", sa.String(64), nullable=True),
        sa.Column("processed_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("drive_id", "item_id", name="pk_drive_items"),
    )
    op.create_index("ix_drive_items_drive_id_seen_round", "drive_items", ["drive_id", "seen_round"])
    op.create_index("ix_drive_items_document_id", "drive_items", ["document_id"])


def downgrade() -> None:
    """Drop the crawl tables."""
    op.drop_table("drive_items")
    op.drop_table("drive_checkpoints")
