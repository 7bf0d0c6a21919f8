"""Migration triage: records managers' overrides of a document's recommendation (``triage_overrides``).

Revision ID: 0015_triage
Revises: 0014_shares
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_triage"
down_revision: str | Sequence[str] | None = "0014_shares"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = 255


def upgrade() -> None:
    """Create the triage_overrides table."""
    op.create_table(
        "triage_overrides",
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("recommendation", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("document_id", name="pk_triage_overrides"),
    )


def downgrade() -> None:
    """Drop the triage_overrides table."""
    op.drop_table("triage_overrides")
