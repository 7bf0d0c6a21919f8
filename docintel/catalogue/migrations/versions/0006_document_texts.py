"""Kept text: the document_texts table (extracted text with personal data masked, catalogue.keep_text).

Revision ID: 0006_document_texts
Revises: 0005_signals
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_document_texts"
down_revision: str | Sequence[str] | None = "0005_signals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = 255


def upgrade() -> None:
    """Create the kept-text table."""
    op.create_table(
        "document_texts",
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_document_texts_document_id_documents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", name="pk_document_texts"),
    )


def downgrade() -> None:
    """Drop the kept-text table."""
    op.drop_table("document_texts")
