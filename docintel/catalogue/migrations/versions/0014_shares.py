"""Network shares as a crawled source: the share_problems table (what a share threw, per folder or entry)
and an index of drive_items by parent folder.

Revision ID: 0014_shares
Revises: 0013_contracts
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_shares"
down_revision: str | Sequence[str] | None = "0013_contracts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the share_problems table."""
    op.create_table(
        "share_problems",
        sa.Column("drive_id", sa.String(255), nullable=False),
        sa.Column("folder_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("problem", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("drive_id", "folder_id", "name", "problem", name="pk_share_problems"),
    )
    op.create_index("ix_share_problems_drive_id_problem", "share_problems", ["drive_id", "problem"])
    # The crawler reads one folder's children per listing.
    op.create_index("ix_drive_items_drive_id_parent_id", "drive_items", ["drive_id", "parent_id"])


def downgrade() -> None:
    """Drop the share_problems table."""
    op.drop_index("ix_drive_items_drive_id_parent_id", table_name="drive_items")
    op.drop_index("ix_share_problems_drive_id_problem", table_name="share_problems")
    op.drop_table("share_problems")
