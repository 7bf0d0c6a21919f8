"""Governance signals: documents.minhash (text signature for near-duplicates) and the document_signals table.

Revision ID: 0005_signals
Revises: 0004_crawl
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_signals"
down_revision: str | Sequence[str] | None = "0004_crawl"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = 255


def upgrade() -> None:
    """Add the signature column and create the signals table."""
    # A nullable column without a default: SQLite and PostgreSQL add it without rewriting the table.
    op.add_column("documents", sa.Column("minhash", sa.LargeBinary(), nullable=True))
    op.create_table(
        "document_signals",
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("duplicate_group", sa.String(64), nullable=True),
        sa.Column("duplicates", sa.Integer(), nullable=True),
        sa.Column("near_group", sa.String(_ID), nullable=True),
        sa.Column("near_duplicates", sa.Integer(), nullable=True),
        sa.Column("wrong_place", sa.Text(), nullable=True),
        sa.Column("stale_years", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("document_id", name="pk_document_signals"),
    )
    op.create_index("ix_document_signals_duplicate_group", "document_signals", ["duplicate_group"])
    op.create_index("ix_document_signals_near_group", "document_signals", ["near_group"])


def downgrade() -> None:
    """Drop the signals table and the signature column."""
    op.drop_index("ix_document_signals_near_group", table_name="document_signals")
    op.drop_index("ix_document_signals_duplicate_group", table_name="document_signals")
    op.drop_table("document_signals")
    # A plain ALTER TABLE DROP COLUMN (SQLite >= 3.35): batch mode would copy and drop the documents table,
    # and the drop would cascade to pages, entities and findings.
    op.drop_column("documents", "minhash")
